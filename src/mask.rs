//! Masking of secrets in any text faultline prints (samples, captured values, the lines of a
//! report): `Authorization` headers, credentials after `ApiKey`/`Bearer`/`AutoOpsToken`,
//! `api_key`/`password`/`token`/`secret`/`temp_resource_id` keys with a value (also as environment
//! variables such as `AUTOOPS_ES_API_KEY=…`, and as command-line flags: `--es-password PASS`),
//! the password of `cloud_auth=user:password` and of `curl -u user:password`, and the userinfo of
//! a `scheme://user:password@host` or `scheme://token@host` URL. The secret becomes `****`; the
//! key, scheme or user before it stays, so a reader sees what was hidden.
//!
//! Masking is a guard, not a parser: it errs on the side of hiding a value. A password runs to the
//! end of its word, whatever it holds (`;`, `{`, `"`, `@`), unless the word visibly goes on with
//! something else: the quote that closes a JSON string, or `;`/`&`/`,` before the next `key=`.
//! Quoted values end at their closing quote at the same level of JSON escaping, so a secret in a
//! JSON string inside a zap line inside a Docker json-file line is found whole. Masking is
//! idempotent: masking masked text changes nothing.
//!
//! Text cut before it is masked (a sample's first bytes, a piece of a line too long to scan whole)
//! is cut where masking it alone still finds every secret: `cut_point` leaves out the token a
//! cut falls in (a URL's userinfo is known only by the `@` after it), and `piece_end` ends a
//! piece before a URL's scheme and before a key whose value could begin the next piece.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex};

/// What a masked secret is replaced with.
pub const MASK: &str = "****";

/// Literals one of which every match of [`SECRET`] holds (each alternative's own word); a line
/// without any of them is returned at once, without running the regex. They are that precise
/// because healthy lines are full of near misses: the collector's `resource={…}`, TLS's
/// "unknown authority", gRPC's `Unauthenticated`.
const HINT_WORDS: &[&str] = &[
    // `Authorization` headers; `(cloud|basic|http)[_.-]?auth` keys.
    "authorization",
    "cloudauth",
    "cloud_auth",
    "cloud.auth",
    "cloud-auth",
    "basicauth",
    "basic_auth",
    "basic.auth",
    "basic-auth",
    "httpauth",
    "http_auth",
    "http.auth",
    "http-auth",
    // Schemes, keys and flags.
    "apikey",
    "api_key",
    "api-key",
    "bearer",
    "passw",
    "token",
    "secret",
    // `temp[_.-]?resource[_.-]?id` keys and `--resource-id` flags.
    "resourceid",
    "resource_id",
    "resource.id",
    "resource-id",
    // curl's `-u` and `--user`.
    "-u",
];

/// [`HINT_WORDS`], any case: for text too long for [`HINTS_PACKED`], or where it cannot be built.
static HINTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(HINT_WORDS)
        .expect("the hint words are valid")
});

/// [`HINT_WORDS`] but `-u` for a SIMD search of text in lower case: a case-insensitive
/// automaton walks the text a byte at a time (its words start with the commonest letters, so no
/// prefilter helps), while lowering a copy and searching it this way is quicker. `-u` is looked
/// for apart: a word of two letters would make the SIMD search stop at every `to`, `re` or `se`.
/// `None` where the CPU has no SIMD for it.
static HINTS_PACKED: LazyLock<Option<aho_corasick::packed::Searcher>> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .builder()
        .extend(HINT_WORDS.iter().filter(|w| w.len() > 2))
        .build()
});

/// The longest text [`hinted`] lowers on the stack for [`HINTS_PACKED`].
const LOWERED_MAX: usize = 1024;

/// The forms a secret takes. Each alternative either captures its secret (`header`,
/// `credential`, `userinfo`, `bare`) or marks where a value starts (`curl`, `flag`, `key`), whose
/// end [`value_end`] finds.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        # An Authorization header, as text, JSON (`"Authorization":["ApiKey x"]`) or a Go map
        # (`map[Authorization:[ApiKey x]]`): the credential after the optional scheme.
        \b authorization (?: \\*["'] )? \s* [:=] \s* \[? \s* (?: \\*["'] )? \s*
            (?: (?P<scheme> apikey | bearer | basic | autoopstoken | token ) \s+ )?
            (?P<header> [^\s"'\\\],;]+ )
        |
        # A credential scheme anywhere: `ApiKey <b64>`, `Bearer <jwt>`, `AutoOpsToken <t>`.
        \b (?P<word> apikey | bearer | autoopstoken ) \s+ (?P<credential> [A-Za-z0-9+/=._~:-]+ )
        |
        # curl's `-u user:password`, `-uuser:password`, `--user user:password`, maybe quoted.
        (?: ^ | [\s"'=] ) (?: -u \s* | --user (?: \s+ | = ) )
            (?P<cq> \\*["'] )? [^\s:"'\\$-] [^\s:"'\\]* : (?P<curl>)
        |
        # A flag and its value after a space: `--es-password PASS`, `--token T`.
        (?: ^ | [\s"'] ) --? (?P<flag> [a-z0-9-]* (?: passw(?:or)?d | api-?key | token | secret | resource-id ) )
            \s+ (?P<fq> \\*["'] )? (?P<flagv>)
        |
        # A key and its value: `password=x`, `"api_key": "x"`, `AUTOOPS_TOKEN=x`, `?api-key=x`,
        # `cloud_auth=user:password`, `AUTOOPS_TEMP_RESOURCE_ID=x`.
        (?P<key> \b [A-Za-z0-9_.-]*? (?: api[_-]?key | passw(?:or)?d | token | secret
                | temp[_.-]?resource[_.-]?id | (?: cloud | basic | http )[_.-]?auth ) )
            (?P<kc> \\*["'] )? \s* (?P<sep> [=:] ) \s* (?P<kq> \\*" | ' )? (?P<keyv>)
        |
        # The userinfo of a URL: `https://user:password@host`, `https://token@host`. A password
        # may hold `@`, `?` or `#`: it runs to the last `@` before the host. (A `"` or a space in
        # a URL's password is percent-encoded by whatever wrote a valid URL.)
        \b (?P<url> [a-z] [a-z0-9+.-]* ) ://
            (?: [^\s:@/?\#"'\\<>]+ : (?P<userinfo> [^\s/"'\\<>]* ) | (?P<bare> [^\s:/?\#"'\\<>]+ ) ) @
        "#,
    )
    .expect("the secret pattern is valid")
});

/// Words that follow `Bearer`, `ApiKey` or a `--token` flag in prose, not a credential.
const PROSE: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "auth",
    "authentication",
    "authorization",
    "based",
    "cannot",
    "credential",
    "credentials",
    "error",
    "errors",
    "expired",
    "failed",
    "flag",
    "for",
    "format",
    "found",
    "from",
    "header",
    "headers",
    "in",
    "instead",
    "invalid",
    "is",
    "key",
    "keys",
    "missing",
    "must",
    "not",
    "of",
    "only",
    "or",
    "provided",
    "realm",
    "required",
    "scheme",
    "schemes",
    "scope",
    "should",
    "the",
    "to",
    "token",
    "tokens",
    "type",
    "used",
    "using",
    "value",
    "was",
    "with",
];

/// Whether `word` (an `=` at its end aside, as in `realm=`) is one of [`PROSE`].
fn is_prose(word: &str) -> bool {
    let w = word.trim_end_matches('=');
    PROSE.iter().any(|p| p.eq_ignore_ascii_case(w))
}

/// How many times masked text is masked again, at most, until nothing changes.
const MAX_PASSES: usize = 4;

/// Whether `text` holds a hint word next to which a secret could be. `://` counts only with an
/// `@` in the text: a URL holds a secret only in its userinfo (`user:password@`, `token@`), and
/// most captured values are URLs without one.
///
/// Text that is not hinted holds no secret, and neither does any part of it (a part's hint word
/// or `@` and `://` would be the whole's): values cut from such a line need no masking.
pub(crate) fn hinted(text: &str) -> bool {
    // No hint word holds `:` or `/`, so none overlaps a `://`: one search finds whether any is
    // there without stopping at every URL.
    let words = match &*HINTS_PACKED {
        Some(packed) if text.len() <= LOWERED_MAX => {
            let mut lowered = [0u8; LOWERED_MAX];
            let lowered = &mut lowered[..text.len()];
            lowered.copy_from_slice(text.as_bytes());
            lowered.make_ascii_lowercase();
            packed.find(&*lowered).is_some()
                || memchr::memchr_iter(b'-', lowered).any(|i| lowered.get(i + 1) == Some(&b'u'))
        }
        _ => HINTS.is_match(text),
    };
    words
        || (memchr::memchr(b'@', text.as_bytes()).is_some()
            && memchr::memmem::find(text.as_bytes(), b"://").is_some())
}

/// Whether byte `b` ends any token a secret can be in the middle of: whitespace and the bytes a
/// URL's userinfo cannot hold (`/ " ' \\ < >`).
fn ends_token(b: u8) -> bool {
    b == b'/' || ends_url(b)
}

/// Whether byte `b` ends a URL, its scheme and userinfo with it: whitespace, `" ' \\ < >`.
fn ends_url(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'\\' | b'<' | b'>')
}

/// Where to cut `text` to at most `max` bytes before masking it, if it is longer: before the
/// token the cut would fall in. Masking knows a URL's userinfo only by the `@` after it, so a
/// userinfo cut in two would be shown up to the cut; a secret after a key, a flag or a scheme
/// is found however it ends. Always at a character boundary (after an ASCII byte, or 0).
pub(crate) fn cut_point(text: &[u8], max: usize) -> Option<usize> {
    if text.len() <= max {
        return None;
    }
    if ends_token(text[max]) {
        return Some(max);
    }
    Some(
        text[..max]
            .iter()
            .rposition(|&b| ends_token(b))
            .map_or(0, |i| i + 1),
    )
}

/// How far before the end of a piece of an over-long line a hint word keeps the piece from
/// ending there ([`piece_end`]): farther than any key, flag or scheme stands from its value.
const PIECE_CONTEXT: usize = 1024;

/// How many hint words [`piece_end`] moves a piece's end before, at most.
const PIECE_TRIES: usize = 64;

/// Where to end a piece of a line too long to scan whole, `text` being all of the line held (it
/// goes on after it), so that each piece masked alone hides what masking the whole line would:
/// after a whitespace or a byte that ends a URL, and not within [`PIECE_CONTEXT`] bytes after a
/// hint word, whose value could begin in the next piece with the key, flag or scheme left in
/// this one: the end moves before the hint word, which then begins the next piece with its
/// value. Never before half of `text`, and past [`PIECE_TRIES`] hint words no more: only a line
/// dense with hint words can still be cut between one and its value.
pub(crate) fn piece_end(text: &[u8]) -> usize {
    // Not after a `/`: a URL's userinfo is known only after its scheme.
    let after_token = |upto: usize| {
        text[..upto]
            .iter()
            .rposition(|&b| ends_url(b))
            .map(|i| i + 1)
    };
    let Some(mut end) = after_token(text.len()) else {
        // One token the whole length: there is no better place.
        return text.len();
    };
    for _ in 0..PIECE_TRIES {
        let from = end.saturating_sub(PIECE_CONTEXT);
        let Some(hint) = first_hint(&text[from..end]) else {
            break;
        };
        match after_token(from + hint) {
            Some(before) if before > text.len() / 2 => end = before,
            _ => break,
        }
    }
    end
}

/// Where the first hint word of `text` is ([`hinted`]'s words, any case, or a `://` when an `@`
/// follows somewhere).
fn first_hint(text: &[u8]) -> Option<usize> {
    let word = HINTS.find(text).map(|m| m.start());
    let url = memchr::memchr(b'@', text).and_then(|_| memchr::memmem::find(text, b"://"));
    word.into_iter().chain(url).min()
}

/// Returns `text` with every secret replaced by [`MASK`]; borrowed when there was nothing to mask.
///
/// Hiding a secret can make what surrounds it read as another one: in `https://password:https://;x=1@`
/// the value of `password:` is `https://`, and once it is hidden the rest reads as a URL whose
/// password is `****;x=1`. So masked text is masked again until nothing changes: the result is a
/// fixed point, and masking it changes nothing.
pub fn mask(text: &str) -> Cow<'_, str> {
    let Cow::Owned(mut out) = mask_once(text) else {
        return Cow::Borrowed(text);
    };
    for _ in 0..MAX_PASSES {
        match mask_once(&out) {
            Cow::Borrowed(_) => break,
            Cow::Owned(again) => out = again,
        }
    }
    Cow::Owned(out)
}

/// One pass over `text`: every secret found replaced by [`MASK`].
fn mask_once(text: &str) -> Cow<'_, str> {
    if !hinted(text) {
        return Cow::Borrowed(text);
    }
    mask_once_unhinted(text)
}

/// [`mask_once`] without the quick check for hint words.
fn mask_once_unhinted(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    let mut at = 0;
    while at <= text.len() {
        let Some(caps) = SECRET.captures_at(text, at) else {
            break;
        };
        let whole = caps.get(0).expect("group 0 is the match");
        let (secret, resume) = secret(text, &caps);
        if let Some((start, end)) = secret {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        // Go on after the match and after the value it starts, and always forward.
        let mut next = resume.max(whole.end());
        if next <= at {
            next = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
        at = next;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The byte range to hide in one match, if any, and where the search goes on. `None` when the
/// match turns out not to hold a secret: an empty value, an `${env:…}` reference, a word of
/// prose, an already masked value.
fn secret(text: &str, caps: &Captures) -> (Option<(usize, usize)>, usize) {
    let span = |m: regex::Match| (m.start(), m.end());
    let (start, end) = if let Some(header) = caps.name("header") {
        // `Authorization: Bearer` with nothing after the scheme has no credential to hide.
        let is_scheme = ["apikey", "bearer", "basic", "autoopstoken"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(header.as_str()));
        if caps.name("scheme").is_none() && is_scheme {
            return (None, header.end());
        }
        span(header)
    } else if let Some(credential) = caps.name("credential") {
        if is_prose(credential.as_str()) {
            return (None, credential.end());
        }
        span(credential)
    } else if let Some(curl) = caps.name("curl") {
        let open = caps.name("cq").map(|q| q.as_str());
        (curl.start(), value_end(text, curl.start(), open, true))
    } else if let Some(flag) = caps.name("flagv") {
        let open = caps.name("fq").map(|q| q.as_str());
        let end = value_end(text, flag.start(), open, true);
        let value = &text[flag.start()..end];
        // `--es-password --es-url x`: the value is missing, and the next flag is no secret. A
        // value with one dash is taken, as Go's flag package takes it.
        if open.is_none() && (value.starts_with("--") || value == "-" || is_prose(value)) {
            return (None, flag.start());
        }
        (flag.start(), end)
    } else if let Some(value) = caps.name("keyv") {
        let key = caps
            .name("key")
            .map_or("", |k| k.as_str())
            .to_ascii_lowercase();
        let open = caps.name("kq").map(|q| q.as_str());
        let start = value.start();
        if open.is_none() && text[start..].starts_with("${") {
            // An `${env:…}` reference: skipped whole.
            let end = text[start..]
                .find('}')
                .map_or(text.len(), |i| start + i + 1);
            return (None, end);
        }
        let password = key.contains("passw") || key.ends_with("auth");
        // After a quoted key (`"password": 123`), an unquoted value is a JSON literal, which
        // ends at the first `,`; otherwise a password runs to the end of its word.
        let json_literal = caps.name("kc").is_some();
        let end = value_end(text, start, open, password && !json_literal);
        let v = &text[start..end];
        if open.is_none() {
            // `token: expired` is prose; after a colon, an unquoted value must look like a
            // secret, except for passwords, which can be anything.
            let colon = caps.name("sep").is_some_and(|s| s.as_str() == ":");
            if colon && !password && !looks_random(v) {
                return (None, end);
            }
        }
        if key.ends_with("auth") {
            // `user:password`: the user stays.
            if let Some(colon) = v.find(':') {
                let user_end = start + colon + 1;
                return if text[user_end..end].is_empty() || &text[user_end..end] == MASK {
                    (None, end)
                } else {
                    (Some((user_end, end)), end)
                };
            }
        }
        (start, end)
    } else if let Some(userinfo) = caps.name("userinfo") {
        span(userinfo)
    } else if let Some(bare) = caps.name("bare") {
        // `https://token@host` is a credential; `mailto://user@host` is a name.
        let scheme = caps
            .name("url")
            .map_or("", |s| s.as_str())
            .to_ascii_lowercase();
        let web = matches!(scheme.as_str(), "http" | "https" | "ws" | "wss");
        if !web && !looks_random(bare.as_str()) {
            return (None, bare.end());
        }
        span(bare)
    } else {
        return (None, caps.get(0).map_or(0, |m| m.end()));
    };
    let v = &text[start..end];
    if v.is_empty() || v == MASK || v.starts_with("${") {
        return (None, end);
    }
    (Some((start, end)), end)
}

/// Where a value that starts at `start` ends. `open` is the quote before it (`"`, `\"`, `\\\"`, `'`)
/// if any: the value ends at the matching closing quote, one at the same level of JSON escaping.
/// Unquoted, a password (`greedy`) runs to the end of its word, stopping only where the word
/// visibly goes on with something else; any other value stops at the first `,;&"'{}[]\`.
fn value_end(text: &str, start: usize, open: Option<&str>, greedy: bool) -> usize {
    let b = text.as_bytes();
    match open {
        Some(q) if q.ends_with('\'') => {
            // Single quotes do not nest: the next `'` closes, with the backslashes (if any) that
            // escape it as the opening one was.
            let k = q.len() - 1;
            return memchr::memchr(b'\'', &b[start..]).map_or(text.len(), |i| {
                let run = b[start..start + i]
                    .iter()
                    .rev()
                    .take_while(|&&c| c == b'\\')
                    .count();
                start + i - run.min(k)
            });
        }
        Some(q) => {
            // A `"` opened after k backslashes is closed by a `"` after a run of r backslashes
            // with r ≡ k (mod 2(k+1)): k = 0 in plain JSON, 1 one level down, 3 two levels down.
            let k = q.len() - 1;
            let mut i = start;
            while let Some(off) = memchr::memchr(b'"', &b[i..]) {
                let quote = i + off;
                let run = b[start..quote]
                    .iter()
                    .rev()
                    .take_while(|&&c| c == b'\\')
                    .count();
                if run % (2 * (k + 1)) == k {
                    return quote - run.min(k);
                }
                i = quote + 1;
            }
            return text.len();
        }
        None => {}
    }
    if !greedy {
        return b[start..]
            .iter()
            .position(|&c| {
                c.is_ascii_whitespace()
                    || matches!(
                        c,
                        b',' | b';' | b'&' | b'"' | b'\'' | b'{' | b'}' | b'[' | b']' | b'\\'
                    )
            })
            .map_or(text.len(), |i| start + i);
    }
    let mut i = start;
    let mut depth = 0usize;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            return i;
        }
        match c {
            // A quote, maybe escaped, that closes a string: it is followed by the end, a space or
            // JSON's punctuation.
            b'\\' | b'"' | b'\'' => {
                let run = b[i..].iter().take_while(|&&c| c == b'\\').count();
                let q = i + run;
                if q < b.len() && (b[q] == b'"' || b[q] == b'\'') && ends_word(b, q + 1) {
                    return i;
                }
                i = q.max(i + 1);
                continue;
            }
            // A bracket the value opened is part of it; one that closes the structure the
            // value is in ends it.
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' if depth > 0 => depth -= 1,
            b']' | b'}' | b')' if ends_word(b, i + 1) => return i,
            // The next `key=` of a list or a query string.
            b';' | b'&' | b',' if next_is_key(&b[i + 1..]) => return i,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Whether position `i` ends a word: the end, a space, or punctuation that closes a structure.
fn ends_word(b: &[u8], i: usize) -> bool {
    i >= b.len()
        || b[i].is_ascii_whitespace()
        || matches!(b[i], b',' | b'}' | b']' | b')' | b':' | b';' | b'\\' | b'"')
}

/// Whether `rest` starts with ` key=` or `key:`, a key of a list or query string.
fn next_is_key(rest: &[u8]) -> bool {
    let rest = rest.trim_ascii_start();
    let name = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
        .count();
    name > 0 && matches!(rest.get(name), Some(b'=' | b':'))
}

/// Whether a word looks like a generated credential rather than prose: it has a digit or a symbol
/// of base64/JWT/`id:key` (`+/=_:.-`), or it is long.
fn looks_random(word: &str) -> bool {
    word.len() >= 20 || word.bytes().any(|b| !b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowered_search_finds_the_hint_words_the_automaton_finds() {
        assert!(HINTS_PACKED.is_some() || !cfg!(target_arch = "x86_64"));
        let filler = [
            "",
            "x",
            "a quiet line ",
            "re to se -",
            "\u{e9}t\u{e9} \u{1F600} ",
        ];
        let mut checked = 0;
        for word in HINT_WORDS {
            let cases = [
                word.to_string(),
                word.to_ascii_uppercase(),
                word.chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect(),
                // One letter short: no hint.
                word[..word.len() - 1].to_string(),
            ];
            for case in cases {
                for before in filler {
                    for after in filler {
                        // Either side of the longest text lowered on the stack.
                        for pad in [
                            0,
                            LOWERED_MAX - case.len() - before.len() - after.len(),
                            LOWERED_MAX,
                        ] {
                            let text = format!("{}{before}{case}{after}", "y".repeat(pad));
                            let expected = HINTS.is_match(&text)
                                || (text.contains('@') && text.contains("://"));
                            assert_eq!(hinted(&text), expected, "{text:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(!hinted("https://es01:9200/ -x"));
        assert!(hinted("curl -U elastic:x https://es01:9200"));
        assert!(hinted("https://user@es01:9200/"));
        assert!(checked > 2_000, "{checked}");
    }

    fn masked(text: &str) -> String {
        let out = mask(text);
        assert!(matches!(out, Cow::Owned(_)), "nothing masked in {text:?}");
        out.into_owned()
    }

    fn unchanged(text: &str) {
        let out = mask(text);
        assert!(matches!(out, Cow::Borrowed(_)), "{text:?} became {out:?}");
    }

    #[test]
    fn authorization_headers() {
        for (line, want) in [
            (
                "Authorization: ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==",
                "Authorization: ApiKey ****",
            ),
            (
                "authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc-_",
                "authorization: Bearer ****",
            ),
            ("Authorization: Basic ZWxhc3RpYzpjaGFuZ2VtZQ==", "Authorization: Basic ****"),
            ("Authorization: AutoOpsToken t0k3n", "Authorization: AutoOpsToken ****"),
            ("Authorization: s3cr3t", "Authorization: ****"),
            (
                r#"headers: {"Authorization":["ApiKey abc123=="],"Content-Type":["application/json"]}"#,
                r#"headers: {"Authorization":["ApiKey ****"],"Content-Type":["application/json"]}"#,
            ),
            (
                r#"{"Authorization": "Bearer xyz.abc"}"#,
                r#"{"Authorization": "Bearer ****"}"#,
            ),
            (
                "map[Authorization:[ApiKey abc:def] User-Agent:[Go-http-client/1.1]]",
                "map[Authorization:[ApiKey ****] User-Agent:[Go-http-client/1.1]]",
            ),
            (
                r#"{\"Authorization\":[\"ApiKey abc123\"]}"#,
                r#"{\"Authorization\":[\"ApiKey ****\"]}"#,
            ),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn credential_schemes_anywhere() {
        assert_eq!(
            masked("sending request with ApiKey VnVhQ2ZHY0JDZGJr:dWkybHAy to es01"),
            "sending request with ApiKey **** to es01"
        );
        assert_eq!(
            masked("token AutoOpsToken abcdef"),
            "token AutoOpsToken ****"
        );
        assert_eq!(masked("using Bearer abc.def-123"), "using Bearer ****");
    }

    #[test]
    fn keys_with_values() {
        for (line, want) in [
            ("api_key=abc123", "api_key=****"),
            ("apikey: abc123", "apikey: ****"),
            ("api-key=abc123 next", "api-key=**** next"),
            ("x-api-key: abc123", "x-api-key: ****"),
            ("password=hunter2", "password=****"),
            ("password: changeme", "password: ****"),
            ("passwd=x", "passwd=****"),
            ("token=abc", "token=****"),
            ("client_secret=abc", "client_secret=****"),
            (r#"{"password": "p@ss word"}"#, r#"{"password": "****"}"#),
            (
                r#"{"api_key":"id:key","x":1}"#,
                r#"{"api_key":"****","x":1}"#,
            ),
            ("password='single quoted'", "password='****'"),
            (
                "GET /_cluster/health?api_key=abc123&pretty",
                "GET /_cluster/health?api_key=****&pretty",
            ),
            (r#"{\"password\":\"secret\"}"#, r#"{\"password\":\"****\"}"#),
            ("token: eyJhbGciOiJIUzI1NiJ9", "token: ****"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn environment_variables() {
        for (line, want) in [
            (
                "AUTOOPS_ES_API_KEY=VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAy",
                "AUTOOPS_ES_API_KEY=****",
            ),
            ("AUTOOPS_TOKEN=aotk_12345", "AUTOOPS_TOKEN=****"),
            ("AUTOOPS_ES_PASSWORD=changeme", "AUTOOPS_ES_PASSWORD=****"),
            (
                "ELASTIC_CLOUD_CONNECTED_MODE_API_KEY=essu_abc123==",
                "ELASTIC_CLOUD_CONNECTED_MODE_API_KEY=****",
            ),
            (
                "docker run -e AUTOOPS_ES_USERNAME=elastic -e AUTOOPS_ES_PASSWORD=changeme -e AUTOOPS_ES_URL=https://es:9200",
                "docker run -e AUTOOPS_ES_USERNAME=elastic -e AUTOOPS_ES_PASSWORD=**** -e AUTOOPS_ES_URL=https://es:9200",
            ),
            (
                r#""Env":["AUTOOPS_TOKEN=abc","AUTOOPS_ES_API_KEY=id:key"]"#,
                r#""Env":["AUTOOPS_TOKEN=****","AUTOOPS_ES_API_KEY=****"]"#,
            ),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn url_userinfo() {
        assert_eq!(
            masked("Get \"https://elastic:changeme@es01:9200/_license\": EOF"),
            "Get \"https://elastic:****@es01:9200/_license\": EOF"
        );
        assert_eq!(
            masked("HTTPS_PROXY=http://proxyuser:p%40ss@10.0.0.8:3128"),
            "HTTPS_PROXY=http://proxyuser:****@10.0.0.8:3128"
        );
        unchanged("Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": EOF");
        unchanged("dial tcp https://es01:9200 refused");
        unchanged("mailto://user@example.com");
    }

    #[test]
    fn several_secrets_in_one_line() {
        assert_eq!(
            masked("user=elastic password=a1 token=b2 url=http://u:p@h"),
            "user=elastic password=**** token=**** url=http://u:****@h"
        );
    }

    #[test]
    fn lines_without_secrets_are_borrowed() {
        for line in [
            "",
            "Exporting failed. Dropping data.",
            "dial tcp 10.0.0.5:9200: connect: connection refused",
            "check the password and try again",
            "the password is wrong",
            "Authentication failed (HTTP 401 Unauthorized). Check for typos.",
            "invalid token: expired",
            "failed to get token: context deadline exceeded",
            "secret: not found",
            "the AutoOps token was rejected",
            "Bearer authentication is required",
            "ApiKey authentication failed",
            "Authorization header missing",
            "Authorization: Bearer",
            "password=",
            r#"password: """#,
            "password: ${env:AUTOOPS_ES_PASSWORD}",
            "AUTOOPS_ES_API_KEY=${AUTOOPS_ES_API_KEY}",
            "tokens: 5",
            "password_file=/run/secrets/es",
            "api_key: {id: x}",
        ] {
            unchanged(line);
        }
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        let once = masked("Authorization: ApiKey abc123 password=x1 https://u:p@h");
        unchanged(&once);
        assert_eq!(
            once,
            "Authorization: ApiKey **** password=**** https://u:****@h"
        );
    }

    #[test]
    fn utf8_around_secrets() {
        assert_eq!(
            masked("❌ FAIL: password=héllo wörld ✅"),
            "❌ FAIL: password=**** wörld ✅"
        );
    }

    #[test]
    fn curl_user_passwords() {
        for (line, want) in [
            (
                "curl -u elastic:changeme https://es01:9200",
                "curl -u elastic:**** https://es01:9200",
            ),
            (
                "curl -uelastic:s3cr3t https://es01:9200",
                "curl -uelastic:**** https://es01:9200",
            ),
            (
                "curl --user elastic:pa;ss https://es01:9200",
                "curl --user elastic:**** https://es01:9200",
            ),
            (
                "curl --user=elastic:abc https://es01",
                "curl --user=elastic:**** https://es01",
            ),
            (
                "curl -u 'elastic:pa ss word' -XGET",
                "curl -u 'elastic:****' -XGET",
            ),
            (
                r#"cmd: "curl -u elastic:abc{def\"x""#,
                r#"cmd: "curl -u elastic:****""#,
            ),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
        // A user alone, or a variable, is no secret.
        unchanged("curl -u elastic https://es01:9200");
        unchanged("curl -u $AUTOOPS_ES_USERNAME https://es01:9200");
    }

    #[test]
    fn flags_with_a_space() {
        for (line, want) in [
            (
                "./install.sh --es-password hunter2 --es-url x",
                "./install.sh --es-password **** --es-url x",
            ),
            ("agent --token aotk_1 --x", "agent --token **** --x"),
            (
                "agent --api-key 'id:key with space'",
                "agent --api-key '****'",
            ),
            (
                r"cmd=\'--token \'a b\' next",
                r"cmd=\'--token \'****\' next",
            ),
            ("--password ab;c{d\"e", "--password ****"),
            ("--es-password=hunter2", "--es-password=****"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
        unchanged("Error: --token required");
        unchanged("--es-password is required");
        unchanged("--es-password --es-url https://es01:9200");
    }

    #[test]
    fn cloud_auth_keeps_the_user() {
        for (line, want) in [
            ("cloud_auth=elastic:hunter2", "cloud_auth=elastic:****"),
            (
                "cloud.auth: \"elastic:pa\\\"ss\"",
                "cloud.auth: \"elastic:****\"",
            ),
            (
                "-E cloud.auth=elastic:a;b{c next",
                "-E cloud.auth=elastic:**** next",
            ),
            ("CLOUD_AUTH=tokenonly", "CLOUD_AUTH=****"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn passwords_with_punctuation_are_hidden_whole() {
        for (line, want) in [
            ("password=ab;SECRET", "password=****"),
            ("password=ab{SECRET} next", "password=**** next"),
            ("password=ab\"SECRET", "password=****"),
            ("password=ab,SECRET", "password=****"),
            ("password=ab&SECRET", "password=****"),
            // The next key of a list or a query string is not the password.
            ("password=ab;user=x", "password=****;user=x"),
            ("?password=abc&pretty=true", "?password=****&pretty=true"),
            (
                r#"{"msg":"login password=ab;c","level":"error"}"#,
                r#"{"msg":"login password=****","level":"error"}"#,
            ),
            (r#"{"password":"ab\"c;d"}"#, r#"{"password":"****"}"#),
            ("map[password:ab;c user:x]", "map[password:**** user:x]"),
            (
                r#"{"password": 123, "user": "x"}"#,
                r#"{"password": ****, "user": "x"}"#,
            ),
            (
                r#"{"password":null,"user":"x"}"#,
                r#"{"password":****,"user":"x"}"#,
            ),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn a_cut_leaves_out_the_token_it_falls_in() {
        use super::cut_point;
        let line = b"refused: Get https://elastic:s3cr3t@es01:9200/ now";
        // Short enough: not cut.
        assert_eq!(cut_point(line, line.len()), None);
        // Within the userinfo: back to the `/` before it.
        let at = line.windows(3).position(|w| w == b"s3c").unwrap() + 2;
        let end = cut_point(line, at).unwrap();
        assert_eq!(&line[..end], b"refused: Get https://");
        // Right before a space or a `/`: the token before it is whole.
        assert_eq!(cut_point(line, 8), Some(8));
        assert_eq!(cut_point(line, 20), Some(20));
        // No end of a token before the cut: nothing is kept.
        assert_eq!(cut_point(b"passwordpasswordpassword", 10), Some(0));
        // Always at a character boundary.
        let text = "é ü password=x".as_bytes();
        for max in 0..text.len() {
            let end = cut_point(text, max).unwrap();
            assert!(std::str::from_utf8(&text[..end]).is_ok(), "{max}");
            assert!(end <= max);
        }
    }

    #[test]
    fn a_piece_ends_where_the_next_one_can_mask_what_it_begins_with() {
        use super::piece_end;
        // One token all through: no better place than the end.
        assert_eq!(piece_end(b"xxxxxxxx"), 8);
        // A URL's password cut: the next piece begins with its scheme.
        let url = b"dial tcp: see https://elastic:pa";
        assert_eq!(&url[piece_end(url)..], b"https://elastic:pa");
        // A value cut from its key: the next piece begins with the key.
        let key = format!("{} Authorization: Bearer ab", "x".repeat(3000));
        assert_eq!(
            &key[piece_end(key.as_bytes())..],
            "Authorization: Bearer ab"
        );
        // A hint word farther back than the context does not count.
        let far = format!("password {} next", "y".repeat(2000));
        assert_eq!(&far[piece_end(far.as_bytes())..], "next");
        // Hint words all through: the piece still ends past its half, after a space.
        let dense = "password ".repeat(1000);
        let end = piece_end(dense.as_bytes());
        assert!(
            end > dense.len() / 2 && dense.as_bytes()[end - 1] == b' ',
            "{end}"
        );
    }

    #[test]
    fn url_tokens_and_passwords_with_at() {
        for (line, want) in [
            (
                "Get \"https://ghp_TOKEN123@es01:9200/\": EOF",
                "Get \"https://****@es01:9200/\": EOF",
            ),
            ("https://abcdef@host", "https://****@host"),
            (
                "https://user:pa@ss@host:9200/x",
                "https://user:****@host:9200/x",
            ),
            ("http://u:a@b@c@proxy:3128", "http://u:****@proxy:3128"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
        unchanged("mailto://user@example.com");
        unchanged("ssh://git@github.com/elastic/x");
    }

    #[test]
    fn short_all_letter_bearer_tokens() {
        for (line, want) in [
            ("using Bearer abcdef", "using Bearer ****"),
            ("ApiKey secretkey rejected", "ApiKey **** rejected"),
            ("Bearer XYZ", "Bearer ****"),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
        unchanged("Bearer token is required");
        unchanged("WWW-Authenticate: Bearer realm=\"es\"");
    }

    #[test]
    fn temp_resource_id() {
        for (line, want) in [
            (
                "AUTOOPS_TEMP_RESOURCE_ID=2f1c6a0e-1b2c",
                "AUTOOPS_TEMP_RESOURCE_ID=****",
            ),
            (
                "-e AUTOOPS_TEMP_RESOURCE_ID=abc next",
                "-e AUTOOPS_TEMP_RESOURCE_ID=**** next",
            ),
            (
                r#"{"temp_resource_id":"r-123"}"#,
                r#"{"temp_resource_id":"****"}"#,
            ),
        ] {
            assert_eq!(masked(line), want, "{line}");
        }
    }

    #[test]
    fn json_inside_zap_inside_docker_json_file() {
        // zap's error field holds a JSON body; Docker's json-file escapes the zap line again.
        let line = r#"{"log":"{\"level\":\"error\",\"msg\":\"request failed\",\"error\":\"{\\\"password\\\":\\\"s3\\\\\\\"cr;et\\\",\\\"api_key\\\":\\\"id:k3y\\\"}\"}\n","stream":"stderr"}"#;
        let out = masked(line);
        assert_eq!(
            out,
            r#"{"log":"{\"level\":\"error\",\"msg\":\"request failed\",\"error\":\"{\\\"password\\\":\\\"****\\\",\\\"api_key\\\":\\\"****\\\"}\"}\n","stream":"stderr"}"#
        );
        // The masked line is still the JSON it was.
        let outer: serde_json::Value = serde_json::from_str(&out).unwrap();
        let zap: serde_json::Value =
            serde_json::from_str(outer["log"].as_str().unwrap().trim()).unwrap();
        let body: serde_json::Value = serde_json::from_str(zap["error"].as_str().unwrap()).unwrap();
        assert_eq!(body["password"], MASK);
        assert_eq!(body["api_key"], MASK);
        // One level up, as the decoded text.
        assert_eq!(
            masked(r#"request failed {"error":"{\"password\":\"s3\\\"cr;et\"}"}"#),
            r#"request failed {"error":"{\"password\":\"****\"}"}"#
        );
    }

    #[test]
    fn every_form_is_idempotent() {
        for line in [
            "curl -u elastic:changeme https://es01:9200",
            "--es-password hunter2",
            "cloud_auth=elastic:hunter2",
            "password=ab;SECRET",
            "https://TOKEN@host https://user:pa@ss@host",
            "Bearer abcdef",
            "AUTOOPS_TEMP_RESOURCE_ID=x1",
            r#"{"log":"{\"error\":\"{\\\"password\\\":\\\"s3cr3t\\\"}\"}\n"}"#,
            // Found by the properties: hiding the value of `password:` leaves a URL password.
            "https://password:https://;x=1@",
            "agent --token -a_AA- --x",
        ] {
            let once = masked(line);
            unchanged(&once);
        }
    }
}

/// The quick check for hint words is sound: every way of writing a key from the words secrets are
/// written with, up to three words joined by nothing, `_`, `.` or `-`, either holds a hint word
/// or holds nothing the regex would mask.
#[cfg(test)]
mod hint_soundness {
    #[test]
    fn a_text_without_a_hint_word_has_nothing_to_mask() {
        const WORDS: [&str; 14] = [
            "temp", "resource", "id", "cloud", "basic", "http", "auth", "api", "key", "passw",
            "ord", "token", "secret", "bearer",
        ];
        const SEPS: [&str; 4] = ["", "_", ".", "-"];
        let mut keys: Vec<String> = WORDS.iter().map(|w| w.to_string()).collect();
        for _ in 0..2 {
            let longer: Vec<String> = keys
                .iter()
                .filter(|k| !k.contains(' '))
                .flat_map(|k| {
                    SEPS.iter()
                        .flat_map(move |s| WORDS.iter().map(move |w| format!("{k}{s}{w}")))
                })
                .collect();
            keys.extend(longer);
            keys.sort();
            keys.dedup();
        }
        let mut checked = 0;
        for key in &keys {
            for (lead, tail) in [
                ("", "=x1y2z3"),
                ("--", " x1y2z3"),
                ("x ", " x1y2z3"),
                ("https://", ":p4ss@h"),
            ] {
                let text = format!("{lead}{key}{tail}");
                if !super::hinted(&text) {
                    checked += 1;
                    assert_eq!(
                        super::mask_once_unhinted(&text),
                        text.as_str(),
                        "a secret in {text:?} has no hint word"
                    );
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}

/// Properties over generated secrets: every known form is masked whole, and masking is
/// idempotent on text made of the pieces secrets are written with.
#[cfg(test)]
mod props {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::{mask, MASK};

    /// A password as people choose them: letters, digits and punctuation, `;`, `{`, `"` and `@`
    /// included; it starts and ends with a letter or digit. A quote followed by JSON punctuation
    /// reads as the end of a string in an unquoted value, so that pair is left out.
    fn password() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9;{@!#%^.+_~\"(\\[-]{4,20}[A-Za-z0-9]".prop_filter(
            "a quote then punctuation ends a JSON string",
            |s| {
                !s.as_bytes()
                    .windows(2)
                    .any(|w| w[0] == b'"' && b",}]):;\\\"".contains(&w[1]))
            },
        )
    }

    /// A token: base64url characters, not a word of prose. It starts with a letter or digit: after
    /// a flag, `--x` is the next flag.
    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9_-]{5,39}".prop_filter("not a word of prose", |s| !super::is_prose(s))
    }

    /// A short all-letter bearer token.
    fn letters() -> impl Strategy<Value = String> {
        "[A-Za-z]{3,12}".prop_filter("not a word of prose", |s| !super::is_prose(s))
    }

    /// A secret in every form masking knows, in place of `{}`.
    const FORMS: &[&str] = &[
        "password={}",
        "password: {}",
        "Authorization: Bearer {}",
        "Authorization: {}",
        r#""Authorization":["ApiKey {}"]"#,
        "ApiKey {}",
        r#""api_key": "{}""#,
        "curl -u elastic:{} https://es01",
        "--es-password {} --x",
        "cloud_auth=elastic:{}",
        "Get https://elastic:{}@es01:9200/_license",
        "POST https://{}@otel.example:443/v1/logs",
    ];

    /// Fails if `shown` holds three letters running of `secret`.
    fn shows_none_of(shown: &str, secret: &str) -> Result<(), TestCaseError> {
        for w in secret.as_bytes().windows(3) {
            prop_assert!(
                !shown.as_bytes().windows(3).any(|x| x == w),
                "{:?} shows a part of {:?}",
                shown,
                secret
            );
        }
        Ok(())
    }

    /// Runs `form` with `secret` in place of `{}` and expects exactly `{}` → `****`.
    fn masked_whole(form: &str, secret: &str) -> Result<(), TestCaseError> {
        let line = form.replace("{}", secret);
        let out = mask(&line);
        prop_assert_eq!(out.as_ref(), form.replace("{}", MASK), "line {:?}", line);
        let again = mask(&out);
        prop_assert_eq!(again.as_ref(), out.as_ref(), "not idempotent on {:?}", line);
        Ok(())
    }

    proptest! {
        // Failures are kept as unit tests, not in a regressions file.
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn passwords_in_every_form(p in password()) {
            for form in [
                "password={}",
                "level=error password={} user=elastic",
                "AUTOOPS_ES_PASSWORD={} next",
                "curl -u elastic:{} https://es01:9200",
                "curl --user elastic:{} -XGET",
                "./install.sh --es-password {} --es-url https://es01:9200",
                "cloud_auth=elastic:{}",
                "-E cloud.auth=elastic:{} -e x",
            ] {
                masked_whole(form, &p)?;
            }
            // In a URL, a `"` is percent-encoded.
            masked_whole("Get https://elastic:{}@es01:9200/_license", &p.replace('"', "%22"))?;
        }

        #[test]
        fn tokens_in_every_form(t in token(), l in letters()) {
            for form in [
                "Authorization: ApiKey {}",
                "using Bearer {} for es01",
                "AUTOOPS_TOKEN={}",
                "api_key={}",
                "AUTOOPS_TEMP_RESOURCE_ID={}",
                "POST https://{}@otel.example:443/v1/logs",
                "agent --token {} --x",
            ] {
                masked_whole(form, &t)?;
            }
            masked_whole("using Bearer {} for es01", &l)?;
            masked_whole("ApiKey {}", &l)?;
        }

        #[test]
        fn a_text_cut_before_masking_shows_no_part_of_a_secret(
            secret in "[QXZJV]{8,16}",
            cut in 0usize..120,
        ) {
            // Every form masking knows, and the line cut anywhere: what is kept of it is masked
            // and must not show three letters running of the secret.
            for form in FORMS {
                let line = format!("level=error msg=refused {} tail words", form.replace("{}", &secret));
                let end = super::cut_point(line.as_bytes(), cut).unwrap_or(line.len());
                shows_none_of(&mask(&line[..end]), &secret)?;
            }
        }

        #[test]
        fn pieces_masked_each_alone_show_no_part_of_a_secret(
            secret in "[QXZJV]{8,16}",
            held in 100usize..200,
            pad in 50usize..60,
        ) {
            // A line too long to scan whole, `held` bytes of it in the buffer: the piece ends at
            // `piece_end`, the rest comes in the next piece. Masked each alone, neither shows
            // three letters running of the secret. (The secret's form is in the second half of
            // what is held: a piece never ends before its half.)
            for form in FORMS {
                let line = format!(
                    "level=error msg=refused{} {} tail words",
                    " x".repeat(pad),
                    form.replace("{}", &secret)
                );
                let held = held.min(line.len());
                let end = super::piece_end(&line.as_bytes()[..held]);
                prop_assert!(end > 0 && end <= held);
                let (first, rest) = line.split_at(end);
                for shown in [mask(first), mask(rest)] {
                    shows_none_of(&shown, &secret)?;
                }
            }
        }

        #[test]
        fn json_secrets_at_any_escaping_level(p in "[ -~]{1,24}") {
            // A JSON body in zap's error field, in a Docker json-file line.
            let body = json!({"password": p, "api_key": p}).to_string();
            let zap = json!({"level": "error", "msg": "request failed", "error": body}).to_string();
            let docker = json!({"log": format!("{zap}\n"), "stream": "stderr"}).to_string();
            for (line, depth) in [(body.clone(), 0), (zap.clone(), 1), (docker.clone(), 2)] {
                let out = mask(&line);
                let mut v: Value = serde_json::from_str(&out)
                    .map_err(|e| TestCaseError::fail(format!("{e}: {out}")))?;
                for field in ["log", "error"].into_iter().skip(2 - depth) {
                    let inner = v[field].as_str().unwrap_or_default().trim().to_string();
                    v = serde_json::from_str(&inner)
                        .map_err(|e| TestCaseError::fail(format!("{e}: {inner}")))?;
                }
                if !p.is_empty() && p != MASK && !p.starts_with("${") {
                    prop_assert_eq!(&v["password"], MASK, "{}", out);
                    prop_assert_eq!(&v["api_key"], MASK, "{}", out);
                }
                let again = mask(&out);
                prop_assert_eq!(again.as_ref(), out.as_ref());
            }
        }

        #[test]
        fn masking_is_idempotent(parts in prop::collection::vec(prop_oneof![
            Just("password".to_string()), Just("api_key".to_string()), Just("token".to_string()), Just("cloud_auth".to_string()),
            Just("Authorization".to_string()), Just("Bearer ".to_string()), Just("ApiKey ".to_string()), Just("-u ".to_string()), Just("--user ".to_string()),
            Just("--es-password ".to_string()), Just("https://".to_string()), Just("mailto://".to_string()), Just("@".to_string()), Just(":".to_string()),
            Just("=".to_string()), Just("\"".to_string()), Just("\\\"".to_string()), Just("\\\\\\\"".to_string()), Just("'".to_string()), Just("{".to_string()), Just("}".to_string()),
            Just("[".to_string()), Just("]".to_string()), Just(";".to_string()), Just("&".to_string()), Just(",".to_string()), Just(" ".to_string()), Just("****".to_string()),
            Just("${env:X}".to_string()), Just("x=1".to_string()), "[A-Za-z0-9]{1,6}",
        ], 0..24)) {
            let text: String = parts.concat();
            let once = mask(&text).into_owned();
            let twice = mask(&once);
            prop_assert_eq!(twice.as_ref(), once.as_str(), "input {:?}", text);
        }
    }
}
