//! Docker's json-file log driver: `{"log":"<inner line>\n","stream":"stderr","time":"<RFC 3339>"}`,
//! the lines of `/var/lib/docker/containers/*/*-json.log`. serde_json has already undone the JSON
//! escapes (`\u003c`, `\"`); this file takes the `log` string, drops its line terminator and
//! decodes it as a line of its own. The inner line's timestamp and level win; the envelope's `time`
//! stands in when the inner line has none. `stream` says nothing about the level (Go programs log
//! everything to stderr). An entry whose `log` has no line terminator is one part of a line Docker
//! split at 16 KiB: it is marked [`Part::Partial`](super::Part) for the scanner to join.

use super::json::{Fields, Member};
use super::{decode_owned, parse_rfc3339, Record};

/// Decodes `fields` when they are a Docker json-file envelope: a string `log` beside a `stream` or
/// a `time`. Anything else is left untouched for the JSON log decoders.
pub(super) fn decode(fields: &mut Fields<'_>, depth: usize) -> Option<Record<'static>> {
    let mut log = None;
    let mut time = None;
    let mut stream = false;
    for (i, (key, value)) in fields.0.iter().enumerate() {
        match (key.as_ref(), value) {
            ("log", Member::Str(_)) => log = Some(i),
            ("time", Member::Str(t)) => time = Some(t.as_ref()),
            ("stream", _) => stream = true,
            _ => {}
        }
    }
    let log = log?;
    if time.is_none() && !stream {
        return None;
    }
    let ts = time.and_then(parse_rfc3339);
    let Member::Str(inner) = std::mem::take(&mut fields.0[log].1) else {
        return None;
    };
    let mut inner = inner.into_owned();
    // Docker splits a line longer than 16 KiB into entries whose `log` has no line terminator:
    // all but the last are parts of one line.
    let partial = !inner.ends_with('\n');
    let len = inner.trim_end_matches(['\n', '\r']).len();
    inner.truncate(len);
    let mut record = decode_owned(inner, depth + 1);
    if record.ts.is_none() {
        record.ts = ts;
    }
    if partial {
        record.part = super::Part::Partial;
    }
    Some(record)
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Level, Part};

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn plain_inner_line() {
        let r = decode(br#"{"log":"Everything is ready. Begin running and processing data.\n","stream":"stderr","time":"2025-10-14T09:15:03.512345678Z"}"#);
        assert_eq!(
            r.text,
            "Everything is ready. Begin running and processing data."
        );
        assert_eq!(r.level, None, "stderr is not a level");
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512345678Z"));
        assert_eq!(r.part, Part::Full);
    }

    #[test]
    fn zap_json_inside() {
        let line = br#"{"log":"{\"level\":\"error\",\"ts\":\"2025-10-14T09:15:03.512Z\",\"caller\":\"internal/queue_sender.go:49\",\"msg\":\"Exporting failed. Dropping data.\",\"otelcol.component.id\":\"otlphttp\",\"error\":\"no more retries left: failed to make an HTTP request: Post \\\"https://otel-collector.auto-ops.eu-west-1.aws.cloud.elastic.co:4318/v1/logs\\\": dial tcp 34.1.2.3:4318: i/o timeout\",\"dropped_items\":12}\n","stream":"stderr","time":"2025-10-14T09:15:03.600000000Z"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: failed to make an HTTP \
             request: Post \
             \"https://otel-collector.auto-ops.eu-west-1.aws.cloud.elastic.co:4318/v1/logs\": dial \
             tcp 34.1.2.3:4318: i/o timeout otelcol.component.id=otlphttp dropped_items=12"
        );
        assert_eq!(r.level, Some(Level::Error));
        // The inner timestamp wins over the envelope's.
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn zap_console_inside() {
        let line = br#"{"log":"2025-10-14T09:15:03.512Z\tinfo\texporterhelper/retry_sender.go:118\tExporting failed. Will retry the request after interval.\t{\"kind\": \"exporter\", \"error\": \"Post \\\"https://x/v1/logs\\\": EOF\", \"interval\": \"7.1s\"}\n","stream":"stdout","time":"2025-10-14T09:15:03.6Z"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Will retry the request after interval. error=Post \
             \"https://x/v1/logs\": EOF kind=exporter interval=7.1s"
        );
        assert_eq!(r.level, Some(Level::Info));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn html_escapes() {
        let r = decode(br#"{"log":"x509: certificate is valid for \u003clocalhost\u003e, not es01 \u0026 more\r\n","stream":"stderr","time":"2025-10-14T09:15:03Z"}"#);
        assert_eq!(
            r.text,
            "x509: certificate is valid for <localhost>, not es01 & more"
        );
    }

    #[test]
    fn envelope_time_is_used_when_the_inner_line_has_none() {
        let r = decode(br#"{"log":"{\"level\":\"warn\",\"msg\":\"slow\"}\n","stream":"stderr","time":"2025-10-14T09:15:03.512345678Z"}"#);
        assert_eq!(r.text, "slow");
        assert_eq!(r.level, Some(Level::Warn));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512345678Z"));
    }

    #[test]
    fn attrs_and_key_order_do_not_matter() {
        let r = decode(br#"{"stream":"stderr","attrs":{"tag":"agent"},"time":"2025-10-14T09:15:03Z","log":"hello\n"}"#);
        assert_eq!(r.text, "hello");
        assert_eq!(r.ts, ts("2025-10-14T09:15:03Z"));
    }

    #[test]
    fn empty_and_partial_payloads() {
        let r = decode(br#"{"log":"\n","stream":"stdout","time":"2025-10-14T09:15:03Z"}"#);
        assert_eq!(r.text, "");
        // A payload cut at 16 KiB by Docker has no newline and no closing brace: plain text.
        let r = decode(br#"{"log":"{\"level\":\"error\",\"msg\":\"cut","stream":"stderr","time":"2025-10-14T09:15:03Z"}"#);
        assert_eq!(r.text, r#"{"level":"error","msg":"cut"#);
        assert_eq!(r.level, None);
    }

    #[test]
    fn not_docker() {
        // A string `log` alone, or a `log` that is not a string, is not this envelope.
        let r = decode(br#"{"log":"x"}"#);
        assert_eq!(r.text, r#"{"log":"x"}"#);
        let r = decode(br#"{"log":{"level":"error"},"message":"m"}"#);
        assert_eq!(r.text, "m");
        assert_eq!(r.level, Some(Level::Error));
    }

    #[test]
    fn truncated_envelope() {
        let line = br#"{"log":"Exporting failed. Dropping data.\n","stream":"std"#;
        assert_eq!(decode(line).text, std::str::from_utf8(line).unwrap());
    }
}
