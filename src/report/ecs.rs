//! `--format ecs`: the NDJSON events of a run as Elastic Common Schema 9.x documents, one per
//! line, for Filebeat, Elastic Agent or an OpenTelemetry `filelog` receiver to ship into
//! Elasticsearch. The NDJSON printer writes them through [`super::observe::Schema::Ecs`]; this
//! module only says what each event is in ECS terms.
//!
//! Every document has `@timestamp`, `ecs.version`, `event.kind`, `event.category: [network]`,
//! `event.type`, `event.outcome`, `event.action`, `event.dataset: faultline.finding` and
//! `observer.*` (faultline itself; `agent.*` belongs to the shipper). A failing line (`match`,
//! `event.kind: event`) and an alert of `watch` (`open`, `repeat`, `recovered`; `event.kind:
//! alert`) also carry `rule.*`, `error.*`, `event.severity`/`reason`/`reference`,
//! `service.target.type` (the connection: `cluster`, `registration` or `export`; none for the
//! agent itself, which is no connection, nor for a connection the line does not name), `url.full` and `server.*` (only from values that parse
//! as an http(s) URL, a host name or address, and a port), `log.file.path`, `event.original` and
//! `labels` (the values captured from the line). What ECS has no field for (the fix, its steps,
//! its check command) is under `faultline.*`. The closing `summary` and a `problem` (an input
//! that could not be read) are `event.kind: event`.
//!
//! Times: `@timestamp` is the log's own time of the line an event is about (the failing line;
//! for an alert, the line that opened it, the latest failing line for a digest, the success
//! that recovered it), and the time faultline writes the event only where that line had none,
//! and for the `summary` and `problem` events, which are about the run. So a scan of a bundle
//! puts its events at the times they happened, and a scan of the same input gives the same
//! documents but for those two events. Every date is UTC to the millisecond
//! (`2025-10-14T09:00:01.000Z`), the layout the shipping recipes of `deploy/` parse.
//!
//! Everything taken from a log is masked ([`crate::mask`]) before it gets here, and JSON
//! escaping keeps control characters out of the output.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Map, Value};

use super::{Document, FindingDoc, ProblemDoc};
use crate::findings::alert::{Alert, AlertKind};
use crate::findings::Aggregation;
use crate::rules::{fill_template, Component, RuleSet, Severity};
use crate::scan::MatchEvent;

/// The ECS release the documents follow (and are tested against).
pub(crate) const ECS_VERSION: &str = "9.4.0";
/// `event.dataset` of every document.
pub(crate) const DATASET: &str = "faultline.finding";

/// A document being built: dotted paths become nested objects, absent values are left out.
struct Doc(Map<String, Value>);

impl Doc {
    /// A document with the fields every event has.
    fn new(
        timestamp: Option<jiff::Timestamp>,
        kind: &str,
        category: &str,
        kind_type: &str,
        action: &str,
    ) -> Doc {
        let mut d = Doc(Map::new());
        d.put(
            "@timestamp",
            date(timestamp.unwrap_or_else(jiff::Timestamp::now)),
        );
        d.put("ecs.version", ECS_VERSION);
        d.put("event.kind", kind);
        d.put("event.category", vec![category]);
        d.put("event.type", vec![kind_type]);
        d.put("event.action", action);
        d.put("event.dataset", DATASET);
        d.put("event.module", "faultline");
        d.put("observer.product", "faultline");
        d.put("observer.type", "log-analyzer");
        d.put("observer.version", env!("CARGO_PKG_VERSION"));
        d
    }

    /// Sets the field at a dotted `path` (`event.kind`), unless `value` is null.
    fn put(&mut self, path: &str, value: impl Into<Value>) {
        let value = value.into();
        if value.is_null() {
            return;
        }
        let mut map = &mut self.0;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return;
            }
            let next = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            map = match next {
                Value::Object(m) => m,
                _ => unreachable!("{path}: a field and an object of the same name"),
            };
        }
    }

    fn write(self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, &Value::Object(self.0))?;
        out.write_all(b"\n")
    }
}

/// A date as every ECS date here is written: UTC, to the millisecond (`2025-10-14T09:00:01.000Z`),
/// one layout that Filebeat, Elastic Agent and the collector's timestamp parser all read.
pub(crate) fn date(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// ECS `event.severity`: the syslog numbers (3 error, 4 warning, 6 informational).
fn severity_number(s: Severity) -> u8 {
    match s {
        Severity::Error => 3,
        Severity::Warning => 4,
        Severity::Info => 6,
    }
}

/// Where a connection goes, from values captured in a log: only what parses.
#[derive(Debug, PartialEq)]
struct Endpoint {
    /// The URL, without user information.
    url: Option<String>,
    host: String,
    port: Option<u16>,
}

/// A host name, or an IPv4 or IPv6 address (IPv6 without its brackets).
fn valid_host(host: &str) -> Option<&str> {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok().then_some(v6);
    }
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && !host.starts_with(['.', '-']);
    ok.then_some(host)
}

/// A TCP port: digits only, 1 to 65535.
fn valid_port(port: &str) -> Option<u16> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    port.parse::<u16>().ok().filter(|p| *p > 0)
}

/// Parses an `http(s)://host[:port][/path]` URL captured from a log. User information is
/// dropped; a URL without a port gets its scheme's (the port the connection goes to). Anything
/// else — another scheme, a bad host or port, spaces, quotes or control characters — is no URL.
fn parse_url(url: &str) -> Option<Endpoint> {
    if url.len() > 2048
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '<' | '>'))
    {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.rfind(':') {
        // A colon inside brackets belongs to an IPv6 address.
        Some(i) if !hostport[i..].contains(']') => {
            (&hostport[..i], Some(valid_port(&hostport[i + 1..])?))
        }
        _ => (hostport, None),
    };
    let host = valid_host(host)?;
    Some(Endpoint {
        url: Some(format!("{scheme}://{hostport}{path}")),
        host: host.to_string(),
        port: Some(port.unwrap_or(default_port)),
    })
}

/// The endpoint of `component`'s connection, from the values captured for it.
fn endpoint(component: Component, values: &BTreeMap<String, String>) -> Option<Endpoint> {
    let url_name = match component {
        Component::Cluster => "es_url",
        Component::Registration => "api_url",
        Component::Export => "otel_url",
        Component::Agent | Component::Unknown => return None,
    };
    if let Some(e) = values.get(url_name).and_then(|u| parse_url(u)) {
        return Some(e);
    }
    if component != Component::Cluster {
        return None;
    }
    let host = valid_host(values.get("es_host")?)?;
    Some(Endpoint {
        url: None,
        host: host.to_string(),
        port: values.get("es_port").and_then(|p| valid_port(p)),
    })
}

/// What a `match` event and an alert say about a finding.
struct About<'a> {
    rule: &'a str,
    title: &'a str,
    ruleset: Option<&'a str>,
    component: Component,
    cause: &'a str,
    code: Option<&'a str>,
    severity: Severity,
    fix: Option<&'a str>,
    steps: &'a [String],
    check: Option<String>,
    expect: Option<&'a str>,
    docs: Option<&'a str>,
    values: &'a BTreeMap<String, String>,
    source: &'a str,
    line: u64,
    /// The decoded message, masked.
    message: Option<&'a str>,
    /// The line as read, masked.
    original: Option<&'a str>,
}

impl About<'_> {
    fn put(&self, d: &mut Doc) {
        let connection = match self.component {
            Component::Agent => "the agent".to_string(),
            Component::Unknown => "a connection the line does not name".to_string(),
            c => format!("the {c} connection"),
        };
        d.put(
            "message",
            format!("{}: {} ({})", connection, self.title, self.cause),
        );
        d.put("event.severity", severity_number(self.severity));
        d.put("event.reason", self.title);
        d.put("event.reference", self.docs);
        d.put("event.original", self.original);
        d.put("rule.id", self.rule);
        d.put("rule.name", self.title);
        d.put("rule.description", self.fix);
        d.put("rule.ruleset", self.ruleset);
        d.put("error.code", self.code);
        d.put("error.type", self.cause);
        d.put("error.message", self.message);
        // One of the agent's three connections; the agent itself is none, and a connection the
        // line does not name is left unnamed.
        if !matches!(self.component, Component::Agent | Component::Unknown) {
            d.put("service.target.type", self.component.name());
        }
        if let Some(e) = endpoint(self.component, self.values) {
            d.put("url.full", e.url);
            d.put("server.address", e.host);
            d.put("server.port", e.port);
        }
        if self.source != "<stdin>" {
            d.put("log.file.path", self.source);
        }
        if !self.values.is_empty() {
            d.put(
                "labels",
                Value::Object(
                    self.values
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                        .collect(),
                ),
            );
        }
        d.put("faultline.component", self.component.name());
        d.put("faultline.cause", self.cause);
        d.put("faultline.severity", self.severity.name());
        d.put("faultline.source", self.source);
        d.put("faultline.line", self.line);
        d.put("faultline.fix", self.fix);
        if !self.steps.is_empty() {
            d.put("faultline.steps", self.steps.to_vec());
        }
        d.put("faultline.check", self.check.clone());
        d.put("faultline.expect", self.expect);
    }
}

/// Writes one failing line as an ECS `event`.
pub(crate) fn write_match(out: &mut dyn Write, set: &RuleSet, e: &MatchEvent) -> io::Result<()> {
    let super::Verdict { rule, cause, code } = super::verdict(set, &e.line);
    let fix = e.line.failure.fix.map(|i| &set.fixes[i]);
    // As a finding's: ECS documents are built from maps.
    let values = &e.line.values().to_map();
    let mut d = Doc::new(e.at.ts, "event", "network", "info", "match");
    d.put("event.outcome", "failure");
    let about = About {
        rule: &rule.id,
        title: &rule.title,
        ruleset: Some(&rule.origin.file),
        component: e.line.failure.component,
        cause,
        code,
        severity: e.line.failure.severity,
        fix: fix.map(|f| f.summary.as_str()),
        steps: fix.map_or(&[], |f| &f.steps[..]),
        check: fix
            .and_then(|f| f.check.as_deref())
            .map(|c| fill_template(c, |name| values.get(name).map(String::as_str))),
        expect: fix.and_then(|f| f.expect.as_deref()),
        docs: fix.map(|f| f.docs.as_str()),
        values,
        source: &e.at.source.name,
        line: e.at.line,
        message: Some(&e.line.text),
        original: e.raw.as_deref(),
    };
    about.put(&mut d);
    d.write(out)
}

/// Writes one alert of `watch` (open, repeat, recovered) as an ECS `alert`.
pub(crate) fn write_alert(
    out: &mut dyn Write,
    set: &RuleSet,
    alert: &Alert,
    f: &FindingDoc,
    agg: &Aggregation,
) -> io::Result<()> {
    let ts = |s: &super::Seen| s.timestamp.as_deref().and_then(|t| t.parse().ok());
    let start: Option<jiff::Timestamp> = ts(&f.first_seen);
    let last: Option<jiff::Timestamp> = ts(&f.last_seen);
    let (kind_type, action, outcome, at, end) = match alert.kind {
        AlertKind::Open => ("start", "open", "failure", last, None),
        AlertKind::Repeat => ("info", "repeat", "failure", last, last),
        AlertKind::Recovered => {
            let success = agg.components[f.component as usize]
                .last_success
                .as_ref()
                .and_then(|p| p.ts);
            ("end", "recovered", "success", success, success)
        }
    };
    let mut d = Doc::new(at, "alert", "network", kind_type, action);
    d.put("event.outcome", outcome);
    d.put("event.start", start.map(date));
    d.put("event.end", end.map(date));
    if let (Some(start), Some(end)) = (start, end) {
        let nanos = start.duration_until(end).as_nanos();
        d.put("event.duration", i64::try_from(nanos.max(0)).ok());
    }
    let rule = set.rules.iter().find(|r| r.id == f.rule);
    let about = About {
        rule: &f.rule,
        title: &f.title,
        ruleset: rule.map(|r| r.origin.file.as_str()),
        component: f.component,
        cause: &f.cause,
        code: f.code.as_deref(),
        severity: f.severity,
        fix: f.fix.as_deref(),
        steps: &f.steps,
        check: f.check.clone(),
        expect: f.expect.as_deref(),
        docs: f.docs.as_deref(),
        values: &f.values,
        source: &f.last_seen.source,
        line: f.last_seen.line,
        message: f.message.as_deref(),
        original: f.samples.last().map(String::as_str),
    };
    about.put(&mut d);
    d.put("faultline.finding", alert.key.id());
    d.put("faultline.count", f.count);
    d.put("faultline.lines", alert.lines);
    if alert.kind == AlertKind::Repeat {
        d.put("faultline.window_seconds", alert.window.as_secs());
    }
    d.write(out)
}

/// Writes an input that could not be read, or was cut short, as an ECS `event`.
pub(crate) fn write_problem(out: &mut dyn Write, p: &ProblemDoc) -> io::Result<()> {
    let mut d = Doc::new(None, "event", "file", "error", "problem");
    d.put("event.outcome", "failure");
    d.put("event.severity", if p.error { 3 } else { 4 });
    d.put("message", p.message.as_str());
    d.put("error.message", p.message.as_str());
    if p.source != "<stdin>" {
        d.put("log.file.path", p.source.as_str());
    }
    d.put("faultline.source", p.source.as_str());
    d.put(
        "faultline.severity",
        if p.error { "error" } else { "warning" },
    );
    d.write(out)
}

/// Writes the closing `summary`: each connection's status and what was read.
pub(crate) fn write_summary(out: &mut dyn Write, doc: &Document) -> io::Result<()> {
    let failing = doc
        .components
        .values()
        .any(|s| *s == crate::findings::Status::Failing);
    let mut d = Doc::new(None, "event", "network", "info", "summary");
    d.put("event.outcome", if failing { "failure" } else { "success" });
    d.put(
        "message",
        doc.exit
            .clone()
            .unwrap_or_else(|| "faultline: the run is over".into()),
    );
    d.put(
        "faultline.components",
        serde_json::to_value(&doc.components)?,
    );
    d.put("faultline.findings", doc.findings.len());
    d.put("faultline.stats", serde_json::to_value(&doc.stats)?);
    d.put("faultline.problems", doc.problems.len());
    d.write(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_only_when_every_part_is_valid() {
        let e = parse_url("https://es.internal:9200").unwrap();
        assert_eq!(e.url.as_deref(), Some("https://es.internal:9200"));
        assert_eq!((e.host.as_str(), e.port), ("es.internal", Some(9200)));
        // The scheme's port; user information is dropped.
        let e = parse_url("https://user:****@api.elastic-cloud.com/api/v1").unwrap();
        assert_eq!(
            e.url.as_deref(),
            Some("https://api.elastic-cloud.com/api/v1")
        );
        assert_eq!(e.port, Some(443));
        assert_eq!(parse_url("http://10.0.0.8").unwrap().port, Some(80));
        let v6 = parse_url("http://[::1]:9200").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(9200)));
        for bad in [
            "ftp://host",
            "https://host:port",
            "https://host:70000",
            "https://host:0",
            "https://ho st",
            "https://host\"x",
            "https://[zz]:1",
            "https://-host",
            "https://",
            "host:9200",
        ] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_cluster_endpoint_falls_back_to_host_and_port() {
        let mut v = BTreeMap::new();
        v.insert("es_host".to_string(), "es-1".to_string());
        v.insert("es_port".to_string(), "92x".to_string());
        let e = endpoint(Component::Cluster, &v).unwrap();
        assert_eq!((e.url, e.host.as_str(), e.port), (None, "es-1", None));
        assert_eq!(endpoint(Component::Export, &v), None);
        v.insert("es_host".to_string(), "es 1".to_string());
        assert_eq!(endpoint(Component::Cluster, &v), None);
    }

    #[test]
    fn dates_are_utc_to_the_millisecond() {
        let t: jiff::Timestamp = "2025-10-14T11:40:03.789654+02:00".parse().unwrap();
        assert_eq!(date(t), "2025-10-14T09:40:03.789Z");
        assert_eq!(
            date("2025-10-14T09:00:01Z".parse().unwrap()),
            "2025-10-14T09:00:01.000Z"
        );
    }

    #[test]
    fn dotted_paths_nest_and_nulls_are_left_out() {
        let mut d = Doc(Map::new());
        d.put("event.kind", "alert");
        d.put("event.outcome", "failure");
        d.put("url.full", Value::Null);
        assert_eq!(
            Value::Object(d.0),
            serde_json::json!({"event": {"kind": "alert", "outcome": "failure"}})
        );
    }
}
