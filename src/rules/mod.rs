//! Rule files: their TOML schema, loading with `file:line` errors, validation, and the built-in set
//! compiled into the binary. A [`RuleSet`] is plain data (rules, captured values, fixes and the
//! documented error codes); turning it into something that runs over bytes is the matcher's job.
//! The format is described for users in `rules/README.md`.

mod fill;

pub use fill::Shell;
mod schema;

use std::fmt;
use std::path::Path;
use std::sync::OnceLock;

use memchr::memmem;
use regex::Regex;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use schema::RuleError;

/// The built-in rule files, compiled in. Order matters: earlier rules win priority ties.
const BUILTIN: &[(&str, &str)] = &[
    ("rules/values.toml", include_str!("../../rules/values.toml")),
    ("rules/causes.toml", include_str!("../../rules/causes.toml")),
    (
        "rules/cluster.toml",
        include_str!("../../rules/cluster.toml"),
    ),
    (
        "rules/registration.toml",
        include_str!("../../rules/registration.toml"),
    ),
    ("rules/export.toml", include_str!("../../rules/export.toml")),
    ("rules/agent.toml", include_str!("../../rules/agent.toml")),
    ("rules/fixes.toml", include_str!("../../rules/fixes.toml")),
    ("rules/codes.toml", include_str!("../../rules/codes.toml")),
];

/// The cause given to a failure no rule names a cause for.
pub const UNKNOWN_CAUSE: &str = "unknown";

/// One of the agent's connections, or the agent itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// agent → the user's Elasticsearch
    Cluster,
    /// agent → Elastic Cloud Connect API
    Registration,
    /// agent → AutoOps OTLP endpoint
    Export,
    /// the agent itself: configuration, installation
    Agent,
    /// a failure whose line shows no evidence of which connection it concerns: no rule names a
    /// component, and neither its URL, host, port, path nor its envelope's fields tell
    Unknown,
}

impl Component {
    /// The agent's connections and the agent itself, in the order the agent makes its
    /// connections: the components that have a status. [`Component::Unknown`] is not one of them.
    pub const ALL: [Component; 4] = [
        Component::Cluster,
        Component::Registration,
        Component::Export,
        Component::Agent,
    ];

    /// Every value a finding's component can take: [`Component::ALL`] and then
    /// [`Component::Unknown`]. `c as usize` indexes it.
    pub const EVERY: [Component; 5] = [
        Component::Cluster,
        Component::Registration,
        Component::Export,
        Component::Agent,
        Component::Unknown,
    ];

    /// The name used in rule files and output.
    pub fn name(self) -> &'static str {
        match self {
            Component::Cluster => "cluster",
            Component::Registration => "registration",
            Component::Export => "export",
            Component::Agent => "agent",
            Component::Unknown => "unknown",
        }
    }

    /// Parses a component name, `unknown` included.
    pub fn parse(s: &str) -> Option<Component> {
        Component::EVERY.into_iter().find(|c| c.name() == s)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// informational
    Info,
    /// a retry or a degraded state
    Warning,
    /// a failure
    Error,
}

impl Severity {
    /// The name used in rule files and output.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses a severity name.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a matching line means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The line reports a failure.
    Failure,
    /// The line shows that a component works.
    Success,
    /// The line looks alarming but is healthy.
    Ignore,
}

/// Where something was defined: a rule file and a line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file's name as given (or `rules/….toml` for built-in files).
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// failure, success or ignore.
    pub kind: RuleKind,
    /// The component the rule names, if it names one.
    pub component: Option<Component>,
    /// The cause the rule names, if it names one.
    pub cause: Option<String>,
    /// The documented error code.
    pub code: Option<String>,
    /// A fixed severity, overriding the line's level.
    pub severity: Option<Severity>,
    /// Higher wins.
    pub priority: i32,
    /// Literals; any one present makes the line a candidate.
    pub anchors: Vec<String>,
    /// Must match the decoded text, when present.
    pub regex: Option<Pattern>,
    /// Literals that veto the rule.
    pub unless: Vec<String>,
    /// One line: what the rule means.
    pub title: String,
    /// Lines that must classify as this rule.
    pub examples: Vec<String>,
    /// Lines that must not classify as this rule.
    pub counterexamples: Vec<String>,
    /// Where the rule is defined.
    pub origin: Origin,
}

/// A rule's regex. A built-in one is only checked for syntax when the rules load and is compiled
/// the first time a line needs it (a healthy log needs few of them); one from a user's file is
/// compiled at once, so every error is reported with its file and line. A regex that matches
/// exactly a few literals (`connection refused|actively refused`) is tested with substring
/// searches, which need no compiling and run faster; its regex still serves captures.
pub struct Pattern {
    source: String,
    compiled: OnceLock<Regex>,
    /// The literals the regex matches exactly, if it is such a small set of them.
    literals: Option<Box<[memmem::Finder<'static>]>>,
}

/// The most literals a regex may stand for to be tested as substrings.
const MAX_LITERALS: usize = 16;

/// The literals `hir` matches exactly, if it is a small finite set of non-empty ones: then a text
/// holds a match if and only if it holds one of them.
fn exact_literals(hir: &regex_syntax::hir::Hir) -> Option<Box<[memmem::Finder<'static>]>> {
    // The extractor reads `\b`, `^`, `$` as empty strings: `EOF\b` would yield an exact `EOF`.
    if !hir.properties().look_set().is_empty() {
        return None;
    }
    let seq = regex_syntax::hir::literal::Extractor::new().extract(hir);
    let literals = seq.literals()?;
    if !seq.is_exact()
        || literals.is_empty()
        || literals.len() > MAX_LITERALS
        || literals.iter().any(|l| l.as_bytes().is_empty())
    {
        return None;
    }
    Some(
        literals
            .iter()
            .map(|l| memmem::Finder::new(l.as_bytes()).into_owned())
            .collect(),
    )
}

impl Pattern {
    /// A pattern compiled on first use, from its parsed syntax. `source` must be known to compile
    /// (the built-in rules, all compiled by the tests).
    fn lazy(source: String, hir: &regex_syntax::hir::Hir) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
            literals: exact_literals(hir),
        }
    }

    /// A pattern already compiled.
    fn compiled(regex: Regex) -> Pattern {
        let literals = regex_syntax::Parser::new()
            .parse(regex.as_str())
            .ok()
            .and_then(|hir| exact_literals(&hir));
        Pattern {
            source: regex.as_str().to_string(),
            compiled: OnceLock::from(regex),
            literals,
        }
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `text` holds a match: by substring search when the regex is a set of literals.
    pub fn is_match(&self, text: &str) -> bool {
        match &self.literals {
            Some(literals) => literals.iter().any(|l| l.find(text.as_bytes()).is_some()),
            None => std::ops::Deref::deref(self).is_match(text),
        }
    }

    /// Whether [`Pattern::is_match`] searches for literals rather than running the regex.
    pub fn is_literal_set(&self) -> bool {
        self.literals.is_some()
    }
}

impl std::ops::Deref for Pattern {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source).expect("built-in patterns are compiled by the tests")
        })
    }
}

impl Clone for Pattern {
    fn clone(&self) -> Pattern {
        Pattern {
            source: self.source.clone(),
            compiled: self.compiled.clone(),
            literals: self.literals.clone(),
        }
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// A regex whose named groups are captured from every failing line.
#[derive(Debug, Clone)]
pub struct ValueRule {
    /// The regex; its named groups are the value names.
    pub regex: Regex,
    /// Where it is defined.
    pub origin: Origin,
}

/// What to do about a finding.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// Unique id.
    pub id: String,
    /// A fix for one rule only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The component it applies to; `None` means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    /// The cause it applies to; `None` means any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What is wrong, in a sentence or two.
    pub summary: String,
    /// What to do.
    pub steps: Vec<String>,
    /// A command that tests the path, with `{{value|default}}` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The same test for Windows PowerShell, shown when the log came from Windows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_powershell: Option<String>,
    /// The answer of `check` that proves the path is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    /// The documentation page.
    pub docs: String,
    /// Where it is defined.
    #[serde(skip)]
    pub origin: Origin,
}

/// A documented error code (the wizard's "Potential errors" table).
#[derive(Debug, Clone, Serialize)]
pub struct Code {
    /// `HTTP_503`, `LICENSE_EXPIRED`, …
    pub code: String,
    /// The wording the wizard shows.
    pub message: String,
    /// What it means, in our words.
    pub meaning: String,
    /// The component it concerns, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    /// The cause whose fix applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A cause name a rule file may use: the built-in files declare the documented ones
/// (`rules/causes.toml`), and a user's file declares its own.
#[derive(Debug, Clone, Serialize)]
pub struct CauseDecl {
    /// The name: kebab-case, as rules, fixes and `--format json` write it.
    pub name: String,
    /// One line: what the cause means, in our words.
    pub title: String,
    /// Where it is declared.
    #[serde(skip)]
    pub origin: Origin,
}

/// The cause and code names a rule file may use without declaring them: the causes the built-in
/// files declare (and [`UNKNOWN_CAUSE`]) and the code table's codes.
struct Documented {
    causes: Vec<String>,
    codes: Vec<String>,
}

static DOCUMENTED: OnceLock<Documented> = OnceLock::new();

impl Documented {
    fn of(set: &RuleSet) -> Documented {
        let mut causes: Vec<String> = std::iter::once(UNKNOWN_CAUSE.to_string())
            .chain(set.causes.iter().map(|c| c.name.clone()))
            .collect();
        causes.sort();
        causes.dedup();
        let mut codes: Vec<String> = set.codes.iter().map(|c| c.code.clone()).collect();
        codes.sort();
        codes.dedup();
        Documented { causes, codes }
    }

    /// The documented names, from the built-in set (parsed here if it was not loaded yet).
    fn get() -> &'static Documented {
        if let Some(d) = DOCUMENTED.get() {
            return d;
        }
        // Loading the built-in set records its names (not from inside `get_or_init`, which must
        // not be entered again by the same thread).
        let set = RuleSet::builtin().expect("the built-in rules are valid");
        DOCUMENTED.get_or_init(|| Documented::of(&set))
    }
}

/// Checks that every cause and code `refs` names is documented or declared by its own file (in
/// `set`): the error names the first one that is neither, where it is, and what is valid.
fn check_names(
    refs: &[schema::NameRef],
    documented: &Documented,
    set: &RuleSet,
) -> Result<(), RuleError> {
    for r in refs {
        let in_file = |file: &str| match r.kind {
            schema::NameKind::Cause => set
                .causes
                .iter()
                .any(|c| c.name == r.name && c.origin.file == file),
            schema::NameKind::Code => false,
        };
        let (known, what) = match r.kind {
            schema::NameKind::Cause => (&documented.causes, "cause"),
            schema::NameKind::Code => (&documented.codes, "code"),
        };
        let declared_codes = || set.codes.iter().any(|c| c.code == r.name);
        let ok = known.contains(&r.name)
            || in_file(&r.origin.file)
            || (r.kind == schema::NameKind::Code && declared_codes());
        if ok {
            continue;
        }
        let how = match r.kind {
            schema::NameKind::Cause => format!(
                "or declare it in this file:\n  [[cause]]\n  name = \"{}\"\n  title = \"What it means, in a line\"",
                r.name
            ),
            schema::NameKind::Code => format!(
                "or add it to this file's code table:\n  [[code]]\n  code = \"{}\"\n  message = \"...\"\n  meaning = \"...\"",
                r.name
            ),
        };
        let doc = match r.kind {
            schema::NameKind::Cause => "documented cause",
            schema::NameKind::Code => "code in the code table",
        };
        return Err(RuleError::invalid(
            &r.origin,
            format!(
                "{what} `{}` is not a {doc}; use one of {}, {how}",
                r.name,
                known.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Everything faultline knows: rules, values, fixes and codes from one or more files.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Rules in file order.
    pub rules: Vec<Rule>,
    /// Value captures in file order.
    pub values: Vec<ValueRule>,
    /// Fixes in file order.
    pub fixes: Vec<Fix>,
    /// Documented codes.
    pub codes: Vec<Code>,
    /// Declared causes.
    pub causes: Vec<CauseDecl>,
}

impl RuleSet {
    /// The built-in set. Its files are parsed in parallel (180 KB of TOML, most of a run's
    /// start-up) and merged in file order.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        use rayon::prelude::*;
        let parts: Vec<Result<(RuleSet, Vec<schema::NameRef>), RuleError>> = BUILTIN
            .par_iter()
            .map(|(name, text)| schema::parse(name, text, true))
            .collect();
        let mut set = RuleSet::default();
        let mut refs = Vec::new();
        for part in parts {
            let (part, r) = part?;
            set.merge(part);
            refs.extend(r);
        }
        // The built-in files together are the documentation: what they declare is documented.
        let documented = Documented::of(&set);
        check_names(&refs, &documented, &set)?;
        let _ = DOCUMENTED.set(documented);
        set.check_references()?;
        Ok(set)
    }

    /// The cause names every rule file may use: the documented causes, sorted.
    pub fn documented_causes() -> &'static [String] {
        &Documented::get().causes
    }

    /// Names of the built-in rule files.
    pub fn builtin_files() -> impl Iterator<Item = &'static str> {
        BUILTIN.iter().map(|(name, _)| *name)
    }

    /// Loads one rule file from disk.
    pub fn load(path: &Path) -> Result<RuleSet, RuleError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| RuleError::Read {
            file: file.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            RuleError::Invalid {
                file: file.clone(),
                line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
                message: "this line is not valid UTF-8: save the file as UTF-8".to_string(),
            }
        })?;
        RuleSet::parse(&file, &text)
    }

    /// Parses and validates one rule file's text; `name` is used in error messages. Its causes
    /// and codes must be documented (declared by the built-in files) or declared in the file.
    pub fn parse(name: &str, text: &str) -> Result<RuleSet, RuleError> {
        let (set, refs) = schema::parse(name, text, false)?;
        check_names(&refs, Documented::get(), &set)?;
        Ok(set)
    }

    /// Adds `other` to this set: a rule, fix or code whose id matches one already here replaces it
    /// in place; the others are appended.
    pub fn merge(&mut self, other: RuleSet) {
        fn merge_by<T>(mine: &mut Vec<T>, theirs: Vec<T>, key: impl Fn(&T) -> String) {
            let mut at: HashMap<String, usize> =
                mine.iter().enumerate().map(|(i, x)| (key(x), i)).collect();
            for x in theirs {
                match at.get(&key(&x)) {
                    Some(&i) => mine[i] = x,
                    None => {
                        at.insert(key(&x), mine.len());
                        mine.push(x);
                    }
                }
            }
        }
        merge_by(&mut self.rules, other.rules, |r| r.id.clone());
        self.values.extend(other.values);
        merge_by(&mut self.fixes, other.fixes, |f| f.id.clone());
        merge_by(&mut self.codes, other.codes, |c| c.code.clone());
        merge_by(&mut self.causes, other.causes, |c| c.name.clone());
    }

    /// Checks what one file cannot check alone: duplicate ids and fixes naming unknown rules.
    pub fn check_references(&self) -> Result<(), RuleError> {
        let ids: HashSet<&str> = self.rules.iter().map(|r| r.id.as_str()).collect();
        for fix in &self.fixes {
            if let Some(rule) = &fix.rule {
                if !ids.contains(rule.as_str()) {
                    return Err(RuleError::invalid(
                        &fix.origin,
                        format!(
                            "fix `{}` names rule `{rule}`, which no rule file defines",
                            fix.id
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The fix for a finding: by rule, then (component, cause), (component, any), (any, cause),
    /// (any, any).
    pub fn fix_for(&self, rule: &str, component: Component, cause: &str) -> Option<usize> {
        let find = |pred: &dyn Fn(&Fix) -> bool| self.fixes.iter().position(pred);
        find(&|f| f.rule.as_deref() == Some(rule))
            .or_else(|| {
                find(&|f| {
                    f.rule.is_none()
                        && f.component == Some(component)
                        && f.cause.as_deref() == Some(cause)
                })
            })
            .or_else(|| {
                find(&|f| f.rule.is_none() && f.component == Some(component) && f.cause.is_none())
            })
            .or_else(|| {
                find(&|f| {
                    f.rule.is_none() && f.component.is_none() && f.cause.as_deref() == Some(cause)
                })
            })
            .or_else(|| find(&|f| f.rule.is_none() && f.component.is_none() && f.cause.is_none()))
    }

    /// The documented code for a cause, if the code table has one.
    pub fn code_for_cause(&self, component: Component, cause: &str) -> Option<&Code> {
        self.codes
            .iter()
            .find(|c| c.cause.as_deref() == Some(cause) && c.component == Some(component))
            .or_else(|| {
                self.codes
                    .iter()
                    .find(|c| c.cause.as_deref() == Some(cause) && c.component.is_none())
            })
    }
}

/// [`RuleSet::fix_for`] for many lookups: each level of the fallback is a map built once, so
/// compiling N rules against M fixes costs N + M, not N × M.
pub(crate) struct FixIndex<'s> {
    by_rule: HashMap<&'s str, usize>,
    by_component_cause: HashMap<(Component, &'s str), usize>,
    by_component: HashMap<Component, usize>,
    by_cause: HashMap<&'s str, usize>,
    any: Option<usize>,
}

impl<'s> FixIndex<'s> {
    /// The index of a set's fixes; the first fix of each key wins, as in [`RuleSet::fix_for`].
    pub(crate) fn new(set: &'s RuleSet) -> FixIndex<'s> {
        let mut ix = FixIndex {
            by_rule: HashMap::new(),
            by_component_cause: HashMap::new(),
            by_component: HashMap::new(),
            by_cause: HashMap::new(),
            any: None,
        };
        for (i, f) in set.fixes.iter().enumerate() {
            match (&f.rule, f.component, f.cause.as_deref()) {
                (Some(rule), _, _) => {
                    ix.by_rule.entry(rule.as_str()).or_insert(i);
                }
                (None, Some(c), Some(cause)) => {
                    ix.by_component_cause.entry((c, cause)).or_insert(i);
                }
                (None, Some(c), None) => {
                    ix.by_component.entry(c).or_insert(i);
                }
                (None, None, Some(cause)) => {
                    ix.by_cause.entry(cause).or_insert(i);
                }
                (None, None, None) => {
                    ix.any.get_or_insert(i);
                }
            }
        }
        ix
    }

    /// The same answer as [`RuleSet::fix_for`].
    pub(crate) fn fix_for(&self, rule: &str, component: Component, cause: &str) -> Option<usize> {
        self.by_rule
            .get(rule)
            .or_else(|| self.by_component_cause.get(&(component, cause)))
            .or_else(|| self.by_component.get(&component))
            .or_else(|| self.by_cause.get(cause))
            .copied()
            .or(self.any)
    }
}

/// Fills `{{name}}` and `{{name|default}}` placeholders from `lookup`, for a shell. The values
/// `lookup` gives come from log lines and are untrusted: each is validated by the kind its name
/// stands for (`*_url`, `*_host`, `*_port`, `proxy`, `region`, `csp`, …) and, if it is not valid,
/// not used, as if the line had not shown it; a value of any other name is single-quoted for the
/// quoting context it sits in (see `fill`). Defaults are template text and go in as written.
pub fn fill_template<'v>(template: &str, lookup: impl Fn(&str) -> Option<&'v str>) -> String {
    fill_template_in(Shell::Posix, template, lookup)
}

/// [`fill_template`] for `shell`.
pub fn fill_template_in<'v>(
    shell: Shell,
    template: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    let mut quote = fill::Quote::None;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        quote = quote.after_in(shell, &rest[..start]);
        let inner = &rest[start + 2..start + 2 + len];
        let (name, default) = match inner.split_once('|') {
            Some((name, default)) => (name.trim(), Some(default)),
            None => (inner.trim(), None),
        };
        let value = lookup(name).and_then(|v| fill::safe_value(name, v, quote, shell));
        match (value, default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => {
                out.push_str(default);
                quote = quote.after_in(shell, default);
            }
            // `<name>` tells a person what to put there; quoted, so that a paste cannot read
            // it as redirections.
            (None, None) => {
                let placeholder = format!("<{name}>");
                match (quote, shell) {
                    (fill::Quote::None, Shell::Posix) => {
                        out.push_str(&fill::quoted(&placeholder, quote))
                    }
                    (fill::Quote::None, Shell::PowerShell) => {
                        out.push_str(&format!("'{placeholder}'"))
                    }
                    _ => out.push_str(&placeholder),
                }
            }
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_built_in_curl_check_has_a_powershell_form_with_the_same_values() {
        let set = RuleSet::builtin().unwrap();
        let placeholders = |t: &str| {
            let mut names: Vec<String> = t
                .split("{{")
                .skip(1)
                .filter_map(|p| p.split_once("}}"))
                .map(|(inner, _)| inner.split('|').next().unwrap().trim().to_string())
                .collect();
            names.sort();
            names
        };
        let mut both = 0;
        for fix in &set.fixes {
            let (Some(check), ps) = (&fix.check, &fix.check_powershell) else {
                assert!(fix.check_powershell.is_none(), "{}", fix.id);
                continue;
            };
            if check.starts_with("curl ") {
                let ps = ps
                    .as_deref()
                    .unwrap_or_else(|| panic!("{}: no PowerShell check", fix.id));
                assert!(ps.contains("curl.exe "), "{}: {ps}", fix.id);
                assert_eq!(placeholders(check), placeholders(ps), "{}", fix.id);
                assert!(
                    !ps.contains(" $AUTOOPS") && !ps.contains("$HTTPS"),
                    "{}: {ps}",
                    fix.id
                );
                both += 1;
            }
        }
        assert!(both > 50, "{both}");
    }

    #[test]
    fn the_fix_index_answers_as_fix_for_does() {
        let set = RuleSet::builtin().unwrap();
        let ix = FixIndex::new(&set);
        let causes: Vec<&str> = set
            .rules
            .iter()
            .filter_map(|r| r.cause.as_deref())
            .chain([UNKNOWN_CAUSE, "no-such-cause"])
            .collect();
        let mut checked = 0;
        for rule in set
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .chain(["no-such-rule"])
        {
            for c in Component::EVERY {
                for cause in &causes {
                    assert_eq!(
                        ix.fix_for(rule, c, cause),
                        set.fix_for(rule, c, cause),
                        "{rule} {c} {cause}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    use super::*;

    #[test]
    fn literal_sets_match_exactly_as_their_regexes() {
        let set = RuleSet::builtin().unwrap();
        let texts: Vec<String> = set
            .rules
            .iter()
            .flat_map(|r| r.examples.iter().chain(&r.counterexamples))
            .flat_map(|line| {
                [
                    line.clone(),
                    crate::record::decode(line.as_bytes()).text.into_owned(),
                ]
            })
            .chain(["".to_string(), "CONNECTION REFUSED".to_string()])
            .collect();
        let patterns: Vec<&Pattern> = set.rules.iter().filter_map(|r| r.regex.as_ref()).collect();
        let literal = patterns.iter().filter(|p| p.is_literal_set()).count();
        assert!(
            literal >= 5,
            "{literal} of {} regexes are literal sets",
            patterns.len()
        );
        for p in &patterns {
            let regex = Regex::new(p.as_str()).unwrap();
            for t in &texts {
                assert_eq!(p.is_match(t), regex.is_match(t), "{} on {t:?}", p.as_str());
            }
        }
        // Not literal sets: classes, repetitions, assertions.
        for source in [
            r"x509: \S+",
            r"a\bb",
            r"EOF\b",
            "^abc",
            "[a-z]+ing",
            "",
            "a|",
        ] {
            let hir = regex_syntax::Parser::new().parse(source).unwrap();
            assert!(exact_literals(&hir).is_none(), "{source}");
        }
        let hir = regex_syntax::Parser::new()
            .parse("(?i:eof)|[Ff]ailed to x")
            .unwrap();
        assert_eq!(exact_literals(&hir).map(|l| l.len()), Some(10));
    }

    #[test]
    fn template_fills_values_and_defaults() {
        let lookup = |name: &str| match name {
            "region" => Some("eu-west-1"),
            _ => None,
        };
        assert_eq!(
            fill_template("curl {{region}} {{csp|aws}} {{port}}", lookup),
            "curl eu-west-1 aws '<port>'"
        );
        // JSON bodies with single braces pass through untouched.
        assert_eq!(
            fill_template(r#"-d '{"a": {"b": 1}}' {{region}}"#, lookup),
            r#"-d '{"a": {"b": 1}}' eu-west-1"#
        );
        assert_eq!(
            fill_template("unterminated {{region", lookup),
            "unterminated {{region"
        );
    }

    #[test]
    fn template_refuses_hostile_values_and_quotes_free_text() {
        let values = [
            ("es_url", "https://es;touch${IFS}PWNED;#:9200"),
            ("proxy", "$(touch${IFS}PWNED)"),
            ("region", "eu-west-1`id`"),
            ("metricset", "x'; id; echo '"),
        ];
        let lookup = |name: &str| values.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(
            fill_template(
                "curl -x {{proxy|$HTTPS_PROXY}} {{es_url|$AUTOOPS_ES_URL}} {{region}} {{metricset}}",
                lookup
            ),
            r"curl -x $HTTPS_PROXY $AUTOOPS_ES_URL '<region>' 'x'\''; id; echo '\'''"
        );
        // Inside a quoted part of the template, the value is quoted for that context.
        assert_eq!(
            fill_template(
                r#"-d '{"m": "{{metricset}}"}' -H "X: {{metricset}}""#,
                lookup
            ),
            r#"-d '{"m": "x'\''; id; echo '\''"}' -H "X: "'x'\''; id; echo '\'''"""#
        );
        // A default's quotes count: the value after it is quoted for the state it leaves.
        assert_eq!(
            fill_template("{{nothing|'a }}{{metricset}}'", lookup),
            r"'a x'\''; id; echo '\'''"
        );
    }

    #[test]
    fn builtin_set_loads_and_every_pattern_compiles() {
        let set = RuleSet::builtin().expect("built-in rules are valid");
        for rule in &set.rules {
            assert!(!rule.examples.is_empty(), "{} has no example", rule.id);
            if let Some(p) = &rule.regex {
                // Compiled lazily at run time: a pattern that does not compile must fail here.
                Regex::new(p.as_str()).unwrap_or_else(|e| panic!("{}: {e}", rule.id));
            }
        }
    }

    #[test]
    fn every_documented_cause_is_listed_and_has_a_fix_of_its_own() {
        let set = RuleSet::builtin().unwrap();
        let causes = RuleSet::documented_causes();
        assert!(causes.len() >= 31, "{causes:?}");
        for readme in [
            include_str!("../../rules/README.md"),
            include_str!("../../README.md"),
        ] {
            for c in causes {
                assert!(
                    readme.contains(&format!("`{c}`")),
                    "a README does not list `{c}`"
                );
            }
        }
        // A finding whose line does not show its connection still gets advice for its cause.
        for c in causes.iter().filter(|c| c.as_str() != UNKNOWN_CAUSE) {
            let fix = set.fix_for("", Component::Unknown, c).unwrap();
            assert_eq!(set.fixes[fix].cause.as_deref(), Some(c.as_str()), "{c}");
        }
        let fix = set.fix_for("", Component::Unknown, UNKNOWN_CAUSE).unwrap();
        assert_eq!(set.fixes[fix].id, "unknown-unknown");
    }

    #[test]
    fn later_file_replaces_rule_with_same_id() {
        let a = RuleSet::parse(
            "a.toml",
            "[[rule]]\nid = \"x\"\ncause = \"dns\"\nanchors = [\"no such host\"]\ntitle = \"a\"\nexamples = [\"no such host\"]\n",
        )
        .unwrap();
        let b = RuleSet::parse(
            "b.toml",
            "[[rule]]\nid = \"x\"\ncause = \"timeout\"\nanchors = [\"i/o timeout\"]\ntitle = \"b\"\nexamples = [\"i/o timeout\"]\n",
        )
        .unwrap();
        let mut set = a;
        set.merge(b);
        assert_eq!(set.rules.len(), 1);
        assert_eq!(set.rules[0].cause.as_deref(), Some("timeout"));
    }
}
