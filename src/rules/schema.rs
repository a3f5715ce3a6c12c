//! The TOML schema of a rule file and its validation into [`RuleSet`] values. Every error names the
//! file and the line of the offending table or key, and says what would be valid.

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::{
    CauseDecl, Code, Component, Fix, Origin, Pattern, Rule, RuleKind, RuleSet, Severity, ValueRule,
};

/// A rule file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    #[error("cannot read rule file {file}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl RuleError {
    pub(crate) fn invalid(origin: &Origin, message: String) -> RuleError {
        RuleError::Invalid {
            file: origin.file.clone(),
            line: origin.line,
            message,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    value: Vec<Spanned<RawValue>>,
    #[serde(default)]
    fix: Vec<Spanned<RawFix>>,
    #[serde(default)]
    code: Vec<Spanned<RawCode>>,
    #[serde(default)]
    cause: Vec<Spanned<RawCause>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCause {
    name: Spanned<String>,
    title: String,
}

/// What a name in a rule file refers to: a cause or a documented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameKind {
    /// A `cause = "…"` of a rule, fix or code.
    Cause,
    /// A `code = "…"` of a rule.
    Code,
}

/// A cause or code a file uses, where it uses it: checked against the documented names and the
/// file's own declarations once they are all known ([`super::RuleSet::check_names`]).
#[derive(Debug, Clone)]
pub(super) struct NameRef {
    pub(super) kind: NameKind,
    pub(super) name: String,
    pub(super) origin: Origin,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    kind: Option<Spanned<String>>,
    component: Option<Spanned<String>>,
    cause: Option<Spanned<String>>,
    code: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    priority: i32,
    anchors: Spanned<Vec<Spanned<String>>>,
    regex: Option<Spanned<String>>,
    #[serde(default)]
    unless: Vec<String>,
    title: String,
    examples: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    counterexamples: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValue {
    regex: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFix {
    id: Spanned<String>,
    rule: Option<String>,
    component: Option<Spanned<String>>,
    cause: Option<Spanned<String>>,
    summary: String,
    #[serde(default)]
    steps: Vec<String>,
    check: Option<String>,
    check_powershell: Option<String>,
    expect: Option<String>,
    docs: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    code: Spanned<String>,
    message: String,
    meaning: String,
    component: Option<Spanned<String>>,
    cause: Option<Spanned<String>>,
}

/// Maps byte offsets to 1-based line numbers.
struct Lines<'a> {
    file: &'a str,
    /// Byte offsets at which lines 2, 3, … start.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(file: &'a str, text: &str) -> Lines<'a> {
        let starts = memchr::memchr_iter(b'\n', text.as_bytes())
            .map(|i| i + 1)
            .collect();
        Lines { file, starts }
    }

    fn origin(&self, offset: usize) -> Origin {
        Origin {
            file: self.file.to_string(),
            line: self.starts.partition_point(|&s| s <= offset) + 1,
        }
    }

    fn at<T>(&self, spanned: &Spanned<T>) -> Origin {
        self.origin(spanned.span().start)
    }

    fn err<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> RuleError {
        RuleError::invalid(&self.at(spanned), message.into())
    }
}

/// Parses a rule file, and lists the causes and codes it uses with where it uses them. With `lazy`,
/// rule regexes are only checked for syntax here and compiled on first use (for the built-in
/// files, which the tests compile in full).
pub(super) fn parse(
    file: &str,
    text: &str,
    lazy: bool,
) -> Result<(RuleSet, Vec<NameRef>), RuleError> {
    let lines = Lines::new(file, text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let origin = lines.origin(e.span().map_or(0, |s| s.start));
        RuleError::invalid(&origin, e.message().trim().to_string())
    })?;
    let mut set = RuleSet::default();
    let mut refs: Vec<NameRef> = Vec::new();
    let mut uses = |kind: NameKind, s: Option<&Spanned<String>>| {
        if let Some(s) = s.filter(|s| !matches!(s.get_ref().as_str(), "*" | "any")) {
            refs.push(NameRef {
                kind,
                name: s.get_ref().clone(),
                origin: lines.at(s),
            });
        }
    };
    let mut cause_lines: std::collections::HashMap<String, usize> = Default::default();
    for raw_cause in raw.cause {
        let origin = lines.at(&raw_cause);
        let raw_cause = raw_cause.into_inner();
        let name = kebab(&lines, &raw_cause.name, "cause")?;
        if let Some(line) = cause_lines.insert(name.clone(), origin.line) {
            return Err(lines.err(
                &raw_cause.name,
                format!("cause `{name}` is already declared at line {line}"),
            ));
        }
        set.causes.push(CauseDecl {
            name,
            title: raw_cause.title,
            origin,
        });
    }
    let mut rule_lines: std::collections::HashMap<String, usize> = Default::default();
    for raw_rule in raw.rule {
        uses(NameKind::Cause, raw_rule.get_ref().cause.as_ref());
        uses(NameKind::Code, raw_rule.get_ref().code.as_ref());
        let rule = rule(&lines, raw_rule, lazy)?;
        if let Some(line) = rule_lines.get(&rule.id) {
            return Err(RuleError::invalid(
                &rule.origin,
                format!(
                    "rule id `{}` is already used at line {line}; ids must be unique",
                    rule.id
                ),
            ));
        }
        rule_lines.insert(rule.id.clone(), rule.origin.line);
        set.rules.push(rule);
    }
    for raw_value in raw.value {
        let origin = lines.at(&raw_value);
        let regex = compile(&lines, &raw_value.get_ref().regex)?;
        if regex.capture_names().flatten().next().is_none() {
            return Err(lines.err(
                &raw_value.get_ref().regex,
                "a value regex needs at least one named group, like (?P<region>[a-z0-9-]+)",
            ));
        }
        set.values.push(ValueRule { regex, origin });
    }
    let mut fix_ids: std::collections::HashSet<String> = Default::default();
    for raw_fix in raw.fix {
        let origin = lines.at(&raw_fix);
        let raw_fix = raw_fix.into_inner();
        uses(NameKind::Cause, raw_fix.cause.as_ref());
        let id = kebab(&lines, &raw_fix.id, "fix id")?;
        if !fix_ids.insert(id.clone()) {
            return Err(lines.err(&raw_fix.id, format!("fix id `{id}` is used twice")));
        }
        let docs = raw_fix.docs.get_ref();
        if !docs.starts_with("https://") {
            return Err(lines.err(&raw_fix.docs, "docs must be an https:// link"));
        }
        set.fixes.push(Fix {
            id,
            rule: raw_fix.rule,
            component: component(&lines, raw_fix.component.as_ref(), false)?,
            cause: cause(&lines, raw_fix.cause.as_ref())?,
            summary: raw_fix.summary,
            steps: raw_fix.steps,
            check: raw_fix.check,
            check_powershell: raw_fix.check_powershell,
            expect: raw_fix.expect,
            docs: docs.clone(),
            origin,
        });
    }
    for raw_code in raw.code {
        let raw_code = raw_code.into_inner();
        uses(NameKind::Cause, raw_code.cause.as_ref());
        set.codes.push(Code {
            code: raw_code.code.get_ref().clone(),
            message: raw_code.message,
            meaning: raw_code.meaning,
            component: component(&lines, raw_code.component.as_ref(), false)?,
            cause: cause(&lines, raw_code.cause.as_ref())?,
        });
    }
    Ok((set, refs))
}

fn rule(lines: &Lines, raw: Spanned<RawRule>, lazy: bool) -> Result<Rule, RuleError> {
    let origin = lines.at(&raw);
    let raw = raw.into_inner();
    let id = kebab(lines, &raw.id, "rule id")?;
    let kind = match raw.kind.as_ref().map(|k| (k, k.get_ref().as_str())) {
        None | Some((_, "failure")) => RuleKind::Failure,
        Some((_, "success")) => RuleKind::Success,
        Some((_, "ignore")) => RuleKind::Ignore,
        Some((k, other)) => {
            return Err(lines.err(
                k,
                format!("unknown kind `{other}`; use failure, success or ignore"),
            ))
        }
    };
    let severity = match &raw.severity {
        None => None,
        Some(s) => Some(Severity::parse(s.get_ref()).ok_or_else(|| {
            lines.err(
                s,
                format!(
                    "unknown severity `{}`; use error, warning or info",
                    s.get_ref()
                ),
            )
        })?),
    };
    let component = component(lines, raw.component.as_ref(), true)?;
    let cause = cause(lines, raw.cause.as_ref())?;
    if kind == RuleKind::Success && component.is_none() {
        return Err(lines.err(
            &raw.id,
            "a success rule must name the component it proves works",
        ));
    }
    if kind == RuleKind::Failure && component.is_none() && cause.is_none() {
        return Err(lines.err(
            &raw.id,
            "a failure rule must name a component, a cause, or both",
        ));
    }
    if raw.anchors.get_ref().is_empty() {
        return Err(lines.err(&raw.anchors, "a rule needs at least one anchor"));
    }
    let mut anchors = Vec::new();
    for anchor in raw.anchors.get_ref() {
        let a = anchor.get_ref();
        if a.len() < 3 {
            return Err(lines.err(
                anchor,
                format!("anchor `{a}` is too short to be selective; use 3 or more characters"),
            ));
        }
        if a.chars().any(char::is_control) {
            return Err(lines.err(
                anchor,
                format!(
                    "anchor `{}` contains a control character; anchors are searched within one line",
                    a.escape_debug()
                ),
            ));
        }
        if let Some(c) = a
            .chars()
            .find(|c| matches!(c, '"' | '\\' | '<' | '>' | '&'))
        {
            return Err(lines.err(
                anchor,
                format!(
                    "anchor `{a}` contains `{c}`, which is escaped differently in JSON and Docker logs; \
                     anchor on a literal without \" \\ < > & and check the rest with `regex`"
                ),
            ));
        }
        anchors.push(a.clone());
    }
    let regex = match &raw.regex {
        Some(r) if lazy => {
            let hir = regex_syntax::Parser::new()
                .parse(r.get_ref())
                .map_err(|e| invalid_regex(lines, r, &e.to_string()))?;
            Some(Pattern::lazy(r.get_ref().clone(), &hir))
        }
        Some(r) => Some(Pattern::compiled(compile(lines, r)?)),
        None => None,
    };
    let examples = match raw.examples {
        Some(e) if !e.get_ref().is_empty() => e.into_inner(),
        Some(e) => {
            return Err(lines.err(
                &e,
                format!("rule `{id}` needs at least one example line in `examples`"),
            ))
        }
        None => {
            return Err(lines.err(
                &raw.id,
                format!("rule `{id}` needs at least one example line in `examples`"),
            ))
        }
    };
    Ok(Rule {
        id,
        kind,
        component,
        cause,
        code: raw.code.map(Spanned::into_inner),
        severity,
        priority: raw.priority,
        anchors,
        regex,
        unless: raw.unless,
        title: raw.title,
        examples,
        counterexamples: raw.counterexamples,
        origin,
    })
}

fn compile(lines: &Lines, pattern: &Spanned<String>) -> Result<Regex, RuleError> {
    Regex::new(pattern.get_ref()).map_err(|e| invalid_regex(lines, pattern, &e.to_string()))
}

fn invalid_regex(lines: &Lines, pattern: &Spanned<String>, detail: &str) -> RuleError {
    let last = detail.lines().last().unwrap_or("invalid regex").trim();
    lines.err(pattern, format!("invalid regex: {last}"))
}

fn kebab(lines: &Lines, s: &Spanned<String>, what: &str) -> Result<String, RuleError> {
    let v = s.get_ref();
    let ok = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(v.clone())
    } else {
        Err(lines.err(
            s,
            format!("{what} `{v}` must be lower-case letters, digits, `-` or `_`"),
        ))
    }
}

/// A component name. A rule names a component only on evidence, so it cannot name `unknown`; a fix
/// or a code can (`for_rule` false): a finding without evidence of its connection has that
/// component and gets its fixes.
fn component(
    lines: &Lines,
    s: Option<&Spanned<String>>,
    for_rule: bool,
) -> Result<Option<Component>, RuleError> {
    let valid = if for_rule {
        "cluster, registration, export or agent (or leave it out)"
    } else {
        "cluster, registration, export, agent or unknown"
    };
    match s {
        None => Ok(None),
        Some(s) if s.get_ref() == "*" || s.get_ref() == "any" => Ok(None),
        Some(s) => match Component::parse(s.get_ref()) {
            Some(Component::Unknown) if for_rule => Err(lines.err(
                s,
                format!(
                    "a rule cannot name the component `unknown`: leave `component` out and the \
                     line's URL, host, port or envelope decides; use {valid}"
                ),
            )),
            Some(c) => Ok(Some(c)),
            None => Err(lines.err(
                s,
                format!("unknown component `{}`; use {valid}", s.get_ref()),
            )),
        },
    }
}

fn cause(lines: &Lines, s: Option<&Spanned<String>>) -> Result<Option<String>, RuleError> {
    match s {
        None => Ok(None),
        Some(s) if s.get_ref() == "*" || s.get_ref() == "any" => Ok(None),
        Some(s) => kebab(lines, s, "cause").map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::super::RuleSet;

    fn err(text: &str) -> String {
        RuleSet::parse("my.toml", text).unwrap_err().to_string()
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let e = err("[[rule]]\nid = \"a\"\nanchors = [\"x\"\n");
        assert!(e.starts_with("my.toml:3:"), "{e}");
    }

    #[test]
    fn bad_regex_names_its_line() {
        let e = err(
            "[[rule]]\nid = \"a\"\ncause = \"dns\"\nanchors = [\"no such host\"]\nregex = 'a(b'\ntitle = \"t\"\nexamples = [\"x\"]\n",
        );
        assert!(e.starts_with("my.toml:5: invalid regex"), "{e}");
    }

    #[test]
    fn unknown_component_is_explained() {
        let e = err(
            "\n[[rule]]\nid = \"a\"\ncomponent = \"clutser\"\nanchors = [\"abc\"]\ntitle = \"t\"\nexamples = [\"abc\"]\n",
        );
        assert_eq!(
            e,
            "my.toml:4: unknown component `clutser`; use cluster, registration, export or agent (or leave it out)"
        );
    }

    #[test]
    fn unknown_key_is_rejected() {
        let e = err("[[rule]]\nid = \"a\"\nanchor = [\"abc\"]\n");
        assert!(e.starts_with("my.toml:"), "{e}");
        assert!(e.contains("anchor"), "{e}");
    }

    #[test]
    fn anchor_with_control_character_is_rejected() {
        let e = err(
            "[[rule]]\nid = \"a\"\ncause = \"dns\"\nanchors = [\"no such\\nhost\"]\ntitle = \"t\"\nexamples = [\"x\"]\n",
        );
        assert!(e.starts_with("my.toml:4: anchor"), "{e}");
        assert!(e.contains("control character"), "{e}");
    }

    #[test]
    fn anchor_with_quote_is_rejected() {
        let e = err(
            "[[rule]]\nid = \"a\"\ncause = \"dns\"\nanchors = ['Post \"https']\ntitle = \"t\"\nexamples = [\"x\"]\n",
        );
        assert!(e.starts_with("my.toml:4: anchor"), "{e}");
    }

    #[test]
    fn an_undeclared_cause_is_an_error_with_its_line_and_the_valid_names() {
        let e = err(
            "[[rule]]\nid = \"a\"\n\ncause = \"rate-limited\"\nanchors = [\"Too Many Requests\"]\ntitle = \"t\"\nexamples = [\"Too Many Requests\"]\n",
        );
        assert!(
            e.starts_with("my.toml:4: cause `rate-limited` is not a documented cause; use one of "),
            "{e}"
        );
        for name in ["dns", "refused", "http-401", "unknown"] {
            assert!(
                e.contains(&format!("{name},")) || e.contains(&format!("{name} ")),
                "{name}: {e}"
            );
        }
        assert!(e.contains("[[cause]]"), "{e}");
        // A fix or a code table entry may not invent one either.
        let e = err(
            "[[fix]]\nid = \"f\"\ncause = \"typo-dsn\"\nsummary = \"s\"\ndocs = \"https://x\"\n",
        );
        assert!(e.starts_with("my.toml:3: cause `typo-dsn`"), "{e}");
    }

    #[test]
    fn a_cause_declared_in_the_file_is_valid() {
        let set = RuleSet::parse(
            "my.toml",
            "[[cause]]\nname = \"rate-limited\"\ntitle = \"The server asked to slow down\"\n\n[[rule]]\nid = \"a\"\ncause = \"rate-limited\"\nanchors = [\"Too Many Requests\"]\ntitle = \"t\"\nexamples = [\"Too Many Requests\"]\n",
        )
        .unwrap();
        assert_eq!(set.causes[0].name, "rate-limited");
        assert_eq!(set.causes[0].origin.line, 1);
        let e = err(
            "[[cause]]\nname = \"x-y\"\ntitle = \"a\"\n[[cause]]\nname = \"x-y\"\ntitle = \"b\"\n",
        );
        assert_eq!(e, "my.toml:5: cause `x-y` is already declared at line 1");
        let e = err("[[cause]]\nname = \"Bad Name\"\ntitle = \"a\"\n");
        assert!(
            e.starts_with("my.toml:2: cause `Bad Name` must be lower-case"),
            "{e}"
        );
    }

    #[test]
    fn a_code_outside_the_code_table_is_an_error_unless_the_file_adds_it() {
        let rule = "[[rule]]\nid = \"a\"\ncause = \"http-503\"\ncode = \"HTTP_429\"\nanchors = [\"Too Many Requests\"]\ntitle = \"t\"\nexamples = [\"Too Many Requests\"]\n";
        let e = err(rule);
        assert!(
            e.starts_with(
                "my.toml:4: code `HTTP_429` is not a code in the code table; use one of "
            ),
            "{e}"
        );
        assert!(e.contains("HTTP_401") && e.contains("[[code]]"), "{e}");
        let with_code = format!(
            "{rule}\n[[code]]\ncode = \"HTTP_429\"\nmessage = \"Too many requests\"\nmeaning = \"m\"\n"
        );
        RuleSet::parse("my.toml", &with_code).unwrap();
    }

    #[test]
    fn rule_without_examples_is_rejected() {
        let e = err("[[rule]]\nid = \"a\"\ncause = \"dns\"\nanchors = [\"abc\"]\ntitle = \"t\"\n");
        assert!(e.contains("at least one example"), "{e}");
    }
}
