//! Making captured values safe to paste into a shell. A value captured from a log line is
//! untrusted: a line can hold `https://es;touch${IFS}PWNED;#:9200` or a proxy named
//! `$(touch${IFS}PWNED)`. Before a value fills a check command it is either validated by its kind,
//! which the placeholder's name says (a URL, a host, a port, a proxy, a region or CSP, a version,
//! an environment variable's name), or, for any other name, single-quoted for a POSIX shell. A
//! value that fails its kind's validation is not used: the placeholder's default is, as if the line
//! had not shown the value.

use std::borrow::Cow;

/// What a placeholder's value must look like, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `http(s)://host[:port][/path]`; `*_url` and `url`.
    Url,
    /// A host name, an IPv4 or an IPv6 address; `*_host` and `host`.
    Host,
    /// Digits, at most 65535; `*_port` and `port`.
    Port,
    /// `host[:port]` or `scheme://host[:port]`; `proxy` and `*_proxy`.
    Proxy,
    /// `[a-z0-9-]`; `region`, `csp` and their `*_` forms.
    Slug,
    /// Three digits; `status` and `*_status` that are HTTP codes.
    Status,
    /// `9.1.0`, `8.17.3-SNAPSHOT`; `*_version`.
    Version,
    /// An environment variable's name; `env_var`.
    EnvName,
    /// Anything else: quoted.
    Text,
}

impl Kind {
    /// The kind a placeholder's name stands for.
    pub(crate) fn of(name: &str) -> Kind {
        let last = name.rsplit('_').next().unwrap_or(name);
        match (name, last) {
            ("env_var", _) => Kind::EnvName,
            (_, "url") => Kind::Url,
            (_, "host") => Kind::Host,
            (_, "port") => Kind::Port,
            (_, "proxy") => Kind::Proxy,
            (_, "region" | "csp") => Kind::Slug,
            ("status" | "http_status", _) => Kind::Status,
            (_, "version") => Kind::Version,
            _ => Kind::Text,
        }
    }
}

/// Where in a shell word a placeholder sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    /// Outside quotes.
    None,
    /// Inside `'…'`.
    Single,
    /// Inside `"…"`.
    Double,
}

impl Quote {
    /// The state after reading `text` (template text, trusted) from this state.
    pub(crate) fn after(self, text: &str) -> Quote {
        let mut state = self;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            state = match (state, c) {
                (Quote::None, '\'') => Quote::Single,
                (Quote::None, '"') => Quote::Double,
                (Quote::Single, '\'') | (Quote::Double, '"') => Quote::None,
                (Quote::None | Quote::Double, '\\') => {
                    chars.next();
                    state
                }
                (s, _) => s,
            };
        }
        state
    }
}

/// The text to put in place of a placeholder `name` captured as `value`, at quoting state `quote`
/// of the template, or `None` when the value cannot be used safely.
pub(crate) fn safe_value<'v>(name: &str, value: &'v str, quote: Quote) -> Option<Cow<'v, str>> {
    let valid = valid_value(name, value, quote)?;
    // An IPv6 address in brackets is a glob pattern to an unquoted shell (zsh refuses the
    // command when nothing matches): quote it.
    if quote == Quote::None
        && matches!(Kind::of(name), Kind::Url | Kind::Host | Kind::Proxy)
        && valid.contains('[')
    {
        return Some(Cow::Owned(quoted(&valid, quote)));
    }
    Some(valid)
}

/// The value itself (or its URL without credentials) when it is valid for its kind, quoted for
/// `quote` when it is free text; `None` when it cannot be used.
fn valid_value<'v>(name: &str, value: &'v str, quote: Quote) -> Option<Cow<'v, str>> {
    if value.is_empty() || value.starts_with('-') || value.chars().any(is_hostile_char) {
        return None;
    }
    let valid = match Kind::of(name) {
        Kind::Url => return url(value, &["http", "https"]),
        Kind::Proxy => {
            return if host_port(value, true) {
                Some(Cow::Borrowed(value))
            } else {
                url(value, &["http", "https", "socks4", "socks5", "socks5h"])
            }
        }
        Kind::Host => host(value),
        Kind::Port => port(value),
        Kind::Slug => value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        Kind::Status => value.len() == 3 && value.bytes().all(|b| b.is_ascii_digit()),
        Kind::Version => {
            value.len() <= 64
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
        }
        Kind::EnvName => {
            value.len() <= 128
                && !value.starts_with(|c: char| c.is_ascii_digit())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        Kind::Text => return Some(Cow::Owned(quoted(value, quote))),
    };
    valid.then_some(Cow::Borrowed(value))
}

/// Characters no captured value may hold: controls (they act on the terminal the command is shown
/// in, and a newline ends the pasted command) and bidi or invisible format characters (they make
/// the command read differently from what it does).
fn is_hostile_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// `value` as one shell word at quoting state `quote`: single-quoted, a `'` written as `'\''`. In
/// a double-quoted word the double quotes are closed around it.
pub(crate) fn quoted(value: &str, quote: Quote) -> String {
    let inner = value.replace('\'', r"'\''");
    match quote {
        Quote::None => format!("'{inner}'"),
        Quote::Single => inner,
        Quote::Double => format!("\"'{inner}'\""),
    }
}

/// Whether `s` is a host name (letters, digits, `-` and `_` in dot-separated labels that do not
/// start or end with `-`), an IPv4 address, or an IPv6 address (bare or in brackets, with an
/// optional `%zone`).
pub(crate) fn host(s: &str) -> bool {
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        return ipv6(inner);
    }
    if s.contains(':') {
        return ipv6(s);
    }
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let s = s.strip_suffix('.').unwrap_or(s);
    s.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn ipv6(s: &str) -> bool {
    let (addr, zone) = s.split_once('%').unwrap_or((s, "x"));
    let addr_ok = addr.len() >= 2
        && addr.contains(':')
        && addr
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    let zone_ok = !zone.is_empty()
        && zone
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    addr_ok && zone_ok
}

/// Whether `s` is a port: 1 to 5 digits, at most 65535.
pub(crate) fn port(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 5
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<u32>().is_ok_and(|p| p <= 65535)
}

/// Whether `s` is `host:port`, or with `port_optional`, also a bare host.
fn host_port(s: &str, port_optional: bool) -> bool {
    if let Some(rest) = s.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        return ipv6(inner)
            && match after.strip_prefix(':') {
                Some(p) => port(p),
                None => after.is_empty() && port_optional,
            };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => !h.contains(':') && host(h) && port(p),
        None => port_optional && host(s),
    }
}

/// `s` as a URL with one of `schemes`, a valid host, an optional port and a path of safe
/// characters, or `None`. A user name and password in the URL are dropped: the check command
/// passes credentials its own way, and a masked password would not work anyway.
fn url<'v>(s: &'v str, schemes: &[&str]) -> Option<Cow<'v, str>> {
    let (scheme, rest) = s.split_once("://")?;
    if !schemes.contains(&scheme) {
        return None;
    }
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let path_ok = path.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~' | b'%' | b'+')
    });
    if !path_ok {
        return None;
    }
    match authority.rsplit_once('@') {
        None => host_port(authority, true).then_some(Cow::Borrowed(s)),
        Some((_, hostport)) => {
            host_port(hostport, true).then(|| Cow::Owned(format!("{scheme}://{hostport}{path}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(name: &str, value: &str) -> Option<String> {
        safe_value(name, value, Quote::None).map(Cow::into_owned)
    }

    #[test]
    fn kinds_follow_names() {
        for (name, kind) in [
            ("es_url", Kind::Url),
            ("otel_url", Kind::Url),
            ("url", Kind::Url),
            ("es_host", Kind::Host),
            ("es_port", Kind::Port),
            ("proxy", Kind::Proxy),
            ("region", Kind::Slug),
            ("csp", Kind::Slug),
            ("status", Kind::Status),
            ("es_version", Kind::Version),
            ("env_var", Kind::EnvName),
            ("metricset", Kind::Text),
            ("license_type", Kind::Text),
        ] {
            assert_eq!(Kind::of(name), kind, "{name}");
        }
    }

    #[test]
    fn valid_values_are_used_as_they_are() {
        for (name, value) in [
            ("es_url", "https://es01:9200"),
            ("es_url", "http://localhost:9200"),
            ("es_url", "https://[::1]:9200"),
            ("es_url", "https://10.0.0.5"),
            ("api_url", "https://api.elastic-cloud.com"),
            (
                "otel_url",
                "https://otel-collector.auto-ops.eu-west-1.aws.cloud.elastic.co:4318",
            ),
            ("es_url", "https://es01:9200/prefix/_x"),
            ("es_host", "es01.internal"),
            ("es_host", "10.0.0.5"),
            ("es_host", "[fe80::1%eth0]"),
            ("es_host", "2001:db8::1"),
            ("es_port", "9200"),
            ("es_port", "65535"),
            ("proxy", "10.0.0.8:3128"),
            ("proxy", "[2001:db8::8]:3128"),
            ("proxy", "proxy.corp.example"),
            ("proxy", "http://proxy.corp:3128"),
            ("region", "eu-west-1"),
            ("csp", "gcp"),
            ("status", "503"),
            ("es_version", "8.17.3-SNAPSHOT"),
            ("env_var", "AUTOOPS_ES_URL"),
        ] {
            // Inside double quotes nothing of a valid value is special.
            let filled = safe_value(name, value, Quote::Double);
            assert_eq!(filled.as_deref(), Some(value), "{name}={value}");
            // Unquoted, only brackets (a glob to the shell) need quotes.
            let want = if value.contains('[') {
                format!("'{value}'")
            } else {
                value.to_string()
            };
            assert_eq!(fill(name, value), Some(want), "{name}={value}");
        }
    }

    #[test]
    fn invalid_values_are_refused() {
        for (name, value) in [
            ("es_url", "https://es;touch${IFS}PWNED;#:9200"),
            ("es_url", "https://es01:9200`id`"),
            ("es_url", "https://$(id):9200"),
            ("es_url", "ftp://es01:9200"),
            ("es_url", "https://es01:99999"),
            ("es_url", "https://es01:9200/a?b&c"),
            ("es_url", "https://es01:9200/a b"),
            ("es_url", "https://-o/tmp/x"),
            ("es_url", "https://es01\x1b]52;c;eA==\x07:9200"),
            ("es_url", "https://es01\u{202e}:9200"),
            ("es_url", "https://"),
            ("es_host", "es01;id"),
            ("es_host", "-oProxyCommand=id"),
            ("es_host", "a..b"),
            ("es_host", "[::1]x"),
            ("es_port", "92a0"),
            ("es_port", "65536"),
            ("es_port", "123456"),
            ("es_port", ""),
            ("proxy", "$(touch${IFS}PWNED)"),
            ("proxy", "$(touch${IFS}PWNED):3128"),
            ("proxy", "10.0.0.8:3128;id"),
            ("proxy", "`id`:3128"),
            ("proxy", "file:///etc/passwd"),
            ("region", "eu-west-1;id"),
            ("region", "EU"),
            ("csp", "aws$(id)"),
            ("status", "5031"),
            ("es_version", "8.1;id"),
            ("env_var", "PATH;id"),
            ("env_var", "1ABC"),
        ] {
            assert_eq!(fill(name, value), None, "{name}={value:?}");
        }
    }

    #[test]
    fn credentials_are_dropped_from_urls() {
        assert_eq!(
            fill("es_url", "https://elastic:****@es01:9200").as_deref(),
            Some("https://es01:9200")
        );
        assert_eq!(
            fill("proxy", "http://user:p@ss@proxy:3128").as_deref(),
            Some("http://proxy:3128")
        );
        assert_eq!(fill("es_url", "https://u:p@es;id:9200"), None);
    }

    #[test]
    fn free_text_is_single_quoted_for_its_context() {
        assert_eq!(
            fill("metricset", "node_stats").as_deref(),
            Some("'node_stats'")
        );
        assert_eq!(
            fill("metricset", "a'b; $(id) `x`").as_deref(),
            Some(r"'a'\''b; $(id) `x`'")
        );
        assert_eq!(
            safe_value("metricset", "it's", Quote::Single).as_deref(),
            Some(r"it'\''s")
        );
        assert_eq!(
            safe_value("metricset", "$(id)\"", Quote::Double).as_deref(),
            Some(r#""'$(id)"'""#)
        );
        // Not quotable into safety: an option, a control character, a bidi override.
        assert_eq!(fill("metricset", "-o/etc/passwd"), None);
        assert_eq!(fill("metricset", "a\nid"), None);
        assert_eq!(fill("metricset", "a\u{202e}b"), None);
    }

    #[test]
    fn quote_state_follows_template_text() {
        assert_eq!(Quote::None.after("curl -d '{\"a\": "), Quote::Single);
        assert_eq!(Quote::None.after("curl -H \"X: "), Quote::Double);
        assert_eq!(Quote::None.after(r#"a \' b "c\"d" "#), Quote::None);
        assert_eq!(Quote::Single.after(r"x\' "), Quote::None);
    }
}

/// Properties: whatever a line captured, the shell reads the filled command as the template says,
/// with the value in each place a single word (or part of one), or the placeholder's fallback.
#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::{valid_value, Quote};
    use crate::rules::fill_template;

    /// Splits `cmd` into words as a POSIX shell does (quotes and backslashes; no expansion), or
    /// `None` when something outside quotes would make the shell do more than run one command
    /// with those words: an operator, an expansion, a glob, a control character.
    fn shell_words(cmd: &str) -> Option<Vec<String>> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = cmd.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                ' ' => words.extend(word.take()),
                '\'' => {
                    let w = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next()? {
                            '\'' => break,
                            c => w.push(c),
                        }
                    }
                }
                '"' => {
                    let w = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next()? {
                            '"' => break,
                            '$' | '`' => return None,
                            '\\' => match chars.next()? {
                                c @ ('$' | '`' | '"' | '\\') => w.push(c),
                                c => {
                                    w.push('\\');
                                    w.push(c);
                                }
                            },
                            c => w.push(c),
                        }
                    }
                }
                '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
                c if c.is_control() || "$`;|&<>()*?[]{}#~!".contains(c) => return None,
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        Some(words)
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-z0-9:/.@\\[\\]$`;'\"()|&<>{}*?!#~\\\\ \t\n-]{0,24}",
            "https?://([a-z0-9.-]{1,12}@)?[a-z0-9.-]{1,12}(:[0-9]{1,6})?(/[a-z_]{0,6})?",
            "\\[[0-9a-f:]{2,12}\\](:[0-9]{1,5})?",
            "[a-z0-9.-]{1,12}:[0-9]{1,6}",
        ]
    }

    proptest! {
        // Failures are kept as unit tests, not in a regressions file.
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn filled_commands_are_read_as_written(
            name in prop::sample::select(vec![
                "es_url", "otel_url", "proxy", "es_host", "es_port", "region", "csp", "status",
                "es_version", "env_var", "metricset", "widget",
            ]),
            v in value(),
        ) {
            let template = format!(
                r#"cmd {{{{{name}|DEF}}}} {{{{{name}}}}} '{{{{{name}}}}}' "{{{{{name}}}}}" x{{{{{name}}}}}y -d '{{"k": "{{{{{name}}}}}"}}'"#
            );
            let filled = fill_template(&template, |n| (n == name).then_some(v.as_str()));
            let words = shell_words(&filled);
            prop_assert!(words.is_some(), "{:?} → {:?}", v, filled);
            // What each placeholder stands for once the shell has read it.
            let (first, w) = match valid_value(name, &v, Quote::Double) {
                Some(raw) => {
                    let raw = raw.into_owned();
                    // Free text was quoted for a double-quoted context: read it back.
                    let read = shell_words(&format!("\"{raw}\"")).unwrap().concat();
                    (read.clone(), read)
                }
                None => ("DEF".to_string(), format!("<{name}>")),
            };
            let want = vec![
                "cmd".to_string(),
                first,
                w.clone(),
                w.clone(),
                w.clone(),
                format!("x{w}y"),
                "-d".to_string(),
                format!(r#"{{"k": "{w}"}}"#),
            ];
            prop_assert_eq!(words.unwrap(), want, "{:?} → {:?}", v, filled);
        }
    }
}
