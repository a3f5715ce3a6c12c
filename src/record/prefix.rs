//! Prefixes that tools put before a container's own lines: `docker logs -t` (`<RFC 3339> <inner>`)
//! and `docker compose logs` (`autoops-otel-agent-1  | <inner>`, the service name padded with
//! spaces, possibly coloured). Each strips its prefix and decodes the rest as a line of its own;
//! a `-t` timestamp stands in when the inner line has none.

use super::{journald, parse_rfc3339, skip_ansi, unwrap_inner, Record};

/// Decodes `<RFC 3339> <inner>` (`docker logs -t`, `docker compose logs -t` inside the compose
/// prefix). journald's `-o short-iso` lines have the same start and are recognised here too, by
/// the `host ident[pid]: ` that follows the time.
pub(super) fn timestamp(line: &str, depth: usize) -> Option<Record<'_>> {
    let (time, inner) = line.split_once(' ')?;
    let ts = parse_rfc3339(time)?;
    let inner = journald::ident(inner, true).unwrap_or(inner);
    Some(unwrap_inner(inner, depth, Some(ts)))
}

/// Decodes `[pod/NAME/CONTAINER] <inner>`, the prefix `kubectl logs --prefix` puts before each
/// line (`[deployment/NAME/CONTAINER]` and other kinds too): the name is `kind/name/container` of
/// `[A-Za-z0-9_.:-]` characters.
pub(super) fn kubectl(line: &str, depth: usize) -> Option<Record<'_>> {
    let rest = line.strip_prefix('[')?;
    let close = rest.bytes().take(512).position(|b| b == b']')?;
    let name = &rest[..close];
    let parts = name.split('/').count();
    let ok = (2..=3).contains(&parts)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':' | b'/'));
    if !ok {
        return None;
    }
    let inner = rest[close + 1..].strip_prefix(' ')?;
    Some(unwrap_inner(inner, depth, None))
}

/// Decodes `<name> +| <inner>` where the name is `[A-Za-z0-9_.-]+` (a compose service or container
/// name such as `autoops-otel-agent`, `agent_1`, `autoops-otel-agent-1`).
pub(super) fn compose(line: &str, depth: usize) -> Option<Record<'_>> {
    let b = line.as_bytes();
    let start = skip_ansi(b, 0);
    let name = b[start..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    if name == 0 {
        return None;
    }
    let mut i = start + name;
    let spaces = b[i..].iter().take_while(|&&c| c == b' ').count();
    if spaces == 0 || b.get(i + spaces) != Some(&b'|') {
        return None;
    }
    i = skip_ansi(b, i + spaces + 1);
    let inner = match b.get(i) {
        None => "",
        Some(b' ') => &line[i + 1..],
        Some(_) => return None,
    };
    Some(unwrap_inner(inner, depth, None))
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Level, Part};
    use super::*;

    #[test]
    fn kubectl_prefix_lines_keep_their_inner_timestamp() {
        let r = decode(br#"[pod/autoops-otel-agent-7d9f/agent] {"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"dial tcp 10.0.0.5:9200: connect: connection refused"}"#);
        assert_eq!(
            r.text,
            "dial tcp 10.0.0.5:9200: connect: connection refused"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, Some("2025-10-14T09:15:03.512Z".parse().unwrap()));
        // With `--timestamps` too.
        let r = decode(b"[pod/agent-1/agent] 2025-10-14T09:15:03.512345678Z plain text");
        assert_eq!(r.text, "plain text");
        assert_eq!(
            r.ts,
            Some("2025-10-14T09:15:03.512345678Z".parse().unwrap())
        );
        // Not a prefix: left alone.
        let r = decode(b"[INFO] starting");
        assert_eq!(r.text, "[INFO] starting");
    }
    use std::borrow::Cow;

    fn ts(s: &str) -> Option<jiff::Timestamp> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn docker_logs_t_plain() {
        let r = decode(b"2025-10-14T09:15:03.512345678Z failed to register Cloud Connected Mode: cluster license type is not supported: basic");
        assert_eq!(
            r.text,
            "failed to register Cloud Connected Mode: cluster license type is not supported: basic"
        );
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512345678Z"));
        assert_eq!(r.level, None);
    }

    #[test]
    fn docker_logs_t_around_zap_json() {
        let r = decode(br#"2025-10-14T09:15:03.600000000Z {"level":"error","ts":"2025-10-14T09:15:03.512Z","msg":"Exporting failed. Rejecting data.","error":"sending queue is full","rejected_items":40}"#);
        assert_eq!(
            r.text,
            "Exporting failed. Rejecting data. error=sending queue is full rejected_items=40"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn docker_logs_t_around_zap_console() {
        let r = decode(b"2025-10-14T09:15:03.600000000Z 2025-10-14T09:15:03.512Z\twarn\tinternal/retry.go:1\tslow");
        assert_eq!(r.text, "slow");
        assert_eq!(r.level, Some(Level::Warn));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn journald_short_iso() {
        let r = decode(br#"2025-10-14T09:15:03+0000 es-host-01 elastic-agent[2231]: {"log.level":"error","message":"failed to register Cloud Connected Mode","error.message":"EOF"}"#);
        assert_eq!(r.text, "failed to register Cloud Connected Mode error=EOF");
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03Z"));
    }

    #[test]
    fn compose_plain() {
        let r = decode(
            b"autoops-otel-agent  | Everything is ready. Begin running and processing data.",
        );
        assert_eq!(
            r.text,
            "Everything is ready. Begin running and processing data."
        );
        assert!(matches!(r.text, Cow::Borrowed(_)));
        assert_eq!((r.level, r.ts), (None, None));
    }

    #[test]
    fn compose_around_zap_json() {
        let r = decode(br#"autoops-otel-agent-1  | {"level":"error","ts":1760433303.512,"msg":"Exporting failed. Dropping data.","error":"no more retries left: context deadline exceeded"}"#);
        assert_eq!(
            r.text,
            "Exporting failed. Dropping data. error=no more retries left: context deadline exceeded"
        );
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
    }

    #[test]
    fn compose_with_timestamps_and_colours() {
        let r = decode(b"\x1b[36mautoops_agent_1  |\x1b[0m 2025-10-14T09:15:03.512345678Z 2025-10-14T09:15:03.512Z\terror\tx.go:1\tboom\t{\"error\": \"EOF\"}");
        assert_eq!(r.text, "boom error=EOF");
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.ts, ts("2025-10-14T09:15:03.512Z"));
        // One space is enough, and a name may start with a digit.
        let r = decode(b"2agent.v1 | hi");
        assert_eq!(r.text, "hi");
    }

    #[test]
    fn compose_empty_line() {
        assert_eq!(decode(b"agent  |").text, "");
        assert_eq!(decode(b"agent  | ").text, "");
    }

    #[test]
    fn compose_around_cri_part() {
        let r = decode(b"agent  | 2025-10-14T09:15:03Z stdout P half");
        assert_eq!((r.text.as_ref(), r.part), ("half", Part::Partial));
    }

    #[test]
    fn not_prefixes() {
        for line in [
            "agent |x",
            "agent x | y",
            "agent  || y",
            "a/b  | y",
            " agent  | y",
            "|  y",
            "2025-10-14T09:15:03Z",
            "2025-10-14 09:15:03 text",
            "20251014 text",
        ] {
            assert_eq!(decode(line.as_bytes()), Record::plain(line), "{line:?}");
        }
    }
}
