//! The TOML schema of a rule file and its validation into [`RuleSet`] values. Every error names the
//! file and the line of the offending table or key, and says what would be valid.

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::{Code, Component, Fix, Origin, Pattern, Rule, RuleKind, RuleSet, Severity, ValueRule};

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    kind: Option<Spanned<String>>,
    component: Option<Spanned<String>>,
    cause: Option<Spanned<String>>,
    code: Option<String>,
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

/// Parses a rule file. With `lazy`, rule regexes are only checked for syntax here and compiled on
/// first use (for the built-in files, which the tests compile in full).
pub(super) fn parse(file: &str, text: &str, lazy: bool) -> Result<RuleSet, RuleError> {
    let lines = Lines::new(file, text);
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let origin = lines.origin(e.span().map_or(0, |s| s.start));
        RuleError::invalid(&origin, e.message().trim().to_string())
    })?;
    let mut set = RuleSet::default();
    let mut rule_lines: std::collections::HashMap<String, usize> = Default::default();
    for raw_rule in raw.rule {
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
            component: component(&lines, raw_fix.component.as_ref())?,
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
        set.codes.push(Code {
            code: raw_code.code.get_ref().clone(),
            message: raw_code.message,
            meaning: raw_code.meaning,
            component: component(&lines, raw_code.component.as_ref())?,
            cause: cause(&lines, raw_code.cause.as_ref())?,
        });
    }
    Ok(set)
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
    let component = component(lines, raw.component.as_ref())?;
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
        code: raw.code,
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

fn component(lines: &Lines, s: Option<&Spanned<String>>) -> Result<Option<Component>, RuleError> {
    match s {
        None => Ok(None),
        Some(s) if s.get_ref() == "*" || s.get_ref() == "any" => Ok(None),
        Some(s) => Component::parse(s.get_ref()).map(Some).ok_or_else(|| {
            lines.err(
                s,
                format!(
                    "unknown component `{}`; use cluster, registration, export or agent",
                    s.get_ref()
                ),
            )
        }),
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
    use super::*;

    fn err(text: &str) -> String {
        parse("my.toml", text, false).unwrap_err().to_string()
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
            "my.toml:4: unknown component `clutser`; use cluster, registration, export or agent"
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
    fn rule_without_examples_is_rejected() {
        let e = err("[[rule]]\nid = \"a\"\ncause = \"dns\"\nanchors = [\"abc\"]\ntitle = \"t\"\n");
        assert!(e.contains("at least one example"), "{e}");
    }
}
