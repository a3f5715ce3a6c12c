//! The human printer: a status line per component, then each failing component's findings with
//! what failed and why, how often and when, the fix, the check command and what its answer means,
//! the docs link and one sample line. Also the text of `faultline explain` and the one-line live
//! alerts printed while following a stream.

use std::io::{self, Write};

use super::{for_terminal, Document, FindingDoc, Seen};
use crate::findings::Status;
use crate::rules::{fill_template, Component, RuleKind, RuleSet, Severity};

/// Colours on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    /// Dim text (or plain, without colour).
    pub(crate) fn dim_text(self, t: &str) -> String {
        self.dim(t)
    }

    fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
    fn red(self, t: &str) -> String {
        self.paint("1;31", t)
    }
    fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    fn cyan(self, t: &str) -> String {
        self.paint("36", t)
    }

    fn status(self, s: Status) -> String {
        match s {
            Status::Failing => self.red(s.name()),
            Status::Recovered => self.yellow(s.name()),
            Status::Ok => self.green(s.name()),
            Status::Unknown => self.dim(s.name()),
        }
    }

    fn severity(self, s: Severity) -> String {
        match s {
            Severity::Error => self.red("error"),
            Severity::Warning => self.yellow("warning"),
            Severity::Info => self.dim("info"),
        }
    }
}

/// `n` and the noun for it: `1 line`, `3 lines`.
pub(crate) fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Where a line was seen; the source name comes from the input (a file or archive member name)
/// and is escaped for the terminal.
fn when(s: &Seen) -> String {
    let source = for_terminal(&s.source);
    match &s.timestamp {
        Some(t) => format!("{} ({source}:{})", for_terminal(t), s.line),
        None => format!("{source}:{}", s.line),
    }
}

/// Prints the report for a person.
pub fn print_human(out: &mut dyn Write, doc: &Document, style: Style) -> io::Result<()> {
    let problems = doc.findings.len() as u64;
    if problems == 0 {
        let s = &doc.stats;
        if s.lines == 0 {
            writeln!(
                out,
                "{}",
                style.bold("faultline: nothing to read — no line came in, so nothing was checked")
            )?;
            writeln!(
                out,
                "  Check the path (an empty directory or file?), or for `docker logs` that stderr \
                 is piped too: `docker logs autoops-otel-agent 2>&1 | faultline`."
            )?;
        } else if s.candidates == 0 {
            writeln!(
                out,
                "{}",
                style.bold(
                    "faultline: no problem found, but no line looked like the AutoOps agent's log"
                )
            )?;
            writeln!(
                out,
                "  No line of the {} read mentions the agent's connections. Is it the right container \
                 or file (autoops-otel-agent, /var/log/elastic-agent/)? Is stderr included \
                 (`2>&1`)? UTF-16 is read when it starts with a byte-order mark (as PowerShell 5.1 `>` writes it); without one, convert it to UTF-8 first.",
                plural(s.lines, "line", "lines")
            )?;
        } else {
            writeln!(out, "{}", style.bold("faultline: no problem found"))?;
        }
    } else {
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "faultline: {} found",
                plural(problems, "problem", "problems")
            ))
        )?;
    }
    writeln!(out)?;
    for c in Component::ALL {
        let status = doc.components[&c];
        let n = doc.findings.iter().filter(|f| f.component == c).count() as u64;
        if n == 0 {
            writeln!(out, "  {:<13} {}", c.name(), style.status(status))?;
        } else {
            let pad = " ".repeat(10usize.saturating_sub(status.name().len()));
            let detail = plural(n, "problem", "problems");
            writeln!(
                out,
                "  {:<13} {}{pad}{detail}",
                c.name(),
                style.status(status)
            )?;
        }
    }
    let unknown = doc
        .findings
        .iter()
        .filter(|f| f.component == Component::Unknown)
        .count() as u64;
    if unknown > 0 {
        // Not a connection with a status: failing lines that do not show which connection failed.
        writeln!(
            out,
            "  {:<13} {}  {}",
            Component::Unknown.name(),
            style.red(&plural(unknown, "problem", "problems")),
            style.dim("(the lines do not show which connection)")
        )?;
    }
    for c in Component::EVERY {
        let findings: Vec<&FindingDoc> = doc.findings.iter().filter(|f| f.component == c).collect();
        if findings.is_empty() {
            continue;
        }
        writeln!(out)?;
        let head = match doc.components.get(&c) {
            Some(status) => format!("── {} · {} ", c.name(), status.name()),
            None => "── connection unknown ".to_string(),
        };
        let rule_len = 72usize.saturating_sub(head.chars().count());
        writeln!(
            out,
            "{}",
            style.bold(&format!("{head}{}", "─".repeat(rule_len)))
        )?;
        for f in findings {
            print_finding(out, f, style)?;
        }
    }
    writeln!(out)?;
    let s = &doc.stats;
    let mut read = format!("Read {}", plural(s.sources, "source", "sources"));
    if s.members > 0 {
        read.push_str(&format!(" ({} archive members)", s.members));
    }
    read.push_str(&format!(
        ", {}, {}",
        plural(s.lines, "line", "lines"),
        human_bytes(s.bytes)
    ));
    read.push_str(&format!(
        "; {} failing, {} showing a working connection, {} ignored as harmless",
        plural(s.failures, "line", "lines"),
        s.successes,
        s.ignored
    ));
    if s.outside_window > 0 {
        read.push_str(&format!("; {} outside --since/--until", s.outside_window));
    }
    if s.binary_skipped > 0 {
        read.push_str(&format!(
            "; {} skipped (--text reads them)",
            plural(s.binary_skipped, "binary file", "binary files")
        ));
    }
    if s.limited > 0 {
        read.push_str(&format!(
            "; {} cut short by a safety limit",
            plural(s.limited, "input", "inputs")
        ));
    }
    if s.errors > 0 {
        read.push_str(&format!(
            "; {} could not be read",
            plural(s.errors, "input", "inputs")
        ));
    }
    writeln!(out, "{}", style.dim(&format!("{read}.")))?;
    if let Some(exit) = &doc.exit {
        writeln!(out, "{}", style.dim(exit))?;
    }
    Ok(())
}

fn print_finding(out: &mut dyn Write, f: &FindingDoc, style: Style) -> io::Result<()> {
    writeln!(out)?;
    let mark = match f.severity {
        Severity::Error => style.red("✗"),
        _ => style.yellow("!"),
    };
    writeln!(
        out,
        "{mark} {} {} {}",
        style.bold(&for_terminal(&f.cause)),
        style.dim("—"),
        for_terminal(&f.title)
    )?;
    let mut ids = format!(
        "{} · rule {}",
        style.severity(f.severity),
        for_terminal(&f.rule)
    );
    if let Some(code) = &f.code {
        ids.push_str(&format!(" · code {}", for_terminal(code)));
    }
    writeln!(out, "  {ids}")?;
    if f.count == 1 {
        writeln!(out, "  1 line at {}", when(&f.first_seen))?;
    } else {
        writeln!(
            out,
            "  {} lines, first {}, last {}",
            f.count,
            when(&f.first_seen),
            when(&f.last_seen)
        )?;
    }
    if let Some(fix) = &f.fix {
        writeln!(out, "  {}  {fix}", style.cyan("Fix"))?;
        for (i, step) in f.steps.iter().enumerate() {
            writeln!(out, "       {}. {step}", i + 1)?;
        }
    }
    if let Some(check) = &f.check {
        writeln!(out, "  {}  {}", style.cyan("Check"), for_terminal(check))?;
    }
    if let Some(check) = &f.check_powershell {
        writeln!(out, "  {}    {}", style.cyan("PS>"), for_terminal(check))?;
    }
    if let Some(expect) = &f.expect {
        writeln!(out, "  {} {expect}", style.cyan("Expect"))?;
    }
    if let Some(docs) = &f.docs {
        writeln!(out, "  {}   {docs}", style.cyan("Docs"))?;
    }
    if let Some(message) = &f.message {
        // Already masked and free of controls (`findings::sample_text`); bidi and invisible
        // characters are neutralised here.
        writeln!(
            out,
            "  {}    {}",
            style.cyan("Log"),
            style.dim(&for_terminal(message))
        )?;
    }
    Ok(())
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return plural(n, "byte", "bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// One line announcing that a component recovered, or failed again after it had recovered,
/// while following a stream.
pub(crate) fn live_status(
    component: Component,
    now: Status,
    agg: &crate::findings::Aggregation,
    style: Style,
) -> String {
    let none = crate::findings::ComponentState::default();
    let state = agg.components.get(component as usize).unwrap_or(&none);
    let at = |p: &Option<crate::findings::Pos>| p.as_ref().map(|p| when(&super::seen(p)));
    match now {
        Status::Recovered => format!(
            "{} {} {} recovered: it works again at {} after {}",
            style.green("✓"),
            style.bold(component.name()),
            style.dim("·"),
            at(&state.last_success).unwrap_or_default(),
            plural(state.failures, "failing line", "failing lines"),
        ),
        _ => format!(
            "{} {} {} failing again at {}",
            style.red("✗"),
            style.bold(component.name()),
            style.dim("·"),
            at(&state.last_failure).unwrap_or_default(),
        ),
    }
}

/// One line for a digest (`repeat`) or a `recovered` alert of a long run.
pub(crate) fn alert_line(
    alert: &crate::findings::alert::Alert,
    f: &FindingDoc,
    agg: &crate::findings::Aggregation,
    style: Style,
) -> String {
    use crate::findings::alert::AlertKind;
    let head = format!(
        "{} {} {}",
        style.bold(f.component.name()),
        style.dim("·"),
        style.bold(&super::for_terminal(&f.cause))
    );
    match alert.kind {
        AlertKind::Recovered => {
            let at = agg
                .components
                .get(f.component as usize)
                .and_then(|state| state.last_success.as_ref())
                .map(|p| when(&super::seen(p)))
                .unwrap_or_default();
            format!(
                "{} {head}: recovered, the {} works again at {at}",
                style.green("✓"),
                f.component.name()
            )
        }
        _ => {
            let secs = alert.window.as_secs();
            let window = if secs < 120 {
                plural(secs.max(1), "second", "seconds")
            } else {
                format!("{} min", secs / 60)
            };
            format!(
                "{} {head}: still failing, {} in the last {window} (last at {})",
                style.yellow("…"),
                plural(alert.lines, "time", "times"),
                when(&f.last_seen)
            )
        }
    }
}

/// One line announcing a finding seen for the first time while following a stream.
pub fn live_alert(f: &FindingDoc, style: Style) -> String {
    let mut line = format!(
        "{} {} {} {}: {} ({})",
        match f.severity {
            Severity::Error => style.red("✗"),
            _ => style.yellow("!"),
        },
        style.bold(f.component.name()),
        style.dim("·"),
        style.bold(&for_terminal(&f.cause)),
        for_terminal(&f.title),
        when(&f.first_seen)
    );
    if let Some(check) = &f.check {
        line.push_str(&format!("\n    check: {}", for_terminal(check)));
    }
    line
}

/// Explains a code (`HTTP_503`), a rule id, a cause or a fix id. Returns `false` if nothing by that
/// name is known.
pub fn explain(out: &mut dyn Write, set: &RuleSet, what: &str, style: Style) -> io::Result<bool> {
    let no_values = |_: &str| None;
    let print_fix = |out: &mut dyn Write, idx: Option<usize>| -> io::Result<()> {
        let Some(fix) = idx.map(|i| &set.fixes[i]) else {
            return Ok(());
        };
        writeln!(out, "{}  {}", style.cyan("Fix"), fix.summary)?;
        for (i, step) in fix.steps.iter().enumerate() {
            writeln!(out, "     {}. {step}", i + 1)?;
        }
        if let Some(check) = &fix.check {
            writeln!(
                out,
                "{}  {}",
                style.cyan("Check"),
                fill_template(check, no_values)
            )?;
        }
        if let Some(expect) = &fix.expect {
            writeln!(out, "{} {expect}", style.cyan("Expect"))?;
        }
        writeln!(out, "{}   {}", style.cyan("Docs"), fix.docs)
    };
    let key = what.trim();
    // `503` is the HTTP code `HTTP_503`.
    let as_code = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
        format!("HTTP_{key}")
    } else {
        key.to_string()
    };
    let table = set
        .codes
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(&as_code));
    // Where a finding can carry this code: rules that name it, and the table's own pair.
    let mut pairs: Vec<(Component, String)> = Vec::new();
    for r in set.rules.iter().filter(|r| {
        r.code
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case(&as_code))
    }) {
        let cause = r
            .cause
            .clone()
            .unwrap_or_else(|| crate::rules::UNKNOWN_CAUSE.into());
        let components: Vec<Component> = match r.component {
            Some(c) => vec![c],
            None => Component::EVERY.to_vec(),
        };
        for c in components {
            if !pairs.contains(&(c, cause.clone())) {
                pairs.push((c, cause.clone()));
            }
        }
    }
    if let Some(code) = table {
        if let Some(cause) = &code.cause {
            let components: Vec<Component> = match code.component {
                Some(c) => vec![c],
                None => Component::ALL.to_vec(),
            };
            for c in components {
                if !pairs.contains(&(c, cause.clone())) {
                    pairs.push((c, cause.clone()));
                }
            }
        }
    }
    if table.is_some() || !pairs.is_empty() {
        match table {
            Some(code) => {
                writeln!(out, "{} — {}", style.bold(&code.code), code.message)?;
                writeln!(out, "{}", code.meaning)?;
            }
            None => writeln!(out, "{}", style.bold(&as_code))?,
        }
        pairs.sort();
        // One fix per connection where the meaning differs; a fix that applies to every
        // component is shown once.
        let mut shown: Vec<usize> = Vec::new();
        for (component, cause) in &pairs {
            let Some(fix) = set.fix_for("", *component, cause) else {
                continue;
            };
            if shown.contains(&fix) {
                continue;
            }
            shown.push(fix);
            writeln!(out)?;
            let scope = if set.fixes[fix].component.is_some() {
                format!("On the {component} connection ({cause}):")
            } else {
                format!("On any connection ({cause}):")
            };
            writeln!(out, "{}", style.bold(&scope))?;
            print_fix(out, Some(fix))?;
        }
        return Ok(true);
    }
    if let Some(rule) = set.rules.iter().find(|r| r.id == key) {
        writeln!(out, "{} — {}", style.bold(&rule.id), rule.title)?;
        let kind = match rule.kind {
            RuleKind::Failure => "failure",
            RuleKind::Success => "success (the component works)",
            RuleKind::Ignore => "ignored (healthy)",
        };
        writeln!(out, "Kind: {kind}")?;
        if let Some(c) = rule.component {
            writeln!(out, "Component: {c}")?;
        }
        if let Some(cause) = &rule.cause {
            writeln!(out, "Cause: {cause}")?;
        }
        if let Some(code) = &rule.code {
            writeln!(out, "Code: {code}")?;
        }
        writeln!(
            out,
            "Defined at: {}",
            for_terminal(&rule.origin.to_string())
        )?;
        if let Some(example) = rule.examples.first() {
            writeln!(
                out,
                "Example: {}",
                for_terminal(&crate::findings::sample_text(example))
            )?;
        }
        if rule.kind == RuleKind::Failure {
            let component = rule.component.unwrap_or(Component::Unknown);
            let cause = rule.cause.as_deref().unwrap_or(crate::rules::UNKNOWN_CAUSE);
            print_fix(out, set.fix_for(&rule.id, component, cause))?;
        }
        return Ok(true);
    }
    if let Some(i) = set.fixes.iter().position(|f| f.id == key) {
        writeln!(out, "{}", style.bold(&set.fixes[i].id))?;
        print_fix(out, Some(i))?;
        return Ok(true);
    }
    // `HTTP_404` without a row in the code table is the cause `http-404`.
    let cause_key = match as_code.to_ascii_uppercase().strip_prefix("HTTP_") {
        Some(n) if n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()) => format!("http-{n}"),
        _ => key.to_string(),
    };
    let key = cause_key.as_str();
    let cause_fixes: Vec<usize> = set
        .fixes
        .iter()
        .enumerate()
        .filter(|(_, f)| f.rule.is_none() && f.cause.as_deref() == Some(key))
        .map(|(i, _)| i)
        .collect();
    let cause_rules: Vec<&str> = set
        .rules
        .iter()
        .filter(|r| r.cause.as_deref() == Some(key))
        .map(|r| r.id.as_str())
        .collect();
    let declared = set.causes.iter().find(|c| c.name == key);
    if !cause_fixes.is_empty() || !cause_rules.is_empty() || declared.is_some() {
        writeln!(out, "{} (a cause)", style.bold(key))?;
        if let Some(d) = declared {
            writeln!(out, "{}", for_terminal(&d.title))?;
        }
        if !cause_rules.is_empty() {
            writeln!(out, "Rules: {}", cause_rules.join(", "))?;
        }
        for i in cause_fixes {
            let f = &set.fixes[i];
            writeln!(out)?;
            let scope = f
                .component
                .map_or("any component".to_string(), |c| c.to_string());
            writeln!(out, "{}", style.bold(&format!("For {scope}:")))?;
            print_fix(out, Some(i))?;
        }
        return Ok(true);
    }
    Ok(false)
}
