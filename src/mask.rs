//! Masking of secrets in any text faultline prints (samples, captured values, the lines of a
//! report): `Authorization` headers, credentials after `ApiKey`/`Bearer`/`AutoOpsToken`,
//! `api_key`/`password`/`token`/`secret` keys with a value (also as environment variables such as
//! `AUTOOPS_ES_API_KEY=…`), and the password of a `scheme://user:password@host` URL. The secret
//! becomes `****`; the key, scheme or user before it stays, so a reader sees what was hidden.
//! Masking is a guard, not a parser: it errs on the side of hiding a value.

use std::borrow::Cow;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex};

/// What a masked secret is replaced with.
pub const MASK: &str = "****";

/// Words one of which every maskable secret is next to; a line without any of them is returned
/// at once, without running the regex.
static HINTS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build([
            "authorization",
            "apikey",
            "api_key",
            "api-key",
            "bearer",
            "autoopstoken",
            "passw",
            "token",
            "secret",
            "://",
        ])
        .expect("the hint words are valid")
});

/// The forms a secret takes; each alternative names its secret group.
static SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        # An Authorization header, as text, JSON (`"Authorization":["ApiKey x"]`) or a Go map
        # (`map[Authorization:[ApiKey x]]`): the credential after the optional scheme.
        \b authorization (?: \\?["'] )? \s* [:=] \s* \[? \s* (?: \\?["'] )? \s*
            (?: (?P<scheme> apikey | bearer | basic | autoopstoken | token ) \s+ )?
            (?P<header> [^\s"'\\\],;]+ )
        |
        # A credential scheme anywhere: `ApiKey <b64>`, `Bearer <jwt>`, `AutoOpsToken <t>`.
        \b (?P<word> apikey | bearer | autoopstoken ) \s+ (?P<credential> [A-Za-z0-9+/=._~:-]+ )
        |
        # A key and its value: `password=x`, `"api_key": "x"`, `AUTOOPS_TOKEN=x`, `?api-key=x`;
        # a `${env:X}` reference is matched so that it is skipped whole.
        (?P<key> \b [A-Za-z0-9_.-]*? (?: api[_-]?key | passw(?:or)?d | token | secret ) )
            (?: \\?["'] )? \s* (?P<sep> [=:] ) \s*
            (?: \\?" (?P<dq> [^"\\]* ) | ' (?P<sq> [^']* ) | \$\{ [^}]* \}
              | (?P<raw> [^\s,;&"'{}\[\]\\]+ ) )
        |
        # The password of a URL's userinfo: `https://user:password@host`.
        \b [a-z] [a-z0-9+.-]* :// [^\s:@/?\#]+ : (?P<userinfo> [^\s@/?\#]+ ) @
        "#,
    )
    .expect("the secret pattern is valid")
});

/// Returns `text` with every secret replaced by [`MASK`]; borrowed when there was nothing to mask.
pub fn mask(text: &str) -> Cow<'_, str> {
    if !HINTS.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut copied = 0;
    for caps in SECRET.captures_iter(text) {
        let Some(secret) = secret(&caps) else {
            continue;
        };
        out.push_str(&text[copied..secret.start()]);
        out.push_str(MASK);
        copied = secret.end();
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The part of one match to hide, or `None` when the match turns out not to hold a secret (an
/// empty value, an `${env:…}` reference, a word of prose, an already masked value).
fn secret<'t>(caps: &Captures<'t>) -> Option<regex::Match<'t>> {
    let value = if let Some(header) = caps.name("header") {
        // `Authorization: Bearer` with nothing after the scheme has no credential to hide.
        let is_scheme = ["apikey", "bearer", "basic", "autoopstoken"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(header.as_str()));
        if caps.name("scheme").is_none() && is_scheme {
            return None;
        }
        header
    } else if let Some(credential) = caps.name("credential") {
        let word = caps.name("word").map_or("", |m| m.as_str());
        if !word.eq_ignore_ascii_case("autoopstoken") && !looks_random(credential.as_str()) {
            return None;
        }
        credential
    } else if let Some(key) = caps.name("key") {
        if let Some(raw) = caps.name("raw") {
            // `token: expired` is prose; after a colon, an unquoted value must look like a
            // secret, except for passwords, which can be anything.
            let colon = caps.name("sep").is_some_and(|s| s.as_str() == ":");
            let password = key.as_str().to_ascii_lowercase().contains("passw");
            if colon && !password && !looks_random(raw.as_str()) {
                return None;
            }
            raw
        } else {
            caps.name("dq").or_else(|| caps.name("sq"))?
        }
    } else {
        caps.name("userinfo")?
    };
    let v = value.as_str();
    if v.is_empty() || v == MASK || v.starts_with("${") {
        return None;
    }
    Some(value)
}

/// Whether a word looks like a generated credential rather than prose: it has a digit or a symbol
/// of base64/JWT/`id:key` (`+/=_:.-`), or it is long.
fn looks_random(word: &str) -> bool {
    word.len() >= 20 || word.bytes().any(|b| !b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
