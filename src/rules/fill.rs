//! Making captured values safe to paste into a shell. A value captured from a log line is
//! untrusted: a line can hold `https://es;touch${IFS}PWNED;#:9200` or a proxy named
//! `$(touch${IFS}PWNED)`. Before a value fills a check command it is either validated by its kind,
//! which the placeholder's name says (a URL, a host, a port, a proxy, a region or CSP, a version,
//! an environment variable's name), or, for any other name, single-quoted for a POSIX shell. A
//! value that fails its kind's validation is not used: the placeholder's default is, as if the line
//! had not shown the value. Windows PowerShell templates (`check_powershell`) are filled the same
//! way with PowerShell's quoting: `''` inside single quotes, where PowerShell also takes the
//! typographic quotes `‘ ’ ‚ ‛` for `'`.

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

/// The shell a command is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    /// sh, bash, zsh.
    Posix,
    /// Windows PowerShell 5.1 and PowerShell 7.
    PowerShell,
}

impl Shell {
    /// The character that escapes the next one outside single quotes.
    fn escape(self) -> char {
        match self {
            Shell::Posix => '\\',
            Shell::PowerShell => '`',
        }
    }

    /// Whether PowerShell reads `c` as a single quote (it takes the typographic ones too).
    fn single_quote(self, c: char) -> bool {
        match self {
            Shell::Posix => c == '\'',
            Shell::PowerShell => matches!(c, '\'' | '\u{2018}'..='\u{201b}'),
        }
    }

    /// Whether PowerShell reads `c` as a double quote.
    fn double_quote(self, c: char) -> bool {
        match self {
            Shell::Posix => c == '"',
            Shell::PowerShell => matches!(c, '"' | '\u{201c}'..='\u{201e}'),
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
    /// The state after reading `text` (template text, trusted) from this state, for a POSIX
    /// shell.
    #[cfg(test)]
    pub(crate) fn after(self, text: &str) -> Quote {
        self.after_in(Shell::Posix, text)
    }

    /// The state after reading `text` (template text, trusted) from this state, in `shell`.
    pub(crate) fn after_in(self, shell: Shell, text: &str) -> Quote {
        let mut state = self;
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            state = match state {
                Quote::None if shell.single_quote(c) => Quote::Single,
                Quote::None if shell.double_quote(c) => Quote::Double,
                Quote::Single if shell.single_quote(c) => Quote::None,
                Quote::Double if shell.double_quote(c) => Quote::None,
                Quote::None | Quote::Double if c == shell.escape() => {
                    chars.next();
                    state
                }
                s => s,
            };
        }
        state
    }
}

/// The text to put in place of a placeholder `name` captured as `value`, at quoting state `quote`
/// of the template, or `None` when the value cannot be used safely.
pub(crate) fn safe_value<'v>(
    name: &str,
    value: &'v str,
    quote: Quote,
    shell: Shell,
) -> Option<Cow<'v, str>> {
    if shell == Shell::PowerShell {
        return powershell_value(name, value, quote);
    }
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

/// [`safe_value`] for PowerShell: a value valid for its kind (URLs, hosts and the like hold no
/// character PowerShell acts on, but brackets, which are quoted), or free text, single-quoted.
/// In a double-quoted string, where `$` and the backtick act, only plain words go in.
fn powershell_value<'v>(name: &str, value: &'v str, quote: Quote) -> Option<Cow<'v, str>> {
    // Validated as if in single quotes: free text comes back as it was, quoted below.
    let valid = valid_value(name, value, Quote::Single)?;
    let text = Kind::of(name) == Kind::Text;
    let ps_single = |v: &str| {
        let mut out = String::with_capacity(v.len() + 2);
        for c in v.chars() {
            out.push(c);
            if Shell::PowerShell.single_quote(c) {
                out.push(c);
            }
        }
        out
    };
    match quote {
        Quote::None if text || valid.contains('[') => {
            // Free text was POSIX-quoted by `valid_value`: quote the raw value instead.
            let raw = if text { value } else { &valid };
            Some(Cow::Owned(format!("'{}'", ps_single(raw))))
        }
        Quote::None => Some(valid),
        Quote::Single => Some(Cow::Owned(ps_single(if text { value } else { &valid }))),
        Quote::Double => {
            let plain = |v: &str| {
                v.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'/')
                })
            };
            let v = if text { Cow::Borrowed(value) } else { valid };
            plain(&v).then_some(v)
        }
    }
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
        safe_value(name, value, Quote::None, Shell::Posix).map(Cow::into_owned)
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
            let filled = safe_value(name, value, Quote::Double, Shell::Posix);
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
            safe_value("metricset", "it's", Quote::Single, Shell::Posix).as_deref(),
            Some(r"it'\''s")
        );
        assert_eq!(
            safe_value("metricset", "$(id)\"", Quote::Double, Shell::Posix).as_deref(),
            Some(r#""'$(id)"'""#)
        );
        // Not quotable into safety: an option, a control character, a bidi override.
        assert_eq!(fill("metricset", "-o/etc/passwd"), None);
        assert_eq!(fill("metricset", "a\nid"), None);
        assert_eq!(fill("metricset", "a\u{202e}b"), None);
    }

    #[test]
    fn powershell_values_are_quoted_for_powershell() {
        let ps = |name, value, quote| safe_value(name, value, quote, Shell::PowerShell);
        assert_eq!(
            ps("es_url", "https://es01:9200", Quote::None).as_deref(),
            Some("https://es01:9200")
        );
        assert_eq!(
            ps("metricset", "a'b’c; $(id) `x`", Quote::None).as_deref(),
            Some("'a''b’’c; $(id) `x`'")
        );
        assert_eq!(
            ps("metricset", "it's", Quote::Single).as_deref(),
            Some("it''s")
        );
        // In double quotes only a plain word goes in.
        assert_eq!(ps("metricset", "$(id)", Quote::Double), None);
        assert_eq!(
            ps("es_url", "https://es01:9200", Quote::Double).as_deref(),
            Some("https://es01:9200")
        );
        assert_eq!(
            ps("es_host", "[::1]", Quote::None).as_deref(),
            Some("'[::1]'")
        );
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

    use super::{valid_value, Quote, Shell};
    use crate::rules::{fill_template, fill_template_in};

    /// Splits `cmd` into the arguments PowerShell passes to a program, or `None` when something
    /// would make PowerShell do more than that: an operator, a variable, a subexpression, a
    /// splat, an escape, a comment, a control character. Single quotes (and the typographic ones
    /// PowerShell takes for them) hold text as it is, a doubled quote being one; double quotes
    /// may hold no `$` or backtick.
    fn powershell_words(cmd: &str) -> Option<Vec<String>> {
        let single = |c: char| matches!(c, '\'' | '\u{2018}'..='\u{201b}');
        let double = |c: char| matches!(c, '"' | '\u{201c}'..='\u{201e}');
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut chars = cmd.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                ' ' => words.extend(word.take()),
                c if single(c) => {
                    let w = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next()? {
                            c if single(c) => match chars.next_if(|&n| single(n)) {
                                Some(n) => w.push(n),
                                None => break,
                            },
                            c => w.push(c),
                        }
                    }
                }
                c if double(c) => {
                    let w = word.get_or_insert_with(String::new);
                    loop {
                        match chars.next()? {
                            c if double(c) => break,
                            '$' | '`' => return None,
                            c => w.push(c),
                        }
                    }
                }
                '#' if word.is_none() => return None,
                '@' if word.is_none() => return None,
                c if c.is_control() || "$`;|&<>(){},".contains(c) => return None,
                c => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        Some(words)
    }

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

        #[test]
        fn filled_powershell_commands_are_read_as_written(
            name in prop::sample::select(vec![
                "es_url", "otel_url", "proxy", "es_host", "es_port", "region", "csp", "status",
                "es_version", "env_var", "metricset", "widget",
            ]),
            v in prop_oneof![value(), "[a-z'‘’‚‛“”„`$ ]{0,12}"],
        ) {
            let template = format!(
                r#"cmd {{{{{name}|DEF}}}} {{{{{name}}}}} '{{{{{name}}}}}' "{{{{{name}}}}}" '{{{{{name}}}}}/v1/logs'"#
            );
            let filled =
                fill_template_in(Shell::PowerShell, &template, |n| (n == name).then_some(v.as_str()));
            let words = powershell_words(&filled);
            prop_assert!(words.is_some(), "{:?} → {:?}", v, filled);
            let words = words.unwrap();
            prop_assert_eq!(words.len(), 6, "{:?} → {:?}", v, filled);
            // Each placeholder is the value (what validation keeps of it), or its fallback.
            let kept = valid_value(name, &v, Quote::Single)
                .map(|k| if super::Kind::of(name) == super::Kind::Text { v.clone() } else { k.into_owned() });
            let fallback = format!("<{name}>");
            let ok = |w: &str, fb: &str| kept.as_deref() == Some(w) || w == fb;
            prop_assert!(ok(&words[1], "DEF"), "{:?} → {:?}", v, filled);
            prop_assert!(ok(&words[2], &fallback), "{:?} → {:?}", v, filled);
            prop_assert!(ok(&words[3], &fallback), "{:?} → {:?}", v, filled);
            prop_assert!(ok(&words[4], &fallback), "{:?} → {:?}", v, filled);
            let path = words[5].strip_suffix("/v1/logs");
            prop_assert!(path.is_some_and(|p| ok(p, &fallback)), "{:?} → {:?}", v, filled);
        }
    }
}
