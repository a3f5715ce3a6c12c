//! Lines with no envelope but a time: the Go standard library's `log` package writes
//! `2025/10/14 09:15:03 text` (optionally `.123456` microseconds), in local time that is UTC in a
//! container; the time becomes the record's (as UTC) and the rest its text. Every line that no
//! decoder recognises is plain too: [`super::decode`] returns it as its own text.

use std::borrow::Cow;

use jiff::tz::TimeZone;

use super::{Part, Record};

/// Decodes `YYYY/MM/DD hh:mm:ss[.ffffff] text`.
pub(super) fn decode(line: &str) -> Option<Record<'_>> {
    let b = line.as_bytes();
    if b.len() < 19 || b[4] != b'/' || b[7] != b'/' || b[10] != b' ' || b[13] != b':' {
        return None;
    }
    let mut end = 19;
    if b.get(end) == Some(&b'.') {
        end += 1 + b[end + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
    }
    let text = match b.get(end) {
        None => "",
        Some(b' ') => &line[end + 1..],
        Some(_) => return None,
    };
    let time = line.get(..end)?;
    let ts = jiff::fmt::strtime::parse("%Y/%m/%d %H:%M:%S%.f", time)
        .and_then(|t| t.to_datetime())
        .and_then(|dt| dt.to_zoned(TimeZone::UTC))
        .ok()?
        .timestamp();
    Some(Record {
        text: Cow::Borrowed(text),
        level: None,
        ts: Some(ts),
        part: Part::Full,
    })
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn go_log() {
        let r = decode(b"2025/10/14 09:15:03 failed to connect to https://es01:9200: x509: certificate signed by unknown authority");
        assert_eq!(
            r.text,
            "failed to connect to https://es01:9200: x509: certificate signed by unknown authority"
        );
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03Z"));
        assert_eq!(r.level, None);
    }

    #[test]
    fn go_log_microseconds_and_empty_text() {
        let r = decode(b"2025/10/14 09:15:03.512345 dial tcp: i/o timeout");
        assert_eq!(r.text, "dial tcp: i/o timeout");
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512345Z"));
        let r = decode(b"2025/10/14 09:15:03");
        assert_eq!((r.text.as_ref(), r.ts), ("", ts("2025-10-14T09:15:03Z")));
    }

    #[test]
    fn not_go_log() {
        for line in [
            "2025/13/14 09:15:03 bad month",
            "2025/10/14 09:15:03x",
            "2025/10/14 09:15",
            "2025/10/14 09:1\u{e9}:03 text",
            "2025/10/14",
            "1234/5",
        ] {
            assert_eq!(decode(line.as_bytes()), Record::plain(line), "{line:?}");
        }
    }
}
