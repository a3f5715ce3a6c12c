//! journald and syslog lines (`journalctl -u elastic-agent`, `/var/log/syslog`):
//! `Oct 14 09:15:03 host elastic-agent[2231]: <inner>`, also with `-o short-precise` fractions.
//! The prefix has no year, so it gives no timestamp: only the inner line's own one is used. Also
//! owns the `host ident[pid]: ` part, which `journalctl -o short-iso` puts after a full time (see
//! [`super::prefix::timestamp`]), and the JSON export of `journalctl -o json`, whose `MESSAGE` is
//! the inner line, `__REALTIME_TIMESTAMP` the time in microseconds and `PRIORITY` the level.

use super::json::{Fields, Member};
use super::{decode_owned, unwrap_inner, Level, Record};

/// Decodes `fields` when they are a `journalctl -o json` entry: a string `MESSAGE` beside
/// `__REALTIME_TIMESTAMP` or `PRIORITY`. The inner line's own timestamp and level win.
pub(super) fn decode_json(fields: &mut Fields<'_>, depth: usize) -> Option<Record<'static>> {
    let mut message = None;
    let mut micros = None;
    let mut priority = None;
    for (i, (key, value)) in fields.0.iter().enumerate() {
        match (key.as_ref(), value) {
            ("MESSAGE", Member::Str(_)) => message = Some(i),
            ("__REALTIME_TIMESTAMP", Member::Str(t)) => micros = t.parse::<i64>().ok(),
            ("PRIORITY", Member::Str(p)) => priority = p.parse::<u8>().ok(),
            _ => {}
        }
    }
    let message = message?;
    if micros.is_none() && priority.is_none() {
        return None;
    }
    let Member::Str(inner) = std::mem::take(&mut fields.0[message].1) else {
        return None;
    };
    let mut record = decode_owned(inner.into_owned(), depth + 1);
    if record.ts.is_none() {
        record.ts = micros.and_then(|us| jiff::Timestamp::from_microsecond(us).ok());
    }
    if record.level.is_none() {
        // syslog priorities: 0–3 emergency to error, 4 warning, 5–6 notice and info, 7 debug.
        record.level = priority.map(|p| match p {
            0..=3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            _ => Level::Debug,
        });
    }
    Some(record)
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Decodes `Mon dd hh:mm:ss[.ffffff] host ident[pid]: inner`.
pub(super) fn decode(line: &str, depth: usize) -> Option<Record<'_>> {
    let b = line.as_bytes();
    if b.len() < 16 || !MONTHS.iter().any(|m| b.starts_with(*m)) || b[3] != b' ' {
        return None;
    }
    // The day is space-padded (`Oct  4`) or not (`Oct 14`).
    let mut i = if b[4] == b' ' { 5 } else { 4 };
    let day = digits(b, i);
    if !(1..=2).contains(&day) {
        return None;
    }
    i += day;
    let time = b.get(i..i + 10)?;
    let shape = |k: usize, c: &u8| match k {
        0 => *c == b' ',
        9 => *c == b' ' || *c == b'.',
        3 | 6 => *c == b':',
        _ => c.is_ascii_digit(),
    };
    if !time.iter().enumerate().all(|(k, c)| shape(k, c)) {
        return None;
    }
    i += 9;
    if b[i] == b'.' {
        i += 1 + digits(b, i + 1);
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let inner = ident(&line[i + 1..], false)?;
    Some(unwrap_inner(inner, depth, None))
}

/// Strips `host ident[pid]: ` (or `host ident: ` unless `need_pid`) from the start of `s`, giving
/// the message after it.
pub(super) fn ident(s: &str, need_pid: bool) -> Option<&str> {
    let (host, rest) = s.split_once(' ')?;
    if host.is_empty() {
        return None;
    }
    let b = rest.as_bytes();
    let mut i = b
        .iter()
        .take_while(|&&c| !matches!(c, b'[' | b':' | b' '))
        .count();
    if i == 0 {
        return None;
    }
    if b.get(i) == Some(&b'[') {
        let pid = digits(b, i + 1);
        if pid == 0 || b.get(i + 1 + pid) != Some(&b']') {
            return None;
        }
        i += pid + 2;
    } else if need_pid {
        return None;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    match b.get(i + 1) {
        None => Some(""),
        Some(b' ') => Some(&rest[i + 2..]),
        Some(_) => None,
    }
}

/// How many ASCII digits start `b[i..]`.
fn digits(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .map_or(0, |b| b.iter().take_while(|c| c.is_ascii_digit()).count())
}

#[cfg(test)]
mod json_tests {
    use super::super::{decode, Level};

    #[test]
    fn journalctl_json_entry_unwraps_its_message() {
        let line = br#"{"__REALTIME_TIMESTAMP":"1760433303512000","PRIORITY":"6","_SYSTEMD_UNIT":"elastic-agent.service","SYSLOG_IDENTIFIER":"elastic-agent","MESSAGE":"{\"level\":\"error\",\"msg\":\"failed to register Cloud Connected Mode: dial tcp: lookup api.elastic-cloud.com: no such host\"}"}"#;
        let r = decode(line);
        assert_eq!(
            r.text,
            "failed to register Cloud Connected Mode: dial tcp: lookup api.elastic-cloud.com: no such host"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, Some("2025-10-14T09:15:03.512Z".parse().unwrap()));
    }

    #[test]
    fn journalctl_json_plain_message_takes_priority_as_level() {
        let r = decode(br#"{"__REALTIME_TIMESTAMP":"1760433303512000","PRIORITY":"3","MESSAGE":"connect: connection refused"}"#);
        assert_eq!(r.text, "connect: connection refused");
        assert_eq!(r.level, Some(Level::Error));
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Level};
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn ecs_inside() {
        let r = decode(br#"Oct 14 09:15:03 es-host-01 elastic-agent[2231]: {"log.level":"error","@timestamp":"2025-10-14T09:15:03.512Z","message":"Error fetching data for metricset autoops_es.cluster_info","error.message":"x509: certificate signed by unknown authority","ecs.version":"1.6.0"}"#);
        assert_eq!(
            r.text,
            "Error fetching data for metricset autoops_es.cluster_info error=x509: certificate \
             signed by unknown authority"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, Some("2025-10-14T09:15:03.512Z".parse().unwrap()));
    }

    #[test]
    fn plain_inner_has_no_timestamp() {
        let r = decode(b"Oct  4 09:15:03 host elastic-agent[2231]: Elastic Agent started");
        assert_eq!(r.text, "Elastic Agent started");
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!((r.level, r.ts), (None, None));
    }

    #[test]
    fn precise_time_and_no_pid() {
        let r = decode(b"Oct 14 09:15:03.123456 host systemd: Started Elastic Agent.");
        assert_eq!(r.text, "Started Elastic Agent.");
        let r = decode(b"Oct 14 09:15:03 host elastic-agent[1]:");
        assert_eq!(r.text, "");
    }

    #[test]
    fn zap_console_inside() {
        let r = decode(b"Oct 14 09:15:03 host otelcol[9]: 2025-10-14T09:15:03.512Z\terror\tx.go:1\tExporting failed. Dropping data.\t{\"error\": \"EOF\"}");
        assert_eq!(r.text, "Exporting failed. Dropping data. error=EOF");
        assert_eq!(r.level, Some(Level::Error));
    }

    #[test]
    fn not_journald() {
        for line in [
            "October 14 09:15:03 host a[1]: x",
            "Oct 14 09:15 host a[1]: x",
            "Oct 144 09:15:03 host a[1]: x",
            "Oct 14 09:15:03 host a[x]: x",
            "Oct 14 09:15:03 host a[1] x",
            "Oct 14 09:15:03 host",
            "Oct 14 09:15:03  a[1]: x",
            "Oct 14 09:15:03 host a[1]:x",
            "Oct 14 9:15:03 host a[1]: x",
            "Oct 14 09:15:03.",
            "Octopus",
            "Foo 14 09:15:03 host a[1]: x",
        ] {
            assert_eq!(decode(line.as_bytes()), Record::plain(line), "{line:?}");
        }
    }

    #[test]
    fn idents() {
        assert_eq!(ident("h a[12]: m", true), Some("m"));
        assert_eq!(ident("h a: m", true), None);
        assert_eq!(ident("h a: m", false), Some("m"));
        assert_eq!(ident("h [12]: m", false), None);
        assert_eq!(ident("h a[]: m", false), None);
    }
}
