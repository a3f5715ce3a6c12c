//! Cutting values out of failing lines: the groups of the regexes of a line's rules, then those
//! of the rule set's `[[value]]` regexes, the first value of a name winning. A value regex runs
//! only on a line that holds the literals every match of it holds ([`required_literals`]), each
//! looked for once a line whatever the number of regexes that need it. Every built-in value
//! regex begins with one of a few literals (`http`, `Get `, `proxyconnect tcp: `, …), and runs
//! anchored at the places those literals occur, earliest first: that finds the match an
//! unanchored search finds (the leftmost one begins at one of those places) without the forward
//! and reverse DFA passes an unanchored capture search makes before its capture engine runs. All
//! but two are one-pass and run as a one-pass DFA; the two others as a lazy DFA that finds where
//! the match ends and a backtracker for its groups within it. A regex that can begin anywhere
//! keeps the unanchored search. The engines' caches and the rows of what is known of the lines
//! are kept from one call to the next. Values come out as a map (a finding's samples) or as one
//! [`Captured`] buffer (a match event's).

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use memchr::memmem;
use regex_automata::dfa::onepass;
use regex_automata::hybrid;
use regex_automata::nfa::thompson::backtrack;
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input};

use crate::rules::ValueRule;

/// The shortest literal worth starting a regex at: shorter ones occur all over a line.
const MIN_START: usize = 3;
/// The most lines whose rows a [`Scratch`] keeps for the next call: a 16 MiB chunk of a 10 %
/// failure storm has some 2 700 new lines (about 1.4 MB of rows with the built-in rules).
const KEPT_ROWS: usize = 4096;
/// The most literals a regex is tried at the places of.
const MAX_STARTS: usize = 16;

/// The `[[value]]` regexes, compiled for capturing.
#[derive(Debug)]
pub(crate) struct Values {
    regexes: Vec<Value>,
    /// Every name a value regex or a rule regex captures: while a line is captured, a value is
    /// known by its place here.
    names: Vec<&'static str>,
    /// The name ids in the order of the names.
    order: Vec<usize>,
    /// The literals the regexes need (every match holds one of a group) or start with, each
    /// searched for at most once in a line whatever the number of regexes that ask.
    literals: Vec<memmem::Finder<'static>>,
    /// Scratch spaces not in use, one a thread that captured at most.
    scratch: Mutex<Vec<Scratch>>,
}

#[derive(Debug)]
struct Value {
    /// The regex, as the rule set has it.
    regex: regex::Regex,
    /// Its named groups: (group index, name id).
    groups: Vec<(usize, usize)>,
    /// For each group of literals every match holds one of, the group as literal ids.
    needles: Vec<Vec<usize>>,
    /// Literals every match begins with one of (ids), if the regex has a few of them: the
    /// places it is tried at. Empty if a match can begin anywhere.
    starts: Vec<usize>,
    /// With `starts`, the engine run anchored at each place earliest first: its one-pass DFA,
    /// else a bounded backtracker. Compiled on first use (a run that captures nothing does not
    /// pay for it).
    anchored: OnceLock<Option<Engine>>,
}

/// An engine that finds a regex's match, with its groups, beginning at a given place.
#[derive(Debug)]
enum Engine {
    /// For a one-pass regex (each byte decides the way on): one DFA transition a byte.
    OnePass(Box<onepass::DFA>),
    /// For any other: a lazy DFA finds where the match ends, then a backtracker finds its
    /// groups between the two places.
    Backtrack(Box<Bounded>),
}

/// A regex as a lazy DFA and a bounded backtracker. The backtracker marks each state at each
/// place it visits, so the marks it clears before a search grow with the text it is given: it
/// only gets the match the DFA found (given the rest of the line, clearing cost as much as the
/// search). A line too long for it is searched unanchored by the regex instead.
#[derive(Debug)]
struct Bounded {
    dfa: hybrid::dfa::DFA,
    backtrack: backtrack::BoundedBacktracker,
}

/// A [`Bounded`] engine's caches and match slots.
#[derive(Debug)]
struct BoundedCache {
    dfa: hybrid::dfa::Cache,
    backtrack: backtrack::Cache,
    caps: Captures,
}

impl Engine {
    /// The engine for `pattern`, if one can be built.
    fn new(pattern: &str) -> Option<Engine> {
        if let Ok(dfa) = onepass::DFA::new(pattern) {
            return Some(Engine::OnePass(Box::new(dfa)));
        }
        Some(Engine::Backtrack(Box::new(Bounded {
            dfa: hybrid::dfa::DFA::new(pattern).ok()?,
            backtrack: backtrack::BoundedBacktracker::new(pattern).ok()?,
        })))
    }

    /// A cache and match slots for it.
    fn cache(&self) -> EngineCache {
        match self {
            Engine::OnePass(dfa) => EngineCache::OnePass(dfa.create_cache(), dfa.create_captures()),
            Engine::Backtrack(e) => EngineCache::Backtrack(Box::new(BoundedCache {
                dfa: e.dfa.create_cache(),
                backtrack: e.backtrack.create_cache(),
                caps: e.backtrack.create_captures(),
            })),
        }
    }

    /// Whether it matches at the start of `input` (anchored), the match then in `cache`'s
    /// slots; `None` if it cannot tell (the text is too long for the backtracker, or the lazy
    /// DFA gave up: a Unicode word boundary before a non-ASCII byte, a cache cleared too often).
    fn search(&self, cache: &mut EngineCache, input: &Input<'_>) -> Option<bool> {
        match (self, cache) {
            (Engine::OnePass(dfa), EngineCache::OnePass(cache, caps)) => {
                dfa.try_search(cache, input, caps).ok()?;
                Some(caps.is_match())
            }
            (Engine::Backtrack(e), EngineCache::Backtrack(cache)) => {
                let Some(end) = e.dfa.try_search_fwd(&mut cache.dfa, input).ok()? else {
                    return Some(false);
                };
                let input = input.clone().range(input.start()..end.offset());
                e.backtrack
                    .try_search(&mut cache.backtrack, &input, &mut cache.caps)
                    .ok()?;
                Some(cache.caps.is_match())
            }
            _ => None,
        }
    }
}

/// An [`Engine`]'s cache and match slots.
#[derive(Debug)]
enum EngineCache {
    OnePass(onepass::Cache, Captures),
    Backtrack(Box<BoundedCache>),
}

impl EngineCache {
    /// The slots of the last match found with it.
    fn captures(&self) -> &Captures {
        match self {
            EngineCache::OnePass(_, caps) => caps,
            EngineCache::Backtrack(cache) => &cache.caps,
        }
    }
}

/// What captures keep from one call to the next on a thread: the rows of what is known of the
/// lines (up to [`KEPT_ROWS`] lines' worth), and each value regex's engine cache and match
/// slots. Made once a thread, not for each block or sampled line.
#[derive(Debug, Default)]
struct Scratch {
    /// [`Line::first`] for all lines, a row of [`Values::literals`]'s length a line.
    first: Vec<usize>,
    /// [`Line::found`] for all lines, a row of [`Values::names`]'s length a line.
    found: Vec<Option<(usize, usize)>>,
    /// For each value regex, its anchored engine's cache and slots, once used.
    anchored: Vec<Option<EngineCache>>,
    /// For each value regex, its slots for the unanchored search, once used.
    locs: Vec<Option<regex::CaptureLocations>>,
}

/// Whether line `i` already has a value for a name (then it is not looked for).
type Known<'a> = dyn Fn(usize, &str) -> bool + 'a;

/// A line to capture values from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text<'a> {
    /// The text as read.
    pub text: &'a str,
    /// Whether it could hold a secret ([`crate::mask::hinted`]): if not, neither can a value cut
    /// from it, and its values are not searched for hint words again.
    pub secret: bool,
    /// The regexes of the rules that decided it (winning rule, cause rule), whose groups come
    /// before the value regexes'.
    pub rules: [Option<&'a regex::Regex>; 2],
}

/// The values captured from a line, by name (each name once, in the order of the names), secrets
/// masked: what a match event carries. All of them in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The values, one after the other.
    text: Box<str>,
    /// Each value's name and where it ends in `text`.
    ends: Box<[(&'static str, usize)]>,
}

impl Captured {
    /// The (name, value) pairs, in the order of the names.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(name, end), start)| (name, &self.text[start..end]))
    }

    /// The value of `name`, if captured.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|&(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The values as a map.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }
}

impl std::ops::Index<&str> for Captured {
    type Output = str;

    /// The value of `name`; panics if there is none, as a map does.
    fn index(&self, name: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| panic!("no value {name:?} was captured"))
    }
}

#[cfg(test)]
impl From<&BTreeMap<String, String>> for Captured {
    fn from(map: &BTreeMap<String, String>) -> Captured {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(map.len());
        for (name, value) in map {
            text.push_str(value);
            ends.push((intern(name), text.len()));
        }
        Captured {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }
}

/// The one copy of a value name the program keeps: names come from rule files, a few dozen at
/// most, and values carry them by reference.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    match names.get(name) {
        Some(&kept) => kept,
        None => {
            let kept: &'static str = Box::leak(name.into());
            names.insert(kept);
            kept
        }
    }
}

/// The id of `name` in `names`, added if new.
fn name_id(names: &mut Vec<&'static str>, name: &str) -> usize {
    names.iter().position(|n| *n == name).unwrap_or_else(|| {
        names.push(intern(name));
        names.len() - 1
    })
}

/// Not searched for yet, in [`Line::first`].
const UNKNOWN: usize = usize::MAX;
/// Not in the line, in [`Line::first`].
const ABSENT: usize = usize::MAX - 1;

/// What is known of one line while it is captured.
struct Line<'a> {
    text: &'a str,
    /// For each literal, where it first occurs, [`ABSENT`], or [`UNKNOWN`].
    first: &'a mut [usize],
    /// For each name id, where its value is in the text, once a regex has found it.
    found: &'a mut [Option<(usize, usize)>],
}

impl Line<'_> {
    /// Where literal `l` first occurs, if it does.
    fn first(&mut self, literals: &[memmem::Finder<'_>], l: usize) -> Option<usize> {
        if self.first[l] == UNKNOWN {
            self.first[l] = literals[l].find(self.text.as_bytes()).unwrap_or(ABSENT);
        }
        (self.first[l] != ABSENT).then_some(self.first[l])
    }

    /// Keeps the named groups of a match of `v` that are not found yet; `span(g)` is where group
    /// `g` matched, if it did. An empty group is not a value.
    fn keep(&mut self, v: &Value, span: impl Fn(usize) -> Option<(usize, usize)>) {
        for &(g, id) in &v.groups {
            if self.found[id].is_none() {
                self.found[id] = span(g).filter(|(start, end)| start < end);
            }
        }
    }
}

impl Values {
    /// Compiles the value regexes of a rule set; `more` are the names its rules' regexes capture.
    pub(crate) fn new<'n>(values: &[ValueRule], more: impl IntoIterator<Item = &'n str>) -> Values {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut id = |l: &[u8]| match literals.iter().position(|k| k == l) {
            Some(i) => i,
            None => {
                literals.push(l.to_vec());
                literals.len() - 1
            }
        };
        let mut names: Vec<&'static str> = Vec::new();
        let mut regexes = Vec::with_capacity(values.len());
        for v in values {
            let required = required_literals(v.regex.as_str());
            let starts = match starting_literals(v.regex.as_str()) {
                Some(starting) => {
                    // A group of needed literals that each starting one begins with gives the
                    // places as well: its literals are searched for anyway.
                    let group = required.iter().find(|group| {
                        group.len() <= MAX_STARTS
                            && starting
                                .iter()
                                .all(|s| group.iter().any(|l| s.starts_with(l)))
                    });
                    group.unwrap_or(&starting).iter().map(|l| id(l)).collect()
                }
                None => Vec::new(),
            };
            let needles = required
                .iter()
                .map(|group| group.iter().map(|l| id(l)).collect())
                .collect();
            let groups = v
                .regex
                .capture_names()
                .enumerate()
                .filter_map(|(g, name)| {
                    let name = name?;
                    Some((g, name_id(&mut names, name)))
                })
                .collect();
            regexes.push(Value {
                regex: v.regex.clone(),
                groups,
                needles,
                starts,
                anchored: OnceLock::new(),
            });
        }
        for name in more {
            name_id(&mut names, name);
        }
        let mut order: Vec<usize> = (0..names.len()).collect();
        order.sort_by_key(|&id| names[id]);
        Values {
            regexes,
            names,
            order,
            literals: literals
                .iter()
                .map(|l| memmem::Finder::new(l).into_owned())
                .collect(),
            scratch: Mutex::default(),
        }
    }

    /// Where the values of each line are: a row of [`Values::names`]'s length a line, in
    /// `lines`' order, `None` where the line has no such value, handed to `then`. The regexes of
    /// a line's rules come first, then every value regex in turn; the first value of a name
    /// wins, and a name `known(line, name)`, if asked, is not looked for. Each value regex runs
    /// over all the lines before the next one does, which keeps its caches warm.
    fn find<T>(
        &self,
        lines: &[Text<'_>],
        known: Option<&Known<'_>>,
        then: impl FnOnce(&[Option<(usize, usize)>]) -> T,
    ) -> T {
        let taken = self.scratch.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut scratch = taken.unwrap_or_default();
        self.find_in(lines, known, &mut scratch);
        let found = then(&scratch.found);
        // Rows for more lines than a block of the usual storm has are not kept: one block of
        // short distinct failing lines should not hold its rows' memory for the rest of the run.
        if lines.len() > KEPT_ROWS {
            scratch.first = Vec::new();
            scratch.found = Vec::new();
        }
        self.scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(scratch);
        found
    }

    /// [`Values::find`] with `scratch`: the rows end up in `scratch.found`.
    fn find_in(&self, lines: &[Text<'_>], known: Option<&Known<'_>>, scratch: &mut Scratch) {
        // A row of each for every line (one at least, so that there is a row).
        let (literals, names) = (self.literals.len().max(1), self.names.len().max(1));
        let Scratch {
            first,
            found,
            anchored,
            locs,
        } = scratch;
        first.clear();
        first.resize(lines.len() * literals, UNKNOWN);
        found.clear();
        found.resize(lines.len() * names, None);
        anchored.resize_with(self.regexes.len(), || None);
        locs.resize_with(self.regexes.len(), || None);
        let id = |n: &str| self.names.iter().position(|k| *k == n);
        for (i, (line, found)) in lines.iter().zip(found.chunks_mut(names)).enumerate() {
            if let Some(known) = known {
                for (name, found) in self.names.iter().zip(&mut *found) {
                    if known(i, name) {
                        // Counts as found, and is not replaced.
                        *found = Some((0, 0));
                    }
                }
            }
            for re in line.rules.iter().flatten() {
                if re
                    .capture_names()
                    .flatten()
                    .all(|n| id(n).is_none_or(|id| found[id].is_some()))
                {
                    continue;
                }
                let mut locs = re.capture_locations();
                if re.captures_read(&mut locs, line.text).is_none() {
                    continue;
                }
                for (g, name) in re.capture_names().enumerate() {
                    let Some(id) = name.and_then(id) else {
                        continue;
                    };
                    if found[id].is_none() {
                        found[id] = locs.get(g).filter(|(start, end)| start < end);
                    }
                }
            }
        }
        for ((v, anchored), locs) in self.regexes.iter().zip(anchored).zip(locs) {
            let state = first.chunks_mut(literals).zip(found.chunks_mut(names));
            for (&Text { text, .. }, (first, found)) in lines.iter().zip(state) {
                self.run(v, anchored, locs, &mut Line { text, first, found });
            }
        }
    }

    /// Runs value regex `v` over `line`, with its engine's cache `anchored` and its slots for
    /// the unanchored search `locs`, if it could match and finds a name not found yet.
    fn run(
        &self,
        v: &Value,
        anchored: &mut Option<EngineCache>,
        locs: &mut Option<regex::CaptureLocations>,
        line: &mut Line<'_>,
    ) {
        if v.groups.iter().all(|&(_, id)| line.found[id].is_some())
            || !v.needles.iter().all(|group| {
                group
                    .iter()
                    .any(|&l| line.first(&self.literals, l).is_some())
            })
        {
            return;
        }
        let engine = if v.starts.is_empty() {
            None
        } else {
            v.anchored
                .get_or_init(|| Engine::new(v.regex.as_str()))
                .as_ref()
        };
        if let Some(engine) = engine {
            let cache = anchored.get_or_insert_with(|| engine.cache());
            match self.anchored(engine, cache, &v.starts, line) {
                Some(true) => {
                    let caps = cache.captures();
                    line.keep(v, |g| caps.get_group(g).map(|s| (s.start, s.end)));
                    return;
                }
                Some(false) => return,
                // Too long for the engine: searched unanchored.
                None => {}
            }
        }
        // No match begins before the first place of a starting literal.
        let from = if v.starts.is_empty() {
            Some(0)
        } else {
            v.starts
                .iter()
                .filter_map(|&l| line.first(&self.literals, l))
                .min()
        };
        let locs = locs.get_or_insert_with(|| v.regex.capture_locations());
        if let Some(from) = from {
            if v.regex.captures_read_at(locs, line.text, from).is_some() {
                line.keep(v, |g| locs.get(g));
            }
        }
    }

    /// Adds to `into[i]` the values of `lines[i]` that it lacks (see [`Values::find`]).
    pub(crate) fn capture(&self, lines: &[Text<'_>], into: &mut [BTreeMap<String, String>]) {
        let found = self.find(
            lines,
            Some(&|i, name| into[i].contains_key(name)),
            |found| {
                let mut values = Vec::new();
                for (i, (line, found)) in lines
                    .iter()
                    .zip(found.chunks(self.names.len().max(1)))
                    .enumerate()
                {
                    for (name, &span) in self.names.iter().zip(found) {
                        if let Some((start, end)) = span.filter(|(start, end)| start < end) {
                            values.push((
                                i,
                                *name,
                                value(&line.text[start..end], line.secret).into_owned(),
                            ));
                        }
                    }
                }
                values
            },
        );
        for (i, name, value) in found {
            into[i].insert(name.to_string(), value);
        }
    }

    /// The values of each line (see [`Values::find`]).
    pub(crate) fn captured(&self, lines: &[Text<'_>]) -> Vec<Captured> {
        self.find(lines, None, |found| self.captures(lines, found))
    }

    /// Each line's [`Captured`] from its row of `found`.
    fn captures(&self, lines: &[Text<'_>], found: &[Option<(usize, usize)>]) -> Vec<Captured> {
        let rows = found.chunks(self.names.len().max(1));
        lines
            .iter()
            .zip(rows)
            .map(|(line, found)| {
                let spans = || found.iter().flatten().filter(|(start, end)| start < end);
                let mut text = String::with_capacity(spans().map(|(start, end)| end - start).sum());
                let mut ends = Vec::with_capacity(spans().count());
                for &id in &self.order {
                    if let Some((start, end)) = found[id].filter(|(start, end)| start < end) {
                        text.push_str(&value(&line.text[start..end], line.secret));
                        ends.push((self.names[id], text.len()));
                    }
                }
                Captured {
                    text: text.into_boxed_str(),
                    ends: ends.into_boxed_slice(),
                }
            })
            .collect()
    }

    /// Runs `engine` anchored at each place in the line where one of the literals `starts`
    /// begins, earliest first, until it matches (the match is then in `cache`): the leftmost
    /// match. `None` if the engine could not search the line.
    fn anchored(
        &self,
        engine: &Engine,
        cache: &mut EngineCache,
        starts: &[usize],
        line: &mut Line<'_>,
    ) -> Option<bool> {
        // The next place of each literal, from the last one tried on.
        let mut next = [None; MAX_STARTS];
        for (next, &l) in next.iter_mut().zip(starts) {
            *next = line.first(&self.literals, l);
        }
        while let Some((k, at)) = next[..starts.len()]
            .iter()
            .enumerate()
            .filter_map(|(k, at)| at.map(|at| (k, at)))
            .min_by_key(|&(_, at)| at)
        {
            let input = Input::new(line.text).range(at..).anchored(Anchored::Yes);
            if engine.search(cache, &input)? {
                return Some(true);
            }
            next[k] = self.literals[starts[k]]
                .find(&line.text.as_bytes()[at + 1..])
                .map(|i| at + 1 + i);
        }
        Some(false)
    }
}

/// A value cut from a line: values end up in reports and check commands, so no secret may ride
/// along. `secret`: whether the line could hold one ([`crate::mask::hinted`]).
fn value(cut: &str, secret: bool) -> std::borrow::Cow<'_, str> {
    if secret {
        crate::mask::mask(cut)
    } else {
        cut.into()
    }
}

/// The literals every match of `pattern` begins with, if there are a few ([`MAX_STARTS`]) and
/// none is shorter than [`MIN_START`].
fn starting_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let found = seq.literals()?;
    if found.is_empty() || found.len() > MAX_STARTS {
        return None;
    }
    let mut starts: Vec<Vec<u8>> = Vec::new();
    for l in found {
        if l.as_bytes().len() < MIN_START {
            return None;
        }
        starts.push(l.as_bytes().to_vec());
    }
    Some(prefix_free(starts))
}

/// `literals` without duplicates and without any that another one begins: the places the
/// longer one occurs are places the shorter one occurs.
fn prefix_free(mut literals: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    // Sorted, a literal comes right after the ones it begins with.
    literals.sort();
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(literals.len());
    for l in literals {
        if !kept.last().is_some_and(|k| l.starts_with(k)) {
            kept.push(l);
        }
    }
    kept
}

/// What every match of `pattern` contains, as groups of literals (three bytes or more): each
/// match holds at least one literal of every group. A group of one literal comes from a run of
/// literals in the pattern's top-level sequence (looking through capture groups); a group of
/// several from an alternation whose every branch requires one (`(?:Get|Head) `). Groups of one
/// literal come first, longest first.
pub(super) fn required_literals(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    use regex_syntax::hir::{Hir, HirKind};
    fn walk(hir: &Hir, found: &mut Vec<Vec<Vec<u8>>>) {
        match hir.kind() {
            HirKind::Capture(c) => walk(&c.sub, found),
            HirKind::Literal(l) => found.push(vec![l.0.to_vec()]),
            HirKind::Concat(items) => {
                let mut run: Vec<u8> = Vec::new();
                for item in items {
                    match item.kind() {
                        HirKind::Literal(l) => run.extend_from_slice(&l.0),
                        _ => {
                            found.push(vec![std::mem::take(&mut run)]);
                            walk(item, found);
                        }
                    }
                }
                found.push(vec![run]);
            }
            HirKind::Alternation(branches) => {
                // Each branch's best requirement (its longest single literal, or else its
                // smallest group); the branches' together are one group.
                let mut group = Vec::new();
                for branch in branches {
                    let mut own = Vec::new();
                    walk(branch, &mut own);
                    own.retain(|g| g.iter().all(|l| l.len() >= 3));
                    own.sort_by_key(|g| (g.len(), std::cmp::Reverse(g[0].len())));
                    match own.into_iter().next() {
                        Some(best) => group.extend(best),
                        None => return,
                    }
                }
                found.push(group);
            }
            _ => {}
        }
    }
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    walk(&hir, &mut found);
    found.retain(|g| !g.is_empty() && g.iter().all(|l| l.len() >= 3));
    found.sort_by_key(|g| (g.len(), std::cmp::Reverse(g[0].len())));
    found.dedup();
    found
}

/// The names of the groups `pattern` captures (`(?P<name>` and `(?<name>`), and perhaps a few
/// it does not (the same text in a class or after a backslash): read from the pattern, which
/// need not be compiled for it.
pub(super) fn group_names(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.match_indices("(?").filter_map(move |(at, _)| {
        let rest = &pattern[at + 2..];
        let rest = rest.strip_prefix("P<").or_else(|| rest.strip_prefix('<'))?;
        let name = &rest[..rest.find('>')?];
        (!name.is_empty()).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::rules::RuleSet;

    /// What the values of `text` are by definition: each regex in turn, its first match, the
    /// names `into` lacks; an empty group is no value.
    fn by_definition(values: &[ValueRule], text: &str, into: &mut BTreeMap<String, String>) {
        for v in values {
            let Some(caps) = v.regex.captures(text) else {
                continue;
            };
            for name in v.regex.capture_names().flatten() {
                if let Some(m) = caps.name(name).filter(|m| !m.is_empty()) {
                    into.entry(name.to_string())
                        .or_insert_with(|| m.as_str().to_string());
                }
            }
        }
    }

    /// A line of no rule with a regex, that holds no secret.
    fn text(text: &str) -> Text<'_> {
        Text {
            text,
            secret: false,
            rules: [None, None],
        }
    }

    /// The texts of the built-in rules' examples, decoded.
    fn example_texts(set: &RuleSet) -> Vec<String> {
        set.rules
            .iter()
            .flat_map(|r| &r.examples)
            .map(|e| crate::record::decode(e.as_bytes()).text.into_owned())
            .collect()
    }

    #[test]
    fn the_built_in_regexes_begin_with_their_literals_and_most_run_anchored() {
        let set = RuleSet::builtin().unwrap();
        let texts = example_texts(&set);
        let mut matched = 0;
        for v in &set.values {
            let starts = starting_literals(v.regex.as_str())
                .unwrap_or_else(|| panic!("{} begins anywhere", v.regex.as_str()));
            for text in &texts {
                if let Some(m) = v.regex.find(text) {
                    matched += 1;
                    assert!(
                        starts
                            .iter()
                            .any(|s| text.as_bytes()[m.start()..].starts_with(s)),
                        "{} matched {:?}, which begins with none of its literals",
                        v.regex.as_str(),
                        m.as_str()
                    );
                }
            }
        }
        assert!(matched > 50, "only {matched} matches in the examples");
        // All but the cluster URL's (a user before `@` is told from a host only at the `@`) and
        // the minimum version's are one-pass.
        let one_pass = set
            .values
            .iter()
            .filter(|v| onepass::DFA::new(v.regex.as_str()).is_ok())
            .count();
        assert_eq!(one_pass, set.values.len() - 2);
    }

    #[test]
    fn starting_literals_are_prefix_free_and_long_enough() {
        assert_eq!(
            starting_literals(r"(?:Get|Head) (?P<u>https?://\S+)").unwrap(),
            [
                b"Get http://".to_vec(),
                b"Get https://".to_vec(),
                b"Head http://".to_vec(),
                b"Head https://".to_vec()
            ]
        );
        // `abc` begins wherever `abcdef` and `abcf` do.
        assert_eq!(
            starting_literals(r"abc(?:de)?f|abc").unwrap(),
            [b"abc".to_vec()]
        );
        // Too short, anywhere, or too many to be worth it.
        assert_eq!(starting_literals(r"ab(?P<x>\d+)"), None);
        assert_eq!(starting_literals(r"(?P<x>\w+)=1"), None);
        assert_eq!(starting_literals(r"(?i)version (?P<v>\d+)"), None);
    }

    #[test]
    fn values_of_the_examples_are_the_values_by_definition() {
        let set = RuleSet::builtin().unwrap();
        let values = Values::new(&set.values, []);
        let texts = example_texts(&set);
        let lines: Vec<Text> = texts.iter().map(|t| text(t)).collect();
        let mut got = vec![BTreeMap::new(); lines.len()];
        values.capture(&lines, &mut got);
        let captured = values.captured(&lines);
        let mut some = 0;
        for (text, got) in texts.iter().zip(&got) {
            let mut want = BTreeMap::new();
            by_definition(&set.values, text, &mut want);
            assert_eq!(got, &want, "{text}");
            some += usize::from(!want.is_empty());
        }
        for (got, captured) in got.iter().zip(&captured) {
            assert_eq!(&captured.to_map(), got);
        }
        assert!(some > 30, "only {some} examples have values");
    }

    #[test]
    fn regexes_that_begin_anywhere_are_searched_unanchored_and_those_not_one_pass_backtracked() {
        let set = RuleSet::parse(
            "t.toml",
            r#"
[[value]]
regex = '(?P<key>[a-z]+)=(?P<n>\d+)'
[[value]]
regex = 'at (?P<user>[^@ ]*@)?(?P<host>[^@ ]+)'
[[value]]
regex = 'xyz(?P<empty>q*)(?P<tail>z+)'
"#,
        )
        .unwrap();
        let values = Values::new(&set.values, []);
        assert!(values.regexes[0].starts.is_empty());
        assert!(!values.regexes[1].starts.is_empty());
        // Too long for the backtracker: searched unanchored instead.
        let long = format!("at {}@{} xyz", "u".repeat(300_000), "h".repeat(10));
        let texts = [
            "a=1 at me@host b=2",
            "nothing here",
            "at host at u@h xyzzz",
            "xyz at @ =3 n=44",
            "",
            "at m\u{e9}@h\u{f4}te\u{2003}x at z",
            &long,
        ];
        let lines: Vec<Text> = texts.iter().map(|t| text(t)).collect();
        let mut got = vec![BTreeMap::new(); lines.len()];
        // A value known already stays.
        got[0].insert("host".to_string(), "known".to_string());
        values.capture(&lines, &mut got);
        for (i, text) in texts.iter().enumerate() {
            let mut want = BTreeMap::new();
            if i == 0 {
                want.insert("host".to_string(), "known".to_string());
            }
            by_definition(&set.values, text, &mut want);
            assert_eq!(got[i], want, "{text}");
        }
        assert_eq!(got[0]["user"], "me@");
        assert_eq!(got[2]["host"], "host");
        assert!(!got[2].contains_key("empty"));
        assert_eq!(got[2]["tail"], "zz");
        assert_eq!(got[5]["host"], "h\u{f4}te\u{2003}x");
        assert_eq!(got[6]["host"], "hhhhhhhhhh");
        let Some(Some(Engine::Backtrack(e))) = values.regexes[1].anchored.get() else {
            panic!("the user and host regex is not one-pass");
        };
        assert!(long.len() > e.backtrack.max_haystack_len());
    }

    #[test]
    fn a_rule_regex_comes_first_and_names_are_read_from_patterns() {
        let set = RuleSet::parse(
            "t.toml",
            r#"
[[value]]
regex = 'host (?P<host>[a-z]+) port (?P<port>\d+)'
"#,
        )
        .unwrap();
        let rule = regex::Regex::new(r"to (?P<host>[a-z]+)(?: as (?<user>\w+))?").unwrap();
        let names: Vec<&str> = group_names(rule.as_str()).collect();
        assert_eq!(names, ["host", "user"]);
        let values = Values::new(&set.values, names);
        let lines = [
            Text {
                text: "to db as admin: host es port 9200",
                secret: false,
                rules: [Some(&rule), None],
            },
            Text {
                text: "to db: host es port 9200 token=s3cr3t",
                secret: true,
                rules: [None, Some(&rule)],
            },
        ];
        let captured = values.captured(&lines);
        let pairs: Vec<(&str, &str)> = captured[0].iter().collect();
        // By name; the rule's host, then the value regex's port.
        assert_eq!(pairs, [("host", "db"), ("port", "9200"), ("user", "admin")]);
        assert_eq!(&captured[1]["host"], "db");
        assert_eq!(captured[1].get("user"), None);
        let mut into = vec![BTreeMap::new(), BTreeMap::new()];
        values.capture(&lines, &mut into);
        assert_eq!(into[0], captured[0].to_map());
        assert_eq!(into[1], captured[1].to_map());
        assert_eq!(
            group_names(r"(?P<a>x)(?:y)(?<b_1>z)\(?P<c>").collect::<Vec<_>>(),
            ["a", "b_1", "c"]
        );
    }

    /// Pieces that make the value regexes match, nearly match, or match twice.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("Get \"https://es01:9200/\"".to_string()),
            Just("Head \"http://u:p@es:9243/_x\"".to_string()),
            Just("Get \"http".to_string()),
            Just("https://otel-auto-ops.us-east-1.aws.svc.elastic.cloud/v1/logs".to_string()),
            Just("http://otel-auto-ops.".to_string()),
            Just("https://api.elastic-cloud.com/api/v1/cloud-connected".to_string()),
            Just("proxyconnect tcp: dial tcp 10.0.0.8:3128".to_string()),
            Just("proxyconnect tcp: dial tcp: lookup proxy".to_string()),
            Just("HTTP Status Code 503".to_string()),
            Just("http error! Code: 40".to_string()),
            Just("version 7.10.2 is less than the minimum required version 7.17.0".to_string()),
            Just("from cluster, nodes_stats metricset".to_string()),
            Just("license type is not supported: basic".to_string()),
            Just(":9200".to_string()),
            Just("@".to_string()),
            // Not ASCII: a user and host, and a space that `\s` holds.
            Just("Get \"https://\u{e9}l\u{e8}ve@h\u{f4}te:9200/\"".to_string()),
            Just("\u{a0}".to_string()),
            "[ -~]{0,12}",
            "\\PC{0,4}",
        ]
    }

    proptest! {
        #[test]
        fn values_are_the_values_by_definition(
            texts in proptest::collection::vec(proptest::collection::vec(piece(), 0..6), 1..5),
            known in proptest::option::of("(es_host|status|proxy|otel_url)"),
        ) {
            static BUILT_IN: std::sync::LazyLock<(RuleSet, Values)> = std::sync::LazyLock::new(|| {
                let set = RuleSet::builtin().unwrap();
                let values = Values::new(&set.values, []);
                (set, values)
            });
            let (set, values) = &*BUILT_IN;
            let texts: Vec<String> = texts.iter().map(|pieces| pieces.concat()).collect();
            let lines: Vec<Text> = texts.iter().map(|t| text(t)).collect();
            let mut got = vec![BTreeMap::new(); lines.len()];
            let captured = values.captured(&lines);
            if let Some(known) = &known {
                got[0].insert(known.clone(), "known".to_string());
            }
            values.capture(&lines, &mut got);
            for (i, text) in texts.iter().enumerate() {
                let mut want = BTreeMap::new();
                if let (0, Some(known)) = (i, &known) {
                    want.insert(known.clone(), "known".to_string());
                }
                by_definition(&set.values, text, &mut want);
                prop_assert_eq!(&got[i], &want, "{:?}", text);
                if known.is_none() {
                    prop_assert_eq!(&captured[i].to_map(), &want);
                }
            }
        }
    }
}
