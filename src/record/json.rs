//! JSON log objects: the zap JSON lines of the OTel collector (`level`, `ts`, `msg`, `error`) and
//! the ECS NDJSON lines of Elastic Agent (`log.level`, `@timestamp`, `message`, `error.message`,
//! dotted or nested). Also owns what the other structured decoders share: reading a JSON object
//! with its members in line order ([`Fields`]) and writing members as ` key=value` text
//! ([`render`]). A `{` line that is a Docker json-file envelope is handed to [`super::docker`]; one
//! that is not a log (no message and no level) is left to the caller as plain text.

use std::borrow::Cow;
use std::fmt::{self, Write};

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{docker, parse_ts, Level, Part, Record, MAX_DEPTH};

/// Lines longer than this are not parsed as JSON (their text is the raw line). A real log line is
/// far shorter; the limit keeps a pathological line from costing several times its size in memory.
pub const MAX_JSON_LEN: usize = 1 << 20;

/// A member's value: a string (borrowed from the line when it holds no escape, which is most of
/// them), or anything else as `serde_json`'s [`Value`].
#[derive(Debug)]
pub(super) enum Member<'a> {
    /// A string.
    Str(Cow<'a, str>),
    /// A number, `true`, `false`, `null`, an array or an object.
    Other(Value),
}

impl Default for Member<'_> {
    fn default() -> Self {
        Member::Other(Value::Null)
    }
}

impl<'a> Member<'a> {
    /// The string, if it is one.
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Member::Str(s) => Some(s),
            Member::Other(_) => None,
        }
    }
}

impl From<Value> for Member<'_> {
    fn from(value: Value) -> Self {
        match value {
            Value::String(s) => Member::Str(Cow::Owned(s)),
            other => Member::Other(other),
        }
    }
}

/// The members of one JSON object, in the order the line has them (serde_json's own map would sort
/// them, and the text should read like the line). Names and strings are borrowed from the line
/// where they hold no escape: a decoded line allocated each of them before, and freeing them cost
/// as much as parsing.
#[derive(Debug, Default)]
pub(super) struct Fields<'a>(pub(super) Vec<(Cow<'a, str>, Member<'a>)>);

/// A member name, borrowed when it can be.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(MemberVisitor)
            .map(|m| match m {
                Member::Str(s) => Key(s),
                Member::Other(v) => Key(Cow::Owned(v.to_string())),
            })
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MemberVisitor)
    }
}

/// Reads a member's value: a string as it is, anything else as `serde_json` reads a [`Value`].
struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Member<'de>, E> {
        Ok(Member::Str(Cow::Owned(v)))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Member<'de>, E> {
        Ok(Member::Other(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Member<'de>, E> {
        Ok(Member::Other(Value::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Other(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Member<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Member::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Member::Other)
    }
}

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Fields<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8).min(64));
                while let Some((Key(key), value)) = map.next_entry::<Key<'de>, Member<'de>>()? {
                    members.push((key, value));
                }
                Ok(Fields(members))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

impl<'a> Fields<'a> {
    /// The index of the first member named by `names`, trying the names in order.
    fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|name| self.0.iter().position(|(key, _)| key == name))
    }

    /// Replaces nested objects by their members under dotted keys (`{"log":{"level":"x"}}` →
    /// `log.level`), as ECS readers see them.
    fn flatten(self) -> Fields<'a> {
        fn walk<'a>(
            prefix: Cow<'a, str>,
            value: Member<'a>,
            out: &mut Vec<(Cow<'a, str>, Member<'a>)>,
        ) {
            match value {
                Member::Other(Value::Object(map)) => {
                    for (key, value) in map {
                        walk(Cow::Owned(format!("{prefix}.{key}")), value.into(), out);
                    }
                }
                value => out.push((prefix, value)),
            }
        }
        let mut out = Vec::with_capacity(self.0.len() + 8);
        for (key, value) in self.0 {
            walk(key, value, &mut out);
        }
        Fields(out)
    }
}

/// Parses `s` as one JSON object (and nothing after it but white space).
pub(super) fn parse_object(s: &str) -> Option<Fields<'_>> {
    if s.len() > MAX_JSON_LEN {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Decodes a line that starts with `{`: Docker json-file, zap JSON or ECS.
pub(super) fn decode(line: &str, depth: usize) -> Option<Record<'static>> {
    let mut fields = parse_object(line)?;
    if depth < MAX_DEPTH {
        if let Some(record) = docker::decode(&mut fields, depth) {
            return Some(record);
        }
        if let Some(record) = super::journald::decode_json(&mut fields, depth) {
            return Some(record);
        }
    }
    log_object(fields, line.len())
}

/// Which member names one dialect uses for each role.
struct Dialect {
    message: &'static [&'static str],
    level: &'static [&'static str],
    ts: &'static [&'static str],
    error: &'static [&'static str],
    /// Members that never go into the text.
    skip: fn(&str) -> bool,
}

/// zap, and the Go JSON loggers that look like it (logrus, slog).
const ZAP: Dialect = Dialect {
    message: &["msg", "message"],
    level: &["level", "severity"],
    ts: &["ts", "time", "timestamp", "@timestamp"],
    error: &["error", "err"],
    skip: |key| matches!(key, "caller" | "stacktrace"),
};

/// Elastic Common Schema, after [`Fields::flatten`].
const ECS: Dialect = Dialect {
    message: &["message", "msg"],
    level: &["log.level", "level"],
    ts: &["@timestamp", "ts", "time", "timestamp"],
    error: &["error.message", "error"],
    skip: |key| {
        key == "ecs.version"
            || key == "error.stack_trace"
            || key.starts_with("log.origin")
            || key.starts_with("service.")
    },
};

/// A zap or ECS object → its record; `None` when the object is not a log line (neither a message
/// nor a level). `len`: the length of the line it was read from.
fn log_object(fields: Fields<'_>, len: usize) -> Option<Record<'static>> {
    let ecs = fields.0.iter().any(|(key, value)| {
        key == "@timestamp"
            || key == "ecs.version"
            || key.starts_with("log.")
            || (key == "log" && matches!(value, Member::Other(Value::Object(_))))
    });
    let (fields, dialect) = if ecs {
        (fields.flatten(), &ECS)
    } else {
        (fields, &ZAP)
    };

    let message = fields.find(dialect.message);
    let level_at = fields.find(dialect.level);
    let level = level_at
        .and_then(|i| fields.0[i].1.as_str())
        .and_then(Level::parse);
    if message.is_none() && level.is_none() {
        return None;
    }
    let ts_at = fields.find(dialect.ts);
    let ts = ts_at.and_then(|i| match &fields.0[i].1 {
        Member::Str(s) => parse_ts(s),
        Member::Other(Value::Number(n)) => parse_ts(&n.to_string()),
        Member::Other(_) => None,
    });
    let error = fields.find(dialect.error);

    let used = [message, level_at, ts_at, error];
    let others = fields
        .0
        .iter()
        .enumerate()
        .filter(|(i, (key, _))| !used.contains(&Some(*i)) && !(dialect.skip)(key))
        .map(|(_, (key, value))| (key.as_ref(), value));
    let text = render(
        message.map(|i| &fields.0[i].1),
        error.map(|i| &fields.0[i].1),
        others,
        len,
    );
    Some(Record {
        text: text.into(),
        level,
        ts,
        part: Part::Full,
    })
}

/// Writes the text of a structured line: the message, then ` error=<error>`, then each other
/// member as ` key=value` (strings unquoted, anything else as compact JSON). `len`: the length
/// of the JSON the members were read from, which the text seldom exceeds (`"key":"value",`
/// becomes ` key=value`, escapes are undone): room for it at once, rather than growing.
pub(super) fn render<'v, 'a: 'v>(
    message: Option<&Member<'_>>,
    error: Option<&Member<'_>>,
    others: impl Iterator<Item = (&'v str, &'v Member<'a>)>,
    len: usize,
) -> String {
    let mut text = String::with_capacity(len);
    if let Some(message) = message {
        push_value(&mut text, message);
    }
    if let Some(error) = error {
        push_pair(&mut text, "error", error);
    }
    for (key, value) in others {
        push_pair(&mut text, key, value);
    }
    text
}

fn push_pair(text: &mut String, key: &str, value: &Member<'_>) {
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(key);
    text.push('=');
    push_value(text, value);
}

fn push_value(text: &mut String, value: &Member<'_>) {
    match value {
        Member::Str(s) => text.push_str(s),
        // Value's Display is compact JSON; writing to a String cannot fail.
        Member::Other(other) => {
            let _ = write!(text, "{other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;
    use std::borrow::Cow;

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn zap_export_failure() {
        let line = br#"{"level":"error","ts":"2025-10-14T09:15:03.512Z","caller":"internal/queue_sender.go:49","msg":"Exporting failed. Dropping data.","otelcol.component.id":"otlphttp","otelcol.component.kind":"exporter","otelcol.signal":"logs","error":"no more retries left: failed to make an HTTP request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud on 127.0.0.11:53: no such host","dropped_items":12}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: failed to make an HTTP \
             request: Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": dial \
             tcp: lookup otel-auto-ops.eu-west-1.aws.svc.elastic.cloud on 127.0.0.11:53: no such \
             host otelcol.component.id=otlphttp otelcol.component.kind=exporter \
             otelcol.signal=logs dropped_items=12"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        assert_eq!(r.part, Part::Full);
    }

    #[test]
    fn zap_epoch_ts_and_value_kinds() {
        let line = br#"{"level":"info","ts":1760433303.512,"caller":"exporterhelper/retry_sender.go:118","msg":"Exporting failed. Will retry the request after interval.","kind":"exporter","data_type":"logs","name":"otlphttp","error":"Permanent error: rpc error: code = Unauthenticated desc = error exporting items, request to https://x/v1/logs responded with HTTP Status Code 401","interval":"5.3s","retry":true,"attempt":2.5,"nothing":null,"resource":{"service.name":"otelcol","service.version":"0.115.0"},"tags":["a",1],"stacktrace":"goroutine 1 [running]:\nmain.main()"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Exporting failed. Will retry the request after interval. error=Permanent error: rpc \
             error: code = Unauthenticated desc = error exporting items, request to \
             https://x/v1/logs responded with HTTP Status Code 401 kind=exporter data_type=logs \
             name=otlphttp interval=5.3s retry=true attempt=2.5 nothing=null \
             resource={\"service.name\":\"otelcol\",\"service.version\":\"0.115.0\"} \
             tags=[\"a\",1]"
        );
        assert_eq!(r.level, Some(Level::Info));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn zap_without_error_and_with_upper_case_level() {
        let r = decode(br#"{"level":"WARN","ts":"2025-10-14T09:15:03.512+02:00","msg":"Sending queue is full","queue_size":1000}"#);
        assert_eq!(r.text, "Sending queue is full queue_size=1000");
        assert_eq!(r.level, Some(Level::Warn));
        assert_eq!(r.ts, ts("2025-10-14T07:15:03.512Z"));
    }

    #[test]
    fn zap_dpanic_and_fatal_are_errors() {
        for level in ["dpanic", "panic", "fatal"] {
            let line = format!(r#"{{"level":"{level}","msg":"boom"}}"#);
            assert_eq!(decode(line.as_bytes()).level, Some(Level::Error));
        }
    }

    #[test]
    fn escapes_are_decoded() {
        let r = decode(br#"{"level":"error","msg":"failed to register Cloud Connected Mode: Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": x509: certificate signed by unknown authority \u003cnil\u003e \u0026 tab\there"}"#);
        assert_eq!(
            r.text,
            "failed to register Cloud Connected Mode: Post \
             \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": x509: certificate \
             signed by unknown authority <nil> & tab\there"
        );
    }

    #[test]
    fn ecs_dotted() {
        let line = br#"{"log.level":"error","@timestamp":"2025-10-14T09:15:03.512Z","log.origin":{"function":"github.com/elastic/beats/v7/metricbeat/mb/module.(*metricSetWrapper).fetch","file.name":"module/wrapper.go","file.line":256},"message":"Error fetching data for metricset autoops_es.cluster_health: failed to get cluster info from cluster, cluster_health metricset HTTP error 401 in : 401 Unauthorized","service.name":"metricbeat","error.message":"HTTP error 401 in : 401 Unauthorized","component":{"binary":"metricbeat","dataset":"elastic_agent.metricbeat","id":"autoops_es-default","type":"autoops_es"},"log":{"source":"autoops_es-default"},"log.logger":"autoops_es","ecs.version":"1.6.0"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "Error fetching data for metricset autoops_es.cluster_health: failed to get cluster \
             info from cluster, cluster_health metricset HTTP error 401 in : 401 Unauthorized \
             error=HTTP error 401 in : 401 Unauthorized component.binary=metricbeat \
             component.dataset=elastic_agent.metricbeat component.id=autoops_es-default \
             component.type=autoops_es log.source=autoops_es-default log.logger=autoops_es"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn ecs_nested() {
        let line = br#"{"@timestamp":"2025-10-14T09:15:03.512Z","log":{"level":"error","logger":"autoops_es","origin":{"file":{"line":74,"name":"ccm/register.go"}}},"message":"failed to register Cloud Connected Mode","error":{"message":"cluster license type is not supported: basic","type":"*errors.errorString","stack_trace":"goroutine 7"},"service":{"name":"metricbeat"},"ecs":{"version":"1.6.0"}}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "failed to register Cloud Connected Mode error=cluster license type is not supported: \
             basic log.logger=autoops_es error.type=*errors.errorString"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn ecs_error_as_string_and_info_level() {
        let r = decode(br#"{"log.level":"info","@timestamp":"2025-10-14T09:15:03.512Z","message":"Registered cluster abc for Cloud Connect: https://cloud.elastic.co","ecs.version":"1.6.0"}"#);
        assert_eq!(
            r.text,
            "Registered cluster abc for Cloud Connect: https://cloud.elastic.co"
        );
        assert_eq!(r.level, Some(Level::Info));
        let r = decode(br#"{"log.level":"warn","message":"retrying","error":"EOF"}"#);
        assert_eq!(r.text, "retrying error=EOF");
        assert_eq!(r.level, Some(Level::Warn));
    }

    #[test]
    fn slog_style() {
        let r = decode(br#"{"time":"2025-10-14T09:15:03.512Z","level":"ERROR","msg":"request failed","err":"EOF","url":"http://es:9200"}"#);
        assert_eq!(r.text, "request failed error=EOF url=http://es:9200");
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn level_without_message() {
        let r = decode(br#"{"level":"error","error":"connection refused"}"#);
        assert_eq!(r.text, "error=connection refused");
        assert_eq!(r.level, Some(Level::Error));
    }

    #[test]
    fn json_that_is_not_a_log_is_its_own_text() {
        for line in [
            r#"{"foo":1}"#,
            r#"{"level":42,"x":1}"#,
            r#"{}"#,
            r#"{"cluster_name":"prod","status":"green"}"#,
        ] {
            let r = decode(line.as_bytes());
            assert_eq!(r, Record::plain(line));
            assert!(matches!(r.text, Cow::Borrowed(_)));
        }
    }

    #[test]
    fn truncated_or_invalid_json_is_its_own_text() {
        for line in [
            r#"{"level":"error","msg":"Exporting failed. Dropp"#,
            r#"{"level":"error","msg":"x"} trailing"#,
            r#"{"level":"error","msg":"x",}"#,
            r#"{"level":"error","msg":"\ud800"}"#,
            "{",
            "{{{{",
            "[1,2]",
        ] {
            assert_eq!(decode(line.as_bytes()), Record::plain(line), "{line}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let line = format!("{}{}", "{\"a\":".repeat(10_000), "1");
        assert_eq!(decode(line.as_bytes()).text, line);
    }

    #[test]
    fn trailing_white_space_is_fine() {
        let r = decode(b"{\"level\":\"info\",\"msg\":\"ok\"}  ");
        assert_eq!(r.text, "ok");
    }

    #[test]
    fn duplicate_keys_keep_the_first() {
        let r = decode(br#"{"level":"info","msg":"a","msg":"b"}"#);
        assert_eq!(r.text, "a msg=b");
    }

    #[test]
    fn names_and_strings_without_escapes_are_borrowed_from_the_line() {
        let fields =
            parse_object(r#"{"msg":"plain","err\u006f":"a\"b","n":1,"o":{"k":"v"}}"#).unwrap();
        assert!(matches!(fields.0[0].0, Cow::Borrowed("msg")));
        assert!(matches!(fields.0[0].1, Member::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&fields.0[1].0, Cow::Owned(k) if k == "erro"));
        assert!(matches!(&fields.0[1].1, Member::Str(Cow::Owned(v)) if v == "a\"b"));
        assert!(matches!(&fields.0[2].1, Member::Other(Value::Number(n)) if n.as_u64() == Some(1)));
        assert!(matches!(&fields.0[3].1, Member::Other(Value::Object(o)) if o["k"] == "v"));
    }

    #[test]
    fn parse_object_keeps_order() {
        let fields = parse_object(r#"{"z":1,"a":{"y":2,"b":3},"m":"s"}"#).unwrap();
        let keys: Vec<_> = fields.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["z", "a", "m"]);
        let flat = fields.flatten();
        let keys: Vec<_> = flat.0.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["z", "a.b", "a.y", "m"]);
        assert!(parse_object("[]").is_none());
        assert!(parse_object("1").is_none());
    }
}
