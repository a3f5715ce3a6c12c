//! zap's console encoding (the OTel collector's default, Beats' non-JSON output): tab-separated
//! `<time>\t<level>\t[<logger>\t][<caller>\t]<message>[\t<JSON fields>]`, for example
//! `2025-10-14T09:15:03.512Z\terror\texporterhelper/queue_sender.go:101\tExporting failed. Dropping
//! data.\t{"kind": "exporter", "error": "…", "dropped_items": 12}`. The logger name and caller are
//! optional; the caller is dropped, a bracketed logger name (Beats' `[autoops_es.node_stats]`)
//! becomes ` log.logger=…` at the end of the text, as the ECS logger field of Beats' JSON lines
//! does (it says which module failed); the JSON tail becomes ` error=…` and ` key=value` as for
//! zap JSON. A
//! `<time>\t<text>` line whose second field is not a level keeps the time and the rest as text.

use std::borrow::Cow;

use super::json::{self, Fields, Member};
use super::{parse_ts, Level, Part, Record};

/// Decodes a zap console line, or `None` when `line` does not start with a timestamp and a tab.
pub(super) fn decode(line: &str) -> Option<Record<'_>> {
    // The time is short and has no space: look for its tab among the first bytes only.
    let head = &line.as_bytes()[..line.len().min(64)];
    let tab = memchr::memchr2(b'\t', b' ', head).filter(|&i| head[i] == b'\t')?;
    let (time, rest) = (&line[..tab], &line[tab + 1..]);
    let ts = Some(parse_ts(time)?);
    let (level, body) = rest.split_once('\t').unwrap_or((rest, ""));
    let Some(level) = Level::parse(level) else {
        return Some(Record {
            text: Cow::Borrowed(rest),
            level: None,
            ts,
            part: Part::Full,
        });
    };
    let (body, fields) = split_fields(body);
    let (message, logger) = message(body);
    let text = match fields {
        None => Cow::Borrowed(message),
        Some(fields) => {
            let error = fields.0.iter().position(|(key, _)| key == "error");
            let others = fields
                .0
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != error)
                .map(|(_, (key, value))| (key.as_ref(), value));
            let message = Member::Str(Cow::Borrowed(message));
            let message = (!body.is_empty()).then_some(&message);
            let len = body.len();
            Cow::Owned(json::render(
                message,
                error.map(|i| &fields.0[i].1),
                others,
                len,
            ))
        }
    };
    let text = match logger {
        Some(logger) => {
            let mut text = text.into_owned();
            text.push_str(" log.logger=");
            text.push_str(logger);
            Cow::Owned(text)
        }
        None => text,
    };
    Some(Record {
        text,
        level: Some(level),
        ts,
        part: Part::Full,
    })
}

/// Splits the JSON fields zap appends after the last tab, when there are some.
fn split_fields(body: &str) -> (&str, Option<Fields<'_>>) {
    if !body.ends_with('}') {
        return (body, None);
    }
    // A JSON tail holds no raw tab (JSON escapes them), so the last tab before `{` starts it.
    let (head, tail) = match body.rfind("\t{") {
        Some(i) => (&body[..i], &body[i + 1..]),
        None if body.starts_with('{') => ("", body),
        None => return (body, None),
    };
    match json::parse_object(tail) {
        Some(fields) => (head, Some(fields)),
        None => (body, None),
    }
}

/// The message among the tab-separated fields after the level, and the first bracketed logger
/// name before it: logger names (`[autoops_es]`, `otelcol`) and callers (`module/wrapper.go:256`)
/// before the message are skipped; tabs inside the message are kept.
fn message(body: &str) -> (&str, Option<&str>) {
    let mut rest = body;
    let mut logger = None;
    while let Some((head, tail)) = rest.split_once('\t') {
        let next = tail.split('\t').next().unwrap_or("");
        let bracketed = head.len() > 2 && head.starts_with('[') && head.ends_with(']');
        let word = !head.is_empty() && !head.contains(' ');
        if word && (bracketed || is_caller(head) || is_caller(next)) {
            if bracketed && logger.is_none() {
                logger = Some(&head[1..head.len() - 1]);
            }
            rest = tail;
        } else {
            break;
        }
    }
    (rest, logger)
}

/// `path/file.go:123`: no spaces, a non-empty path, a colon and a line number.
fn is_caller(s: &str) -> bool {
    match s.rsplit_once(':') {
        Some((path, line)) => {
            !path.is_empty()
                && !path.contains(' ')
                && !line.is_empty()
                && line.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn collector_export_failure() {
        let line = b"2025-10-14T09:15:03.512Z\terror\texporterhelper/queue_sender.go:101\tExporting failed. Dropping data.\t{\"kind\": \"exporter\", \"data_type\": \"logs\", \"name\": \"otlphttp\", \"error\": \"no more retries left: failed to make an HTTP request: Post \\\"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\\\": proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused\", \"dropped_items\": 12}";
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: failed to make an HTTP \
             request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": \
             proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused kind=exporter \
             data_type=logs name=otlphttp dropped_items=12"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn without_caller_and_without_fields() {
        let r = decode(b"2025-10-14T09:15:03.512Z\tinfo\tEverything is ready. Begin running and processing data.");
        assert_eq!(
            r.text,
            "Everything is ready. Begin running and processing data."
        );
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!(r.level, Some(Level::Info));
        let r = decode(b"2025-10-14T09:15:03.512Z\tinfo\tservice@v0.115.0/service.go:261\tEverything is ready. Begin running and processing data.");
        assert_eq!(
            r.text,
            "Everything is ready. Begin running and processing data."
        );
    }

    #[test]
    fn without_caller_with_fields() {
        let r = decode(b"2025-10-14T09:15:03.512Z\twarn\tSending queue is full\t{\"otelcol.component.id\": \"otlphttp\"}");
        assert_eq!(
            r.text,
            "Sending queue is full otelcol.component.id=otlphttp"
        );
        assert_eq!(r.level, Some(Level::Warn));
    }

    #[test]
    fn beats_console_with_logger_name_and_upper_case_level() {
        let r = decode(b"2025-10-14T11:15:03.512+0200\tERROR\t[autoops_es]\tmodule/wrapper.go:256\tError fetching data for metricset autoops_es.cluster_info: HTTP error 401 in : 401 Unauthorized");
        // The logger names the module: it goes on as a field, as in Beats' JSON lines.
        assert_eq!(
            r.text,
            "Error fetching data for metricset autoops_es.cluster_info: HTTP error 401 in : 401 \
             Unauthorized log.logger=autoops_es"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        let r = decode(b"2025-10-14T09:15:03.512Z\tINFO\totelcol\tservice/service.go:12\tStarting");
        assert_eq!(r.text, "Starting");
    }

    #[test]
    fn a_beats_module_logger_is_evidence_of_the_cluster_connection() {
        let line = b"2025-10-14T09:15:03.512Z\tERROR\t[autoops_es.node_stats]\tmetricset/metricset.go:88\trequest failed: dial tcp 10.0.0.9:8080: connect: connection refused";
        let r = decode(line);
        assert_eq!(
            r.text,
            "request failed: dial tcp 10.0.0.9:8080: connect: connection refused \
             log.logger=autoops_es.node_stats"
        );
        assert_eq!(
            crate::matcher::component_from_evidence(&r.text),
            crate::rules::Component::Cluster
        );
        // Another module's logger is no evidence.
        let r = decode(b"2025-10-14T09:15:03.512Z\tERROR\t[publisher_pipeline_output]\tpipeline/output.go:100\tFailed to connect: connection refused");
        assert_eq!(
            crate::matcher::component_from_evidence(&r.text),
            crate::rules::Component::Unknown
        );
    }

    #[test]
    fn coloured_level_and_epoch_time() {
        let r = decode(b"1760433303.512\t\x1b[31mERROR\x1b[0m\tmain.go:12\tboom");
        assert_eq!(r.text, "boom");
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn tabs_inside_the_message_are_kept() {
        let r = decode(b"2025-10-14T09:15:03.512Z\terror\tx.go:1\tcolumn a\tcolumn b");
        assert_eq!(r.text, "column a\tcolumn b");
    }

    #[test]
    fn a_tail_that_is_not_json_stays_in_the_message() {
        let r = decode(b"2025-10-14T09:15:03.512Z\terror\tx.go:1\tbad\t{not json}");
        assert_eq!(r.text, "bad\t{not json}");
        let r = decode(b"2025-10-14T09:15:03.512Z\terror\tx.go:1\tcut\t{\"error\": \"tru");
        assert_eq!(r.text, "cut\t{\"error\": \"tru");
    }

    #[test]
    fn only_fields() {
        let r = decode(b"2025-10-14T09:15:03.512Z\terror\t{\"error\": \"EOF\"}");
        assert_eq!(r.text, "error=EOF");
    }

    #[test]
    fn time_then_text() {
        let r = decode(b"2025-10-14T09:15:03.512Z\tsomething happened");
        assert_eq!(r.text, "something happened");
        assert_eq!(r.level, None);
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        let r = decode(b"2025-10-14T09:15:03.512Z\terror");
        assert_eq!((r.text.as_ref(), r.level), ("", Some(Level::Error)));
    }

    #[test]
    fn not_console() {
        for line in ["12\tapples", "1-2\tx", "2025-10-14\terror\tx"] {
            assert_eq!(decode(line.as_bytes()), Record::plain(line));
        }
    }

    #[test]
    fn callers() {
        assert!(is_caller("exporterhelper/queue_sender.go:101"));
        assert!(is_caller("service@v0.115.0/service.go:261"));
        assert!(!is_caller("Exporting failed: 12"));
        assert!(!is_caller("x.go:"));
        assert!(!is_caller(":12"));
    }
}
