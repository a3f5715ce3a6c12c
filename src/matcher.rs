//! The matcher turns a [`RuleSet`] into something that runs over bytes: one [`prefilter`] finds
//! every anchor occurrence in whole buffers, a second one (with the ignore rules' anchors too)
//! lists the anchors a decoded candidate line holds, and the rules' regexes verify and capture.
//! It owns the component × cause resolution described in `rules/README.md` ("How a line is
//! classified") and the lookup of each (rule, component) pair's fix, computed once up front.

use std::collections::BTreeMap;

pub mod prefilter;
mod values;

#[cfg(test)]
mod corpus;

use memchr::memmem;

use self::prefilter::Prefilter;
pub use self::values::Captured;
use self::values::{Text, Values};

use crate::record::{Level, Record};
use crate::rules::{Component, RuleKind, RuleSet, Severity};

pub use crate::rules::UNKNOWN_CAUSE;

/// What one line means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// No rule matched.
    None,
    /// An ignore rule matched: healthy.
    Ignore {
        /// The winning ignore rule.
        rule: usize,
    },
    /// Evidence that a component works.
    Success {
        /// The winning success rule.
        rule: usize,
        /// Its component.
        component: Component,
    },
    /// A failure.
    Failure(Failure),
}

/// One anchor occurrence in a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorHit {
    /// Its start.
    pub start: usize,
    /// Its end (exclusive).
    pub end: usize,
    /// Which anchor: an index into the matcher's unique anchors.
    pub anchor: usize,
}

/// What the prefilter can tell of a candidate line without decoding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    /// A plain ignore rule (no regex, no `unless`) holds the line: it is healthy.
    Ignored,
    /// The line holds only plain success anchors of this component.
    Success(Component),
    /// The line must be decoded and classified.
    Decode,
}

/// A classified failing line.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The winning rule.
    pub rule: usize,
    /// The component.
    pub component: Component,
    /// The cause (a rule's cause or [`UNKNOWN_CAUSE`]).
    pub cause_rule: Option<usize>,
    /// The fix, an index into the rule set's fixes.
    pub fix: Option<usize>,
    /// How bad.
    pub severity: Severity,
}

/// Compiled rules.
#[derive(Debug)]
pub struct Matcher {
    set: RuleSet,
    /// Finds the scan anchors in whole buffers.
    prefilter: Prefilter,
    /// Finds every anchor, those of ignore rules included, in a decoded line.
    all: Prefilter,
    /// Unique anchors.
    anchors: Vec<String>,
    /// The anchors the buffer scan searches for: indexes into `anchors`.
    scan_anchors: Vec<usize>,
    /// The anchors of plain ignore rules (no regex, no `unless`). A line is checked against them
    /// only once it is a candidate, so one SIMD substring search each beats an automaton.
    ignore: Vec<memmem::Finder<'static>>,
    /// For each anchor, the ranks of its rules: a rule's rank is its place in the order
    /// classification tries rules in (highest priority first, rule order among equals).
    anchor_ranks: Vec<Vec<u32>>,
    /// The rules by rank.
    by_rank: Vec<u32>,
    /// `fixes[rule * SLOTS + component]`: the fix for a failure whose deciding rule is `rule`.
    fixes: Vec<Option<usize>>,
    /// Fix for a failure with no rule naming a cause, per component: indexed by the component rule.
    unknown_fixes: Vec<Option<usize>>,
    /// For each anchor: the component, if every rule of the anchor is a plain success rule of it
    /// (no regex, no `unless`), so a line holding only such anchors needs no decoding.
    anchor_success: Vec<Option<Component>>,
    /// The `[[value]]` regexes, compiled for capturing.
    values: Values,
}

impl Matcher {
    /// Compiles a rule set.
    pub fn new(set: RuleSet) -> Matcher {
        let mut anchors: Vec<String> = Vec::new();
        let mut anchor_rules: Vec<Vec<u32>> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, rule) in set.rules.iter().enumerate() {
            for a in &rule.anchors {
                let idx = *index.entry(a.as_str()).or_insert_with(|| {
                    anchors.push(a.clone());
                    anchor_rules.push(Vec::new());
                    anchors.len() - 1
                });
                // Rules come in order: a rule already listed for this anchor is the last one.
                if anchor_rules[idx].last() != Some(&(i as u32)) {
                    anchor_rules[idx].push(i as u32);
                }
            }
        }
        let mut by_rank: Vec<u32> = (0..set.rules.len() as u32).collect();
        by_rank.sort_by_key(|&r| (std::cmp::Reverse(set.rules[r as usize].priority), r));
        let mut rank = vec![0u32; set.rules.len()];
        for (k, &r) in by_rank.iter().enumerate() {
            rank[r as usize] = k as u32;
        }
        let anchor_ranks = anchor_rules
            .iter()
            .map(|rules| rules.iter().map(|&r| rank[r as usize]).collect())
            .collect();
        let anchor_success = anchor_rules
            .iter()
            .map(|rules| {
                let mut component = None;
                for &r in rules {
                    let rule = &set.rules[r as usize];
                    let plain = rule.kind == RuleKind::Success
                        && rule.regex.is_none()
                        && rule.unless.is_empty();
                    if !plain || component.is_some_and(|c| Some(c) != rule.component) {
                        return None;
                    }
                    component = rule.component;
                }
                component
            })
            .collect::<Vec<Option<Component>>>();
        // The buffer scan needs only the anchors that can make a line count: an ignore rule only
        // matters on a line some failure or success anchor already made a candidate.
        let scan_anchors: Vec<usize> = (0..anchors.len())
            .filter(|&i| {
                anchor_rules[i]
                    .iter()
                    .any(|&r| set.rules[r as usize].kind != RuleKind::Ignore)
            })
            .collect();
        let prefilter = Prefilter::new(
            &scan_anchors
                .iter()
                .map(|&i| anchors[i].as_str())
                .collect::<Vec<_>>(),
        );
        let all = Prefilter::new(&anchors);
        let mut fixes = Vec::with_capacity(set.rules.len() * SLOTS);
        let mut unknown_fixes = Vec::with_capacity(set.rules.len() * SLOTS);
        let fix_index = crate::rules::FixIndex::new(&set);
        for rule in &set.rules {
            for c in Component::EVERY {
                fixes.push(fix_index.fix_for(
                    &rule.id,
                    c,
                    rule.cause.as_deref().unwrap_or(UNKNOWN_CAUSE),
                ));
                unknown_fixes.push(fix_index.fix_for(&rule.id, c, UNKNOWN_CAUSE));
            }
        }
        let mut ignore: Vec<memmem::Finder<'static>> = Vec::new();
        for anchor in set
            .rules
            .iter()
            .filter(|r| r.kind == RuleKind::Ignore && r.regex.is_none() && r.unless.is_empty())
            .flat_map(|r| &r.anchors)
        {
            if !ignore.iter().any(|f| f.needle() == anchor.as_bytes()) {
                ignore.push(memmem::Finder::new(anchor.as_bytes()).into_owned());
            }
        }
        let values = Values::new(
            &set.values,
            set.rules
                .iter()
                .filter_map(|r| r.regex.as_ref())
                .flat_map(|p| values::group_names(p.as_str())),
        );
        Matcher {
            values,
            ignore,
            scan_anchors,
            anchor_success,
            set,
            prefilter,
            all,
            anchors,
            anchor_ranks,
            by_rank,
            fixes,
            unknown_fixes,
        }
    }

    /// The rule set this matcher was built from.
    pub fn rules(&self) -> &RuleSet {
        &self.set
    }

    /// The unique anchors the buffer scan searches for (those of failure and success rules), in
    /// rule order: the literals a `grep -F -f` would need to find the same candidate lines.
    pub fn anchors(&self) -> Vec<&str> {
        self.scan_anchors
            .iter()
            .map(|&i| self.anchors[i].as_str())
            .collect()
    }

    /// Every anchor occurrence in `buf`, overlapping ones included, by start.
    #[inline]
    pub fn hits<'m, 'b>(&'m self, buf: &'b [u8]) -> impl Iterator<Item = AnchorHit> + use<'m, 'b> {
        self.prefilter.hits(buf).map(move |h| AnchorHit {
            start: h.start,
            end: h.start + self.prefilter.anchor(h.anchor).len(),
            anchor: self.scan_anchors[h.anchor as usize],
        })
    }

    /// The component an anchor proves works, if every rule it belongs to is a plain success rule
    /// of that component (no regex, no `unless`).
    #[inline]
    pub fn success_anchor(&self, anchor: usize) -> Option<Component> {
        self.anchor_success[anchor]
    }

    /// What can be said of a candidate line before decoding it: that it holds only plain success
    /// anchors of one component (`success`, as folded from [`Matcher::success_anchor`] over the
    /// line's anchors), that a plain ignore rule holds it, or that it must be decoded and
    /// classified. (A success-only line is healthy either way, so it is not checked against the
    /// ignore rules.)
    #[inline]
    pub fn quick(&self, line: &[u8], success: Option<Component>) -> Quick {
        if let Some(component) = success {
            return Quick::Success(component);
        }
        if self.ignore.iter().any(|f| f.find(line).is_some()) {
            return Quick::Ignored;
        }
        Quick::Decode
    }

    /// [`Matcher::quick`] for one line, or `None` if it holds no anchor (the scanner folds the
    /// same way over a whole buffer's hits).
    #[cfg(test)]
    pub fn quick_line(&self, line: &[u8]) -> Option<Quick> {
        let mut hits = self.hits(line);
        let first = hits.next()?;
        let mut success = self.success_anchor(first.anchor);
        for h in hits {
            if self.success_anchor(h.anchor) != success {
                success = None;
            }
        }
        Some(self.quick(line, success))
    }

    /// Classifies one decoded record.
    pub fn classify(&self, rec: &Record<'_>) -> Verdict {
        let text = rec.text.as_bytes();
        // The ranks of the rules with an anchor in the text, deduplicated.
        let mut candidates: Vec<u32> = Vec::new();
        for h in self.all.hits(text) {
            for &k in &self.anchor_ranks[h.anchor as usize] {
                if !candidates.contains(&k) {
                    candidates.push(k);
                }
            }
        }
        if candidates.is_empty() {
            return Verdict::None;
        }
        // Highest priority first, rule order among equals: the first rule of a kind that matches is
        // the one resolution picks, so the regexes of the rules after it need not run. Ranks sort
        // in that order by themselves.
        candidates.sort_unstable();
        for k in &mut candidates {
            *k = self.by_rank[*k as usize];
        }
        let matches = |i: usize| {
            let rule = &self.set.rules[i];
            !rule.unless.iter().any(|u| rec.text.contains(u.as_str()))
                && rule.regex.as_ref().is_none_or(|re| re.is_match(&rec.text))
        };
        let of_kind = |kind: RuleKind| {
            candidates
                .iter()
                .map(|&r| r as usize)
                .filter(move |&i| self.set.rules[i].kind == kind)
        };
        // An ignore rule that matches decides, whatever else matches.
        if let Some(rule) = of_kind(RuleKind::Ignore).find(|&i| matches(i)) {
            return Verdict::Ignore { rule };
        }
        let mut cause_rule: Option<usize> = None;
        let mut component_rule: Option<usize> = None;
        for i in of_kind(RuleKind::Failure) {
            let rule = &self.set.rules[i];
            let for_cause = rule.cause.is_some() && cause_rule.is_none();
            let for_component = rule.component.is_some() && component_rule.is_none();
            if !(for_cause || for_component) || !matches(i) {
                continue;
            }
            if for_cause {
                cause_rule = Some(i);
            }
            if for_component {
                component_rule = Some(i);
            }
            if cause_rule.is_some() && component_rule.is_some() {
                break;
            }
        }
        let Some(winner) = cause_rule.or(component_rule) else {
            // Success only counts when no failure rule matched.
            return match of_kind(RuleKind::Success).find(|&i| matches(i)) {
                Some(rule) => Verdict::Success {
                    rule,
                    component: self.set.rules[rule]
                        .component
                        .expect("success rules name a component"),
                },
                None => Verdict::None,
            };
        };
        let component = component_rule
            .and_then(|r| self.set.rules[r].component)
            .unwrap_or_else(|| component_from_evidence(&rec.text));
        let slot = winner * SLOTS + component as usize;
        let fix = if cause_rule.is_some() {
            self.fixes[slot]
        } else {
            self.unknown_fixes[slot]
        };
        let severity = self.set.rules[winner].severity.unwrap_or(match rec.level {
            Some(Level::Error) | None => Severity::Error,
            Some(Level::Warn) | Some(Level::Info) | Some(Level::Debug) => Severity::Warning,
        });
        Verdict::Failure(Failure {
            rule: winner,
            component,
            cause_rule,
            fix,
            severity,
        })
    }

    /// The cause name of a failure.
    pub fn cause<'a>(&'a self, failure: &Failure) -> &'a str {
        failure
            .cause_rule
            .and_then(|r| self.set.rules[r].cause.as_deref())
            .unwrap_or(UNKNOWN_CAUSE)
    }

    /// The id of a failure's winning rule.
    pub fn rule_id<'a>(&'a self, failure: &Failure) -> &'a str {
        &self.set.rules[failure.rule].id
    }

    /// The id of a failure's fix, when one applies.
    pub fn fix_id<'a>(&'a self, failure: &Failure) -> Option<&'a str> {
        failure.fix.map(|i| self.set.fixes[i].id.as_str())
    }

    /// The values captured from a failing line: the winning rules' regex groups, then every
    /// `[[value]]` regex, first capture of a name wins.
    pub fn capture(&self, failure: &Failure, text: &str, into: &mut BTreeMap<String, String>) {
        let secret = crate::mask::hinted(text);
        self.capture_all(&[(failure, text, secret)], std::slice::from_mut(into));
    }

    /// [`Matcher::capture`] for many lines, `into[i]` for `lines[i]`: each regex runs over all the
    /// lines before the next one does, which keeps its caches warm (a line at a time, between
    /// the decoding and classifying of the lines around it, costs twice as much). A line comes
    /// with whether it could hold a secret (`mask::hinted`): if not, neither can a value
    /// cut from it, and its values are not searched for hint words again.
    pub fn capture_all(
        &self,
        lines: &[(&Failure, &str, bool)],
        into: &mut [BTreeMap<String, String>],
    ) {
        self.values.capture(&self.texts(lines), into);
    }

    /// [`Matcher::capture_all`], each line's values in one [`Captured`] (what a match event
    /// carries).
    pub fn captured(&self, lines: &[(&Failure, &str, bool)]) -> Vec<Captured> {
        self.values.captured(&self.texts(lines))
    }

    /// The lines to capture from, with their rules' regexes.
    fn texts<'a>(&'a self, lines: &[(&Failure, &'a str, bool)]) -> Vec<Text<'a>> {
        let regex = |rule: Option<usize>| rule.and_then(|r| self.set.rules[r].regex.as_deref());
        lines
            .iter()
            .map(|&(failure, text, secret)| Text {
                text,
                secret,
                rules: [regex(Some(failure.rule)), regex(failure.cause_rule)],
            })
            .collect()
    }
}

/// A rule example that did not classify as it should.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleFailure {
    /// The rule.
    pub rule: usize,
    /// Whether the line was a counterexample.
    pub counter: bool,
    /// 1-based index among the rule's examples (or counterexamples).
    pub index: usize,
    /// What happened instead.
    pub problem: String,
}

/// The outcome of checking rules' examples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExampleReport {
    /// Rules checked.
    pub rules: usize,
    /// Examples checked.
    pub examples: usize,
    /// Counterexamples checked.
    pub counterexamples: usize,
    /// What failed.
    pub failures: Vec<ExampleFailure>,
}

impl Matcher {
    /// Describes a verdict: the winning rule, and for failures the component and cause.
    pub fn describe(&self, v: &Verdict) -> String {
        let id = |i: usize| self.set.rules[i].id.as_str();
        match v {
            Verdict::None => "no rule".to_string(),
            Verdict::Ignore { rule } => format!("{} (ignored)", id(*rule)),
            Verdict::Success { rule, component } => {
                format!("{} (success of {component})", id(*rule))
            }
            Verdict::Failure(f) => format!("{} ({} × {})", id(f.rule), f.component, self.cause(f)),
        }
    }

    /// Why rule `i` did not win on `text`: it does not match it (and what is missing), or
    /// another rule came first (by priority, or by order at the same priority).
    fn why_not(&self, i: usize, winner: Option<usize>, text: &str) -> String {
        let rule = &self.set.rules[i];
        if !rule.anchors.iter().any(|a| text.contains(a.as_str())) {
            return "the line holds none of this rule's anchors".to_string();
        }
        if let Some(u) = rule.unless.iter().find(|u| text.contains(u.as_str())) {
            return format!("the line holds `{u}`, one of this rule's `unless` words");
        }
        if let Some(re) = &rule.regex {
            if !re.is_match(text) {
                return format!("this rule's regex `{}` does not match it", re.as_str());
            }
        }
        match winner {
            Some(w) if w != i => {
                let other = &self.set.rules[w];
                if other.priority > rule.priority {
                    format!(
                        "rule {} won with priority {} against this rule's {} (raise `priority` above it)",
                        other.id, other.priority, rule.priority
                    )
                } else {
                    format!(
                        "rule {} won: it has the same priority ({}) and comes first",
                        other.id, other.priority
                    )
                }
            }
            _ => "the line matched, but not as this rule's component or cause".to_string(),
        }
    }

    /// Checks the examples and counterexamples of the rules `include` accepts.
    pub fn check_examples(&self, include: impl Fn(&crate::rules::Rule) -> bool) -> ExampleReport {
        let mut report = ExampleReport::default();
        for (i, rule) in self.set.rules.iter().enumerate() {
            if !include(rule) {
                continue;
            }
            report.rules += 1;
            for (n, example) in rule.examples.iter().enumerate() {
                report.examples += 1;
                let v = self.classify(&crate::record::decode(example.as_bytes()));
                let winner = match &v {
                    Verdict::None => None,
                    Verdict::Ignore { rule } | Verdict::Success { rule, .. } => Some(*rule),
                    Verdict::Failure(f) => Some(f.rule),
                };
                let mut ok = winner == Some(i);
                if let Verdict::Failure(f) = &v {
                    ok &= rule.component.is_none_or(|c| c == f.component);
                    ok &= rule.cause.as_deref().is_none_or(|c| c == self.cause(f));
                }
                if !ok {
                    let rec = crate::record::decode(example.as_bytes());
                    report.failures.push(ExampleFailure {
                        rule: i,
                        counter: false,
                        index: n + 1,
                        problem: format!(
                            "classified as {}: {}",
                            self.describe(&v),
                            self.why_not(i, winner, &rec.text)
                        ),
                    });
                }
            }
            for (n, line) in rule.counterexamples.iter().enumerate() {
                report.counterexamples += 1;
                let v = self.classify(&crate::record::decode(line.as_bytes()));
                let winner = match &v {
                    Verdict::None => None,
                    Verdict::Ignore { rule } | Verdict::Success { rule, .. } => Some(*rule),
                    Verdict::Failure(f) => Some(f.rule),
                };
                if winner == Some(i) {
                    report.failures.push(ExampleFailure {
                        rule: i,
                        counter: true,
                        index: n + 1,
                        problem: format!("classified as {}", self.describe(&v)),
                    });
                }
            }
        }
        report
    }
}

/// Fix slots per rule: one per value of [`Component::EVERY`].
const SLOTS: usize = Component::EVERY.len();

/// Where a request went, by what its URL, host, port or path says: the hosts and paths of the
/// Cloud Connect API, of the AutoOps OTLP endpoint (and any OTLP endpoint: ports 4317/4318, the
/// `/v1/logs|metrics|traces` paths) and of Elasticsearch (port 9200, its `/_…` API paths).
const REQUEST_EVIDENCE: &[(&str, Component)] = &[
    ("api.elastic-cloud.com", Component::Registration),
    ("/api/v1/cloud-connected", Component::Registration),
    ("auto-ops.", Component::Export),
    ("/v1/logs", Component::Export),
    ("/v1/metrics", Component::Export),
    ("/v1/traces", Component::Export),
    ("/_nodes", Component::Cluster),
    ("/_cluster", Component::Cluster),
    ("/_bulk", Component::Cluster),
    ("/_license", Component::Cluster),
    ("/_cat/", Component::Cluster),
    ("/_xpack", Component::Cluster),
    ("/_security", Component::Cluster),
    ("/_tasks", Component::Cluster),
    ("/_template", Component::Cluster),
    ("/_index_template", Component::Cluster),
    ("/_component_template", Component::Cluster),
    ("/_resolve/", Component::Cluster),
    ("/_ilm/", Component::Cluster),
    ("/_ingest/", Component::Cluster),
];

/// Ports that name a connection: `:PORT` (a URL, an address) or `port PORT` (curl), not followed by
/// another digit.
const PORT_EVIDENCE: &[(&str, Component)] = &[
    (":4317", Component::Export),
    (":4318", Component::Export),
    (":9200", Component::Cluster),
    ("port 4317", Component::Export),
    ("port 4318", Component::Export),
    ("port 9200", Component::Cluster),
];

/// Fields of the line's envelope, as the decoders write them into the text (` key=value`): the
/// collector's component kind (three generations of field names) and the ECS logger of the
/// `autoops_es` module.
const ENVELOPE_EVIDENCE: &[(&str, Component)] = &[
    ("otelcol.component.kind=exporter", Component::Export),
    ("component_kind=exporter", Component::Export),
    ("kind=exporter", Component::Export),
    ("log.logger=autoops_es", Component::Cluster),
];

/// The component a failing line concerns when no rule names one, from the evidence the line
/// holds, strongest first: the request's host, path and port, then its envelope's fields. A line
/// without any is [`Component::Unknown`]: faultline does not guess a connection.
/// Only failing lines get here, so plain substring searches are cheap enough.
pub(crate) fn component_from_evidence(text: &str) -> Component {
    if let Some(&(_, c)) = REQUEST_EVIDENCE.iter().find(|(s, _)| text.contains(s)) {
        return c;
    }
    for &(port, c) in PORT_EVIDENCE {
        let mut rest = text;
        while let Some(at) = rest.find(port) {
            rest = &rest[at + port.len()..];
            if !rest.starts_with(|ch: char| ch.is_ascii_digit()) {
                return c;
            }
        }
    }
    for &(field, c) in ENVELOPE_EVIDENCE {
        let mut from = 0;
        while let Some(at) = text[from..].find(field).map(|i| i + from) {
            // A whole field: it starts the text or follows a space, and its value ends there.
            let starts = at == 0 || text.as_bytes()[at - 1] == b' ';
            let end = at + field.len();
            let ends = text[end..].starts_with([' ', '.']) || end == text.len();
            if starts && ends {
                return c;
            }
            from = end;
        }
    }
    Component::Unknown
}

#[cfg(test)]
mod needle_tests {
    use super::values::required_literals;

    fn required_literal(p: &str) -> Option<Vec<u8>> {
        required_literals(p)
            .into_iter()
            .find(|g| g.len() == 1)
            .map(|mut g| g.remove(0))
    }

    fn groups(p: &str) -> Vec<Vec<String>> {
        required_literals(p)
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .map(|l| String::from_utf8(l).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_required_literal_is_found() {
        assert_eq!(
            groups(r"(?P<u>https?://(?P<h>[^/:]+):(?P<p>9200))\b"),
            [["http"], ["9200"], ["://"]]
        );
    }

    #[test]
    fn an_alternation_requires_one_of_its_branches() {
        assert_eq!(groups(r"(?:Get|Head) x"), [vec!["Get", "Head"]]);
        assert_eq!(
            groups(r"(?:HTTP error |HTTP Status Code |http error! Code: )(?P<status>\d{3})\b"),
            [vec![
                "HTTP error ",
                "HTTP Status Code ",
                "http error! Code: "
            ]]
        );
        // A branch that requires nothing usable makes the alternation require nothing.
        assert_eq!(groups(r"(?:Get|[a-z]+) x"), Vec::<Vec<String>>::new());
        assert_eq!(groups(r"(?:ab|Head) x"), Vec::<Vec<String>>::new());
    }

    #[test]
    fn required_literals_are_found_through_groups() {
        let lit = |p: &str| required_literal(p).map(|l| String::from_utf8(l).unwrap());
        assert_eq!(
            lit(r"proxyconnect tcp: dial tcp (?P<proxy>[^\s:]+:\d+)").as_deref(),
            Some("proxyconnect tcp: dial tcp ")
        );
        assert_eq!(
            lit(r"(?P<u>https?://[^/]+)/v1/logs").as_deref(),
            Some("/v1/logs")
        );
        assert_eq!(
            lit(r"(?P<u>https?://otel-(?:collector\.)?auto-ops\.(?P<r>[a-z]+))").as_deref(),
            Some("auto-ops.")
        );
        // An alternation requires no single literal; a case-insensitive one requires nothing.
        assert_eq!(lit(r"abc|def"), None);
        assert_eq!(lit(r"(?i)timeout"), None);
        assert_eq!(lit(r"(?:Get|Head) x"), None);
    }

    #[test]
    fn every_value_regex_that_matches_holds_its_literal() {
        let set = crate::rules::RuleSet::builtin().unwrap();
        for v in &set.values {
            for group in required_literals(v.regex.as_str()) {
                // One literal of the group is part of every match: check it on the regex's own
                // matches in the rule examples.
                for r in &set.rules {
                    for e in &r.examples {
                        let text = crate::record::decode(e.as_bytes()).text.into_owned();
                        if let Some(m) = v.regex.find(&text) {
                            assert!(
                                group.iter().any(|l| {
                                    memchr::memmem::find(m.as_str().as_bytes(), l).is_some()
                                }),
                                "{} matched {:?} without one of {:?}",
                                v.regex.as_str(),
                                m.as_str(),
                                group
                                    .iter()
                                    .map(|l| String::from_utf8_lossy(l))
                                    .collect::<Vec<_>>()
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::decode;

    fn matcher(toml: &str) -> Matcher {
        Matcher::new(RuleSet::parse("t.toml", toml).unwrap())
    }

    const RULES: &str = r#"
[[rule]]
id = "cause-refused"
cause = "refused"
anchors = ["connection refused"]
title = "refused"
examples = ["connect: connection refused"]

[[rule]]
id = "cause-proxy"
cause = "proxy"
priority = 10
anchors = ["proxyconnect"]
title = "proxy"
examples = ["proxyconnect tcp: connection refused"]

[[rule]]
id = "registration-wrapper"
component = "registration"
anchors = ["failed to register Cloud Connected Mode"]
title = "wrapper"
examples = ["failed to register Cloud Connected Mode: boom"]

[[rule]]
id = "ignore-metadata"
kind = "ignore"
anchors = ["169.254.169.254"]
title = "metadata"
examples = ["dial tcp 169.254.169.254:80: connect: connection refused"]

[[rule]]
id = "cluster-ok"
kind = "success"
component = "cluster"
anchors = ["completed fetching"]
title = "ok"
examples = ["completed fetching node_stats metricset"]
"#;

    fn failure(m: &Matcher, line: &str) -> (String, Component, String) {
        match m.classify(&decode(line.as_bytes())) {
            Verdict::Failure(f) => (
                m.rules().rules[f.rule].id.clone(),
                f.component,
                m.cause(&f).to_string(),
            ),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn priority_decides_cause_and_component_combines() {
        let m = matcher(RULES);
        let (rule, comp, cause) = failure(
            &m,
            "failed to register Cloud Connected Mode: proxyconnect tcp: dial tcp 10.0.0.8:3128: connect: connection refused",
        );
        assert_eq!(
            (rule.as_str(), comp, cause.as_str()),
            ("cause-proxy", Component::Registration, "proxy")
        );
    }

    #[test]
    fn component_comes_from_host_when_no_rule_names_it() {
        let m = matcher(RULES);
        let (_, comp, cause) = failure(&m, "dial tcp 10.0.0.5:9200: connect: connection refused");
        assert_eq!((comp, cause.as_str()), (Component::Cluster, "refused"));
        let (_, comp, _) = failure(
            &m,
            "Post \"https://otel-auto-ops.eu-west-1.aws.svc.elastic.cloud/v1/logs\": connect: connection refused",
        );
        assert_eq!(comp, Component::Export);
        // No evidence: no guess.
        let (_, comp, _) = failure(&m, "connection refused");
        assert_eq!(comp, Component::Unknown);
        let (_, comp, _) = failure(
            &m,
            "Post \"http://collector.example:8080/ingest\": dial tcp 10.0.0.9:8080: connect: connection refused",
        );
        assert_eq!(comp, Component::Unknown);
    }

    #[test]
    fn evidence_decides_the_component_strongest_first() {
        let c = component_from_evidence;
        // The request's host, path and port.
        assert_eq!(
            c("Post \"https://api.elastic-cloud.com/api/v1/cloud-connected/clusters\": EOF"),
            Component::Registration
        );
        assert_eq!(
            c("Post \"http://otel:4318/v1/traces\": EOF"),
            Component::Export
        );
        assert_eq!(
            c("traces export: context deadline exceeded: rpc error to localhost:4317"),
            Component::Export
        );
        assert_eq!(
            c("dial tcp 10.1.2.3:9200: connect: connection refused"),
            Component::Cluster
        );
        assert_eq!(
            c("Get \"http://es:80/_nodes/_local\": EOF"),
            Component::Cluster
        );
        assert_eq!(
            c("curl: (7) Failed to connect to elk port 9200: Connection refused"),
            Component::Cluster
        );
        // A port is a whole number: 92001 and 43170 are not evidence.
        assert_eq!(
            c("dial tcp 10.1.2.3:92001: connect: connection refused"),
            Component::Unknown
        );
        assert_eq!(
            c("dial tcp 10.1.2.3:43170: i/o timeout"),
            Component::Unknown
        );
        // The request beats the envelope.
        assert_eq!(
            c("Exporting failed. error=Post \"http://es:9200/_bulk\": EOF otelcol.component.kind=exporter"),
            Component::Cluster
        );
        // The envelope's fields, whole.
        assert_eq!(
            c("Exporting failed. error=EOF otelcol.component.kind=exporter otelcol.signal=logs"),
            Component::Export
        );
        assert_eq!(
            c("error=EOF kind=exporter data_type=logs"),
            Component::Export
        );
        assert_eq!(c("error=EOF component_kind=exporter"), Component::Export);
        assert_eq!(
            c("boom log.logger=autoops_es.node_stats"),
            Component::Cluster
        );
        assert_eq!(c("boom kind=exporters"), Component::Unknown);
        assert_eq!(c("boom subkind=exporter"), Component::Unknown);
        assert_eq!(c("boom log.logger=autoops_esx"), Component::Unknown);
        assert_eq!(c("read: connection reset by peer"), Component::Unknown);
    }

    #[test]
    fn component_without_cause_is_unknown() {
        let m = matcher(RULES);
        let (rule, comp, cause) = failure(&m, "failed to register Cloud Connected Mode: boom");
        assert_eq!(
            (rule.as_str(), comp, cause.as_str()),
            ("registration-wrapper", Component::Registration, "unknown")
        );
    }

    #[test]
    fn ignore_beats_failure_and_success_is_reported() {
        let m = matcher(RULES);
        let v = m.classify(&decode(
            b"dial tcp 169.254.169.254:80: connect: connection refused",
        ));
        assert!(matches!(v, Verdict::Ignore { .. }), "{v:?}");
        let v = m.classify(&decode(b"completed fetching node_stats metricset"));
        assert_eq!(
            v,
            Verdict::Success {
                rule: 4,
                component: Component::Cluster
            }
        );
        assert_eq!(m.classify(&decode(b"all is well")), Verdict::None);
    }

    #[test]
    fn quick_verdicts_need_no_decoding() {
        let m = matcher(RULES);
        let quick = |line: &str| m.quick_line(line.as_bytes()).unwrap();
        assert_eq!(
            quick("completed fetching node_stats metricset"),
            Quick::Success(Component::Cluster)
        );
        assert_eq!(
            quick("completed fetching x: connection refused"),
            Quick::Decode
        );
        assert_eq!(
            quick("dial tcp 169.254.169.254:80: connect: connection refused"),
            Quick::Ignored
        );
        assert_eq!(quick("connect: connection refused"), Quick::Decode);
        // A failure anchor after success anchors still makes the line one to decode.
        assert_eq!(
            quick("completed fetching completed fetching: connection refused"),
            Quick::Decode
        );
        assert_eq!(m.quick_line(b"nothing here"), None);
    }

    #[test]
    fn builtin_examples_all_classify_as_their_rule() {
        let m = Matcher::new(RuleSet::builtin().unwrap());
        let report = m.check_examples(|_| true);
        let failures: Vec<String> = report
            .failures
            .iter()
            .map(|f| {
                format!(
                    "{} example {}: {}",
                    m.rules().rules[f.rule].id,
                    f.index,
                    f.problem
                )
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(report.rules, m.rules().rules.len());
    }

    #[test]
    fn the_cluster_url_host_and_port_come_from_one_request() {
        let m = Matcher::new(RuleSet::builtin().unwrap());
        let values = |line: &str| {
            let Verdict::Failure(f) = m.classify(&decode(line.as_bytes())) else {
                panic!("{line} does not fail");
            };
            let mut v = BTreeMap::new();
            m.capture(&f, &decode(line.as_bytes()).text, &mut v);
            let get = |k: &str| v.get(k).cloned();
            (get("es_url"), get("es_host"), get("es_port"))
        };
        let cases = [
            (
                r#"error making http request: Get "https://es01.internal:9243/_nodes": dial tcp 10.0.0.5:9243: connect: connection refused"#,
                (
                    Some("https://es01.internal:9243"),
                    Some("es01.internal"),
                    Some("9243"),
                ),
            ),
            // A user and password stay out of the host and are masked in the URL.
            (
                r#"error making http request: Get "https://elastic:s3cr@t@es01:9200/": dial tcp: lookup es01: no such host"#,
                (
                    Some("https://elastic:****@es01:9200"),
                    Some("es01"),
                    Some("9200"),
                ),
            ),
            // Escaped quotes (a JSON string inside the text), an IPv6 host.
            (
                r#"error making http request: Head \"http://[fe80::1]:9200/\": dial tcp [fe80::1]:9200: i/o timeout"#,
                (
                    Some("http://[fe80::1]:9200"),
                    Some("[fe80::1]"),
                    Some("9200"),
                ),
            ),
            // No port in the URL: none is made up, even from another request on the line.
            (
                r#"error making http request: Get "https://es.example.com/": dial tcp 10.0.0.5:443: connect: connection refused; Get "https://other:9300/""#,
                (Some("https://es.example.com"), Some("es.example.com"), None),
            ),
        ];
        for (line, want) in cases {
            let want = (
                want.0.map(str::to_string),
                want.1.map(str::to_string),
                want.2.map(str::to_string),
            );
            assert_eq!(values(line), want, "{line}");
        }
    }

    #[test]
    fn example_check_reports_a_wrong_example() {
        let m = matcher(&format!(
            "{RULES}\n[[rule]]\nid = \"bad\"\ncause = \"timeout\"\nanchors = [\"i/o timeout\"]\ntitle = \"t\"\nexamples = [\"connection refused\"]\ncounterexamples = [\"i/o timeout\"]\n"
        ));
        let report = m.check_examples(|r| r.id == "bad");
        assert_eq!(report.rules, 1);
        assert_eq!(report.failures.len(), 2);
        assert_eq!(
            report.failures[0].problem,
            "classified as cause-refused (unknown × refused): the line holds none of this rule's anchors"
        );
        assert!(report.failures[1].counter);
    }

    #[test]
    fn builtin_anchors_take_the_fastest_prefilter() {
        // Anchors of 11 bytes or more are sampled every sixth byte; more than 16 shorter ones would
        // push the scan to a slower shape (`benches/README.md`). Anchor on a longer literal the
        // rule's regex requires instead.
        let m = Matcher::new(RuleSet::builtin().unwrap());
        let short: Vec<&str> = m.anchors().into_iter().filter(|a| a.len() < 11).collect();
        assert_eq!(
            m.prefilter.shape(),
            Some((6, 6)),
            "short anchors: {short:?}"
        );
        assert!(short.len() <= 8, "short anchors: {short:?}");
    }

    #[test]
    fn anchors_are_deduplicated_and_found_in_buffers() {
        let m = matcher(RULES);
        // The ignore rule's anchor is not searched in buffers: it only vetoes candidates.
        assert_eq!(
            m.anchors(),
            vec![
                "connection refused",
                "proxyconnect",
                "failed to register Cloud Connected Mode",
                "completed fetching"
            ]
        );
        let buf = b"healthy\n169.254.169.254\ncompleted fetching\nconnect: connection refused\n";
        let hits: Vec<(usize, usize, &str)> = m
            .hits(buf)
            .map(|h| (h.start, h.end, m.anchors[h.anchor].as_str()))
            .collect();
        assert_eq!(
            hits,
            vec![
                (24, 42, "completed fetching"),
                (52, 70, "connection refused")
            ]
        );
    }
}

#[cfg(test)]
mod envelope_properties {
    use super::*;
    use crate::record::decode;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static MATCHER: LazyLock<Matcher> = LazyLock::new(|| Matcher::new(RuleSet::builtin().unwrap()));

    /// Every built-in example that classifies as a failure, with its component and cause.
    static FAILING: LazyLock<Vec<(String, Component, String)>> = LazyLock::new(|| {
        let m = &*MATCHER;
        m.rules()
            .rules
            .iter()
            .flat_map(|r| r.examples.iter())
            .filter_map(|e| match m.classify(&decode(e.as_bytes())) {
                Verdict::Failure(f) => Some((e.clone(), f.component, m.cause(&f).to_string())),
                _ => None,
            })
            .collect()
    });

    /// Wraps a line in one envelope.
    fn wrap(line: &str, envelope: u8) -> String {
        match envelope {
            0 => serde_json::json!({"log": format!("{line}\n"), "stream": "stderr", "time": "2025-10-14T09:15:03.512345678Z"}).to_string(),
            1 => format!("2025-10-14T09:15:03.512345678Z stderr F {line}"),
            2 => format!("2025-10-14T09:15:03.512345678Z {line}"),
            3 => format!("autoops-otel-agent-1  | {line}"),
            _ => format!("Oct 14 09:15:03 es-host-01 elastic-agent[2231]: {line}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// A failing line stays a failing line of the same component and cause in whatever
        /// envelopes (Docker json-file, CRI, `docker logs -t`, compose, journald) wrap it.
        #[test]
        fn a_failing_line_keeps_its_meaning_in_any_envelope(
            pick in any::<prop::sample::Index>(),
            envelopes in proptest::collection::vec(0u8..5, 1..3),
        ) {
            let (line, component, cause) = &FAILING[pick.index(FAILING.len())];
            let mut wrapped = line.clone();
            for &e in &envelopes {
                wrapped = wrap(&wrapped, e);
            }
            let m = &*MATCHER;
            match m.classify(&decode(wrapped.as_bytes())) {
                Verdict::Failure(f) => {
                    prop_assert_eq!(f.component, *component, "{}", wrapped);
                    prop_assert_eq!(m.cause(&f), cause.as_str(), "{}", wrapped);
                }
                other => prop_assert!(false, "{} became {}", wrapped, m.describe(&other)),
            }
        }
    }

    #[test]
    fn there_are_failing_examples_to_wrap() {
        assert!(FAILING.len() > 50, "{}", FAILING.len());
    }
}
