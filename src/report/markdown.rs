//! The Markdown printer (`--format markdown`): a report to paste into a support ticket or a GitHub
//! issue. A table of the connections, then each finding with its fix, the check command and the
//! answer that proves the path is open in code blocks, one masked sample line, and what was read.
//! Text from the input is escaped for Markdown tables and kept inside code spans or blocks, whose
//! fences are made longer than any run of backticks inside them.

use std::io::{self, Write};

use super::{Document, FindingDoc};
use crate::rules::Component;

/// A code span holding `s` whatever backticks it contains.
fn code(s: &str) -> String {
    let longest = longest_run(s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A fenced code block holding `s`.
fn block(out: &mut dyn Write, lang: &str, s: &str) -> io::Result<()> {
    let fence = "`".repeat((longest_run(s, '`') + 1).max(3));
    writeln!(out, "{fence}{lang}\n{s}\n{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for x in s.chars() {
        if x == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Text for a Markdown paragraph or table cell: no line breaks, and `|`, `<`, `>`, `*`, `_`,
/// `[`, `]`, `#` and backslashes escaped so that input cannot become markup or HTML.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::for_terminal(s).chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '<' | '>' | '*' | '_' | '[' | ']' | '#' | '\\' | '`' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn seen(s: &super::Seen) -> String {
    match &s.timestamp {
        Some(t) => format!("{t} ({}:{})", s.source, s.line),
        None => format!("{}:{}", s.source, s.line),
    }
}

/// Writes the Markdown report.
pub fn print_markdown(out: &mut dyn Write, doc: &Document) -> io::Result<()> {
    let n = doc.findings.len();
    writeln!(
        out,
        "## faultline: {}\n",
        match n {
            0 => "no problem found".to_string(),
            1 => "1 problem found".to_string(),
            n => format!("{n} problems found"),
        }
    )?;
    writeln!(out, "| connection | status | problems |")?;
    writeln!(out, "|---|---|---|")?;
    for c in Component::ALL {
        let count = doc.findings.iter().filter(|f| f.component == c).count();
        writeln!(
            out,
            "| {} | {} | {count} |",
            c.name(),
            doc.components[&c].name()
        )?;
    }
    let unknown = doc
        .findings
        .iter()
        .filter(|f| f.component == Component::Unknown)
        .count();
    if unknown > 0 {
        writeln!(
            out,
            "| unknown (the lines do not show which) | — | {unknown} |"
        )?;
    }
    for f in &doc.findings {
        finding(out, f)?;
    }
    let s = &doc.stats;
    writeln!(
        out,
        "\n---\nRead {} sources, {} lines, {} bytes: {} failing lines, {} showing a working connection, {} ignored as harmless{}{}.",
        s.sources,
        s.lines,
        s.bytes,
        s.failures,
        s.successes,
        s.ignored,
        if s.errors > 0 {
            format!("; {} inputs could not be read", s.errors)
        } else {
            String::new()
        },
        if s.limited > 0 {
            format!("; {} cut short by a safety limit", s.limited)
        } else {
            String::new()
        },
    )?;
    for p in &doc.problems {
        writeln!(
            out,
            "- {} {}: {}",
            if p.error {
                "could not read"
            } else {
                "cut short:"
            },
            code(&super::for_terminal(&p.source)),
            text(&p.message)
        )?;
    }
    Ok(())
}

fn finding(out: &mut dyn Write, f: &FindingDoc) -> io::Result<()> {
    writeln!(
        out,
        "\n### {} · {} — {}\n",
        f.component.name(),
        text(&f.cause),
        text(&f.title)
    )?;
    let mut ids = format!("{} · rule {}", f.severity, code(&f.rule));
    if let Some(c) = &f.code {
        ids.push_str(&format!(" · code {}", code(c)));
    }
    writeln!(out, "{ids}  ")?;
    if f.count == 1 {
        writeln!(out, "1 line at {}", code(&seen(&f.first_seen)))?;
    } else {
        writeln!(
            out,
            "{} lines, first {}, last {}",
            f.count,
            code(&seen(&f.first_seen)),
            code(&seen(&f.last_seen))
        )?;
    }
    if let Some(fix) = &f.fix {
        writeln!(out, "\n**Fix.** {}\n", text(fix))?;
        for (i, step) in f.steps.iter().enumerate() {
            writeln!(out, "{}. {}", i + 1, text(step))?;
        }
    }
    if let Some(check) = &f.check {
        writeln!(out, "\n**Check:**\n")?;
        block(out, "sh", &super::for_terminal(check))?;
    }
    if let Some(check) = &f.check_powershell {
        writeln!(out, "\n**Check in Windows PowerShell:**\n")?;
        block(out, "powershell", &super::for_terminal(check))?;
    }
    if let Some(expect) = &f.expect {
        writeln!(out, "\n**Expect:** {}", text(expect))?;
    }
    if let Some(docs) = &f.docs {
        writeln!(out, "\n**Docs:** <{docs}>")?;
    }
    // The decoded message reads better in a ticket than its envelope; secrets are masked.
    if let Some(line) = f.message.as_ref().or(f.samples.first()) {
        writeln!(out, "\n**Log line** (secrets masked):\n")?;
        block(out, "", &super::for_terminal(line))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_cannot_become_markup() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(
            text("| <script> *x* [l](u)"),
            "\\| \\<script\\> \\*x\\* \\[l\\](u)"
        );
        let mut out = Vec::new();
        block(&mut out, "", "```\nrm -rf /\n```").unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("````\n"), "{s}");
        assert!(s.ends_with("\n````\n"), "{s}");
    }
}
