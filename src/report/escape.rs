//! Escaping of text from the input before it reaches a terminal. A log line, a captured value or a
//! file name may hold control characters (an ESC that starts a sequence clearing the screen or
//! writing the clipboard with OSC 52, a carriage return that hides what came before) and Unicode
//! format characters that reorder or hide text (bidi overrides such as U+202E, zero-width
//! characters). [`for_terminal`] renders each of them visibly, as `\x1b` or `\u{202e}`, so what a
//! person reads is what the input held.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as it is: C0 controls (tab and newline included), DEL,
/// C1 controls, bidi embeddings, overrides, isolates and marks, and invisible characters that
/// separate lines or hide text (zero-width space, word joiner, byte order mark).
fn needs_escape(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200b}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}'
        | '\u{feff}'
    )
}

/// `s` with every character that could act on a terminal, or hide or reorder text, rendered as an
/// escape: `\x1b` for ASCII and C1 controls, `\u{202e}` for the others. Borrowed when nothing
/// needed escaping.
pub(crate) fn for_terminal(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(needs_escape) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "",
            "curl -XGET -i https://es01:9200",
            "fixtures/a b.log:12",
            "héllo wörld ✅ 日本語",
            "a\\x1b is just text",
        ] {
            assert!(matches!(for_terminal(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn controls_are_rendered_visibly() {
        for (input, want) in [
            ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
            ("\x1b]52;c;cHduZWQ=\x07", "\\x1b]52;c;cHduZWQ=\\x07"),
            ("a\rb\nc\td", "a\\x0db\\x0ac\\x09d"),
            ("del\x7f", "del\\x7f"),
            ("c1 \u{9b}31m", "c1 \\x9b31m"),
            ("nul\0", "nul\\x00"),
        ] {
            assert_eq!(for_terminal(input), want, "{input:?}");
        }
    }

    #[test]
    fn bidi_and_invisible_characters_are_rendered_visibly() {
        for (input, want) in [
            ("file\u{202e}gol.exe", "file\\u{202e}gol.exe"),
            (
                "\u{202a}\u{202b}\u{202c}\u{202d}",
                "\\u{202a}\\u{202b}\\u{202c}\\u{202d}",
            ),
            (
                "\u{2066}x\u{2067}y\u{2068}z\u{2069}",
                "\\u{2066}x\\u{2067}y\\u{2068}z\\u{2069}",
            ),
            ("\u{200e}\u{200f}\u{061c}", "\\u{200e}\\u{200f}\\u{061c}"),
            ("zero\u{200b}width\u{feff}", "zero\\u{200b}width\\u{feff}"),
        ] {
            assert_eq!(for_terminal(input), want, "{input:?}");
        }
    }

    #[test]
    fn escaped_text_holds_no_escapable_character() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let out = for_terminal(&all);
        assert!(!out.chars().any(needs_escape));
        // Everything else passes through in order.
        let kept: String = all.chars().filter(|&c| !needs_escape(c)).collect();
        let out_kept: String = out.chars().filter(|c| !c.is_ascii()).collect();
        let kept_non_ascii: String = kept.chars().filter(|c| !c.is_ascii()).collect();
        assert_eq!(out_kept, kept_non_ascii);
    }
}
