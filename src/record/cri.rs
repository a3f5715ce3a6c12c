//! The CRI log format of containerd and CRI-O (Kubernetes' `/var/log/pods/…/*.log`):
//! `<RFC 3339> <stdout|stderr> <F|P> <inner line>`. `P` marks one part of a line the runtime split;
//! the record says so ([`Part::Partial`]) and joining the parts is the caller's business. The inner
//! line is decoded as a line of its own; its timestamp wins over the runtime's.

use super::{parse_rfc3339, unwrap_inner, Part, Record};

/// Decodes a CRI line, or `None` when `line` does not have the CRI shape.
pub(super) fn decode(line: &str, depth: usize) -> Option<Record<'_>> {
    let (time, rest) = line.split_once(' ')?;
    let (stream, rest) = rest.split_once(' ')?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    // The tag is `F` or `P`, possibly followed by more `:`-separated tags; the content may be
    // empty, and then the separator before it may be missing too.
    let (tags, inner) = rest.split_once(' ').unwrap_or((rest, ""));
    let part = match tags.split(':').next() {
        Some("F") => Part::Full,
        Some("P") => Part::Partial,
        _ => return None,
    };
    let ts = parse_rfc3339(time)?;
    let mut record = unwrap_inner(inner, depth, Some(ts));
    record.part = part;
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Level};
    use super::*;
    use std::borrow::Cow;

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn plain_inner_line_is_borrowed() {
        let r = decode(b"2025-10-14T09:15:03.512345678Z stderr F dial tcp 10.0.0.5:9200: connect: connection refused");
        assert_eq!(
            r.text,
            "dial tcp 10.0.0.5:9200: connect: connection refused"
        );
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512345678Z"));
        assert_eq!(r.level, None);
        assert_eq!(r.part, Part::Full);
    }

    #[test]
    fn zap_json_inside() {
        let line = br#"2025-10-14T09:15:03.600000000Z stderr F {"level":"error","ts":1760433303.512,"caller":"internal/queue_sender.go:49","msg":"Exporting failed. Dropping data.","otelcol.component.id":"otlphttp","error":"no more retries left: rpc error: code = Unauthenticated desc = error exporting items, request to https://otel-auto-ops.us-east-1.aws.svc.elastic.cloud/v1/logs responded with HTTP Status Code 401","dropped_items":3}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: rpc error: code = \
             Unauthenticated desc = error exporting items, request to \
             https://otel-auto-ops.us-east-1.aws.svc.elastic.cloud/v1/logs responded with HTTP \
             Status Code 401 otelcol.component.id=otlphttp dropped_items=3"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        assert_eq!(r.part, Part::Full);
    }

    #[test]
    fn ecs_inside_with_offset_time() {
        let line = br#"2025-10-14T11:15:03.512345678+02:00 stdout F {"log.level":"error","@timestamp":"2025-10-14T09:15:03.400Z","message":"failed to register Cloud Connected Mode","error.message":"dial tcp: lookup api.elastic-cloud.com: i/o timeout"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "failed to register Cloud Connected Mode error=dial tcp: lookup api.elastic-cloud.com: \
             i/o timeout"
        );
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.400Z"));
    }

    #[test]
    fn zap_console_inside() {
        let r = decode(b"2025-10-14T09:15:03.600000000Z stderr F 2025-10-14T09:15:03.512Z\terror\texporterhelper/queue_sender.go:101\tExporting failed. Dropping data.\t{\"kind\": \"exporter\", \"error\": \"no more retries left: EOF\", \"dropped_items\": 12}");
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: EOF kind=exporter \
             dropped_items=12"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn partial_lines() {
        let r =
            decode(br#"2025-10-14T09:15:03.512Z stdout P {"level":"error","msg":"Exporting fail"#);
        assert_eq!(r.part, Part::Partial);
        assert_eq!(r.text, r#"{"level":"error","msg":"Exporting fail"#);
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        let r = decode(br#"2025-10-14T09:15:03.512Z stdout F ed. Dropping data."}"#);
        assert_eq!(r.part, Part::Full);
        assert_eq!(r.text, r#"ed. Dropping data."}"#);
    }

    #[test]
    fn empty_content_and_extra_tags() {
        let r = decode(b"2025-10-14T09:15:03.512Z stdout F");
        assert_eq!((r.text.as_ref(), r.part), ("", Part::Full));
        let r = decode(b"2025-10-14T09:15:03.512Z stdout F ");
        assert_eq!(r.text, "");
        let r = decode(b"2025-10-14T09:15:03.512Z stderr P:x hello");
        assert_eq!((r.text.as_ref(), r.part), ("hello", Part::Partial));
    }

    #[test]
    fn not_cri() {
        // Wrong stream or tag: `docker logs -t` reading of the same prefix.
        let r = decode(b"2025-10-14T09:15:03.512Z stdin F hello");
        assert_eq!(r.text, "stdin F hello");
        let r = decode(b"2025-10-14T09:15:03.512Z stderr X hello");
        assert_eq!(r.text, "stderr X hello");
        let r = decode(b"not-a-time stderr F hello");
        assert_eq!(r.text, "not-a-time stderr F hello");
        assert_eq!(r.ts, None);
    }
}
