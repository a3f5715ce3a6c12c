//! The watch driver (`faultline watch PATH…`): follows log files for days, like `tail -F`, through
//! every way logs are rotated. Files are known by identity (device and inode, checked against a
//! fingerprint of their first bytes), not by name: a renamed file is the same file and is not
//! read twice; a file whose name now points elsewhere is read to its end and closed; a file that
//! shrank or whose first bytes changed (even while a pass read it) was truncated and is read
//! again from its start; a copy of a file already read (the copy
//! of `copytruncate`) is recognised by its fingerprint and continues where its original stopped.
//! notify's events on the parent directories only wake the loop; a pass of `stat` and reads
//! every poll interval is the truth. Followed files are read, never mapped. Each file has its own
//! [`Framer`]; its blocks go through the same scanner and aggregation as every other input, and
//! the deltas feed [`Alerting`]. With `--state`, positions, fingerprints, the aggregation and the
//! open alerts are saved atomically, so a restart resumes exactly.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{scan_ready, Ctx, RunOptions};
use crate::findings::alert::Alerting;
use crate::findings::{Aggregation, Source};
use crate::matcher::Matcher;
use crate::report::Observer;
use crate::scan::{Collector, Framer, Position};

/// How a watch runs.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Files, directories (their files, and files that appear in them later) and glob patterns.
    pub targets: Vec<PathBuf>,
    /// Read what the files already hold, rather than start at their end.
    pub from_start: bool,
    /// Where positions, fingerprints and alerts are kept across restarts.
    pub state: Option<PathBuf>,
    /// Poll only: no filesystem events (NFS, Docker Desktop volumes).
    pub poll: bool,
    /// How often every file is checked, whatever the events say.
    pub poll_interval: Duration,
    /// How often a still-failing problem is summed up.
    pub digest_interval: Duration,
}

/// How many first bytes of a file are its fingerprint.
const FINGERPRINT: usize = 256;
/// How many of the first bytes a pass read are compared with what the file holds there, when the
/// file turns out to have been rewritten during the pass.
const PROBE: usize = 4096;
/// How many bytes of fingerprint must agree for a new file to be taken for a copy of one read.
const MIN_MATCH: usize = 64;
/// How many closed files' fingerprints are remembered (for copies that show up later).
const RETIRED: usize = 64;
/// The buffer of one followed file.
const FOLLOW_BLOCK: usize = 256 << 10;
/// How long the loop sleeps at most between checks of Ctrl-C and events.
const NAP: Duration = Duration::from_millis(50);
/// The least time between two writes of the state file.
const SAVE_EVERY: Duration = Duration::from_secs(1);
/// How long a new file shorter than [`MIN_MATCH`] waits to grow before it is followed anyway: a
/// copy being written shows its first bytes by then, and a copy is recognised by them.
const SMALL_WAIT: Duration = Duration::from_millis(500);
/// Names of compressed rotations, which are not followed.
const COMPRESSED: [&str; 8] = [
    ".gz", ".bz2", ".xz", ".zst", ".zip", ".tgz", ".lz4", ".snappy",
];

/// A file's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// One followed file.
struct Follower {
    id: FileId,
    path: PathBuf,
    file: File,
    /// Its first bytes as read: the fingerprint.
    head: Vec<u8>,
    framer: Framer,
    source: Source,
    /// A copy still being written (copytruncate's copy) starts where its original was read: until
    /// it has grown that far, it is not taken for truncated.
    filling: bool,
}

impl Follower {
    /// Bytes read from the file so far: handed out, or held in the framer.
    fn read_to(&self) -> u64 {
        self.framer.position().offset + self.framer.pending() as u64
    }
}

/// A file no longer followed: where its reading stopped, for a copy of it that may show up.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Retired {
    head: Vec<u8>,
    at: Position,
}

/// What `--state` keeps.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    files: Vec<SavedFile>,
    retired: Vec<Retired>,
    aggregation: Aggregation,
    alerts: Alerting,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedFile {
    path: String,
    id: FileId,
    head: Vec<u8>,
    at: Position,
}

const STATE_VERSION: u32 = 1;

/// Whether a file whose first bytes are `head` holds a copy of the file whose fingerprint is
/// `known`: it starts with all of it, and that is at least [`MIN_MATCH`] bytes.
fn is_copy(known: &[u8], head: &[u8]) -> bool {
    known.len() >= MIN_MATCH && head.starts_with(known)
}

/// Whether `head` may still grow into a copy of `known` (a copy being written).
fn may_become_copy(known: &[u8], head: &[u8]) -> bool {
    known.len() >= MIN_MATCH && head.len() < known.len() && known.starts_with(head)
}

/// Follows the targets until `cancel` is set; returns the aggregation of the whole run.
pub fn watch(
    matcher: &Matcher,
    opts: &RunOptions,
    w: &WatchOptions,
    cancel: &AtomicBool,
    observer: &mut dyn Observer,
) -> io::Result<Aggregation> {
    let ctx = Ctx {
        matcher,
        opts,
        cancel,
        progress: &|_| {},
        cache: std::sync::Arc::default(),
        render: observer.render(),
    };
    let mut state = match &w.state {
        Some(path) => load_state(path)?,
        None => State::default(),
    };
    let mut watcher = Watch {
        ctx: &ctx,
        w,
        followers: Vec::new(),
        saved: std::mem::take(&mut state.files),
        retired: std::mem::take(&mut state.retired),
        total: std::mem::take(&mut state.aggregation),
        alerts: std::mem::take(&mut state.alerts),
        changed: false,
        announced_missing: Vec::new(),
        small: Vec::new(),
    };
    let (tx, rx) = mpsc::channel();
    let mut notify = if w.poll {
        None
    } else {
        match notify::recommended_watcher(tx) {
            Ok(n) => Some((n, Vec::<PathBuf>::new())),
            Err(e) => {
                observer.problem(
                    "watch",
                    &format!(
                        "filesystem events are unavailable ({e}); polling every {:?}",
                        w.poll_interval
                    ),
                    false,
                );
                None
            }
        }
    };
    if let Some((n, watched)) = &mut notify {
        add_watches(n, watched, &w.targets);
    }
    watcher.pass(true, observer)?;
    // Files the state knew that are gone now: a file that shows up later under their name is
    // another file.
    watcher.saved.clear();
    let names: Vec<String> = watcher
        .followers
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    observer.note(&format!(
        "watching {} {}{}{} (Ctrl-C for the report)",
        names.len(),
        if names.len() == 1 { "file" } else { "files" },
        if names.is_empty() { "" } else { ": " },
        names.join(", ")
    ));
    let mut last_pass = Instant::now();
    let mut last_save = Instant::now();
    watcher.save(&mut last_save, true)?;
    while !ctx.cancelled() {
        let mut wake = false;
        match rx.recv_timeout(NAP) {
            Ok(event) => {
                // Take every event that is already there: one pass serves them all. Reads (ours
                // among them) do not change a file.
                wake |= changes(&event);
                while let Ok(event) = rx.try_recv() {
                    wake |= changes(&event);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(NAP),
        }
        if wake || last_pass.elapsed() >= w.poll_interval {
            if let Some((n, watched)) = &mut notify {
                add_watches(n, watched, &w.targets);
            }
            watcher.pass(false, observer)?;
            last_pass = Instant::now();
        }
        watcher.digests(observer)?;
        watcher.save(&mut last_save, false)?;
    }
    // Ctrl-C: what is there is read, then the report.
    watcher.pass(false, observer)?;
    watcher.save(&mut last_save, true)?;
    Ok(watcher.total)
}

/// Whether a filesystem event may mean new data, a new file or a rotation: anything but an
/// access. An error or an overflow (notify's rescan flag) calls for a full pass too.
fn changes(event: &notify::Result<notify::Event>) -> bool {
    match event {
        Ok(e) => e.need_rescan() || !matches!(e.kind, notify::EventKind::Access(_)),
        Err(_) => true,
    }
}

/// Watches the directories the targets live in (those that exist by now).
fn add_watches(
    n: &mut notify::RecommendedWatcher,
    watched: &mut Vec<PathBuf>,
    targets: &[PathBuf],
) {
    use notify::Watcher;
    for t in targets {
        let dir = if is_glob(t) {
            glob_base(t)
        } else if t.is_dir() {
            t.clone()
        } else {
            t.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        // The directory a symlink's target lives in rotates too: watch it as well.
        let mut dirs = vec![dir];
        if let Ok(real) = std::fs::canonicalize(t) {
            if let Some(parent) = real.parent() {
                dirs.push(parent.to_path_buf());
            }
        }
        for d in dirs {
            if !watched.contains(&d)
                && d.is_dir()
                && n.watch(&d, notify::RecursiveMode::NonRecursive).is_ok()
            {
                watched.push(d);
            }
        }
    }
}

fn is_glob(p: &Path) -> bool {
    p.to_string_lossy().contains(['*', '?', '['])
}

/// The directories of a glob pattern before its first wildcard.
fn glob_base(p: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for c in p.components() {
        if c.as_os_str().to_string_lossy().contains(['*', '?', '[']) {
            break;
        }
        base.push(c);
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

struct Watch<'c> {
    ctx: &'c Ctx<'c>,
    w: &'c WatchOptions,
    followers: Vec<Follower>,
    /// Positions from the state file, for files not opened yet.
    saved: Vec<SavedFile>,
    retired: Vec<Retired>,
    total: Aggregation,
    alerts: Alerting,
    /// Something was read or alerted since the state was last saved.
    changed: bool,
    /// Named files that do not exist (said once).
    announced_missing: Vec<PathBuf>,
    /// New files too short to fingerprint, and since when.
    small: Vec<(FileId, Instant)>,
}

impl Watch<'_> {
    /// The files the targets name now, by identity (the first path of each wins).
    fn candidates(&mut self, observer: &mut dyn Observer) -> Vec<(FileId, PathBuf, u64)> {
        let mut paths: Vec<PathBuf> = Vec::new();
        for t in &self.w.targets {
            if is_glob(t) {
                if let Ok(found) = glob::glob(&t.to_string_lossy()) {
                    paths.extend(found.flatten());
                }
            } else if t.is_dir() {
                if let Ok(dir) = std::fs::read_dir(t) {
                    let mut entries: Vec<PathBuf> = dir.flatten().map(|e| e.path()).collect();
                    entries.sort();
                    paths.extend(entries);
                }
            } else if t.exists() {
                paths.push(t.clone());
            } else if !self.announced_missing.contains(t) {
                self.announced_missing.push(t.clone());
                observer.note(&format!(
                    "{} does not exist yet; it is followed once it appears",
                    t.display()
                ));
            }
        }
        let state_path = self.w.state.as_deref();
        let own = own_output();
        let mut out: Vec<(FileId, PathBuf, u64)> = Vec::new();
        for p in paths {
            let name = p.file_name().map(|n| n.to_string_lossy().to_lowercase());
            if name
                .as_deref()
                .is_some_and(|n| COMPRESSED.iter().any(|c| n.ends_with(c)))
            {
                continue;
            }
            if state_path.is_some_and(|s| is_state_file(s, &p)) {
                continue;
            }
            // Follows symlinks: a kubelet link is followed to the file it names.
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let id = FileId::of(&meta);
            // Never our own output (`faultline watch DIR > DIR/out.log` would read itself).
            if own.contains(&id) {
                continue;
            }
            if !out.iter().any(|(i, _, _)| *i == id) {
                out.push((id, p, meta.len()));
            }
        }
        out
    }

    /// One pass: every followed file read to its end; rotated, truncated, deleted and new files
    /// dealt with.
    fn pass(&mut self, initial: bool, observer: &mut dyn Observer) -> io::Result<()> {
        let now_present = self.candidates(observer);
        // Followed files first: read what they have, then see whether their name still holds them.
        let mut i = 0;
        while i < self.followers.len() {
            let here = now_present
                .iter()
                .find(|(id, _, _)| *id == self.followers[i].id)
                .map(|(_, p, _)| p.clone());
            match here {
                Some(path) => {
                    let f = &mut self.followers[i];
                    if f.path != path {
                        // Renamed (rotation): what it says from now on is under its new name.
                        f.source = Source::new(&path.display().to_string(), f.source.ord);
                        f.path = path;
                    }
                    self.read(i, false, observer)?;
                    i += 1;
                }
                None => {
                    // Renamed out of sight, replaced, or deleted: read to the end, then let go
                    // (a deleted file's space is freed once it is closed).
                    self.read(i, true, observer)?;
                    let f = self.followers.remove(i);
                    retire(&mut self.retired, &f);
                }
            }
        }
        let now = Instant::now();
        self.small
            .retain(|(id, _)| now_present.iter().any(|(i, _, _)| i == id));
        for (id, path, size) in now_present {
            if self.followers.iter().any(|f| f.id == id) {
                continue;
            }
            let Ok(file) = File::open(&path) else {
                continue;
            };
            let head = read_head(&file, size);
            // A new file too short to be told apart from a copy (or that could be a copy still
            // being written) waits a little to grow.
            let unsure = size < MIN_MATCH as u64
                || self.retired.iter().any(|r| may_become_copy(&r.head, &head))
                || self
                    .followers
                    .iter()
                    .any(|f| may_become_copy(&f.head, &head));
            if !initial && unsure {
                let since = match self.small.iter().find(|(i, _)| *i == id) {
                    Some((_, t)) => *t,
                    None => {
                        self.small.push((id, now));
                        now
                    }
                };
                if now.duration_since(since) < SMALL_WAIT {
                    continue;
                }
            }
            self.small.retain(|(i, _)| *i != id);
            let (start, filling) = self.start_of(id, &head, size, initial, &file);
            let ord = self.total.stats.sources as u32;
            self.total.stats.sources += 1;
            let mut f = Follower {
                id,
                path: path.clone(),
                file,
                head,
                framer: Framer::resume(FOLLOW_BLOCK, start),
                source: Source::new(&path.display().to_string(), ord),
                filling,
            };
            f.file.seek(SeekFrom::Start(start.offset))?;
            self.followers.push(f);
            let last = self.followers.len() - 1;
            self.read(last, false, observer)?;
        }
        Ok(())
    }

    /// Where reading a newly seen file starts, and whether it is a copy that may still be
    /// written up to there.
    fn start_of(
        &mut self,
        id: FileId,
        head: &[u8],
        size: u64,
        initial: bool,
        file: &File,
    ) -> (Position, bool) {
        // A restart: the state knows this file (same identity, same first bytes).
        if let Some(k) = self
            .saved
            .iter()
            .position(|s| s.id == id && head.starts_with(&s.head))
        {
            let s = self.saved.remove(k);
            if s.at.offset <= size {
                return (s.at, false);
            }
        }
        if head.len() >= MIN_MATCH {
            // A copy of a file already read (copytruncate's copy, a rotated file that moved into
            // a watched directory): it goes on where the original stopped.
            if let Some(k) = self.retired.iter().rposition(|r| is_copy(&r.head, head)) {
                let r = self.retired.remove(k);
                return (r.at, r.at.offset > size);
            }
            // A copy of a file still followed (the copy seen before its original is truncated).
            if let Some(f) = self
                .followers
                .iter()
                .find(|f| f.id != id && is_copy(&f.head, head))
            {
                let at = f.framer.position();
                return (at, at.offset > size);
            }
        }
        if initial && !self.w.from_start {
            // Like `tail -F`: what is there already is skipped, its lines counted.
            return (
                Position {
                    offset: size,
                    line: 1 + count_lines(file, size),
                },
                false,
            );
        }
        (Position::default(), false)
    }

    /// Reads follower `i` to its end; `last` when the file is let go after this (its unfinished
    /// last line counts).
    fn read(&mut self, i: usize, last: bool, observer: &mut dyn Observer) -> io::Result<()> {
        let ctx = self.ctx;
        let f = &mut self.followers[i];
        let size = f.file.metadata().map(|m| m.len()).unwrap_or(0);
        // Truncated (copytruncate, `> file`): it shrank, or — truncated and written again past
        // where we were — its first bytes changed. What it holds now is new; the old content's
        // fingerprint is kept for its copy.
        let rewritten = changed(f, size);
        if f.filling {
            if size < f.read_to() {
                // A copy still being written up to where its original was read.
                return Ok(());
            }
            f.filling = false;
        }
        if size < f.read_to() || rewritten {
            retire(&mut self.retired, f);
            f.framer.reset();
            f.head.clear();
            f.file.seek(SeekFrom::Start(0))?;
        }
        let mut parts: Vec<Collector> = Vec::new();
        // Checking and reading are two steps: a file truncated and written again in between is
        // read from the old place, its new lines taken for the old file's next ones. Seen
        // afterwards (its first bytes changed, and what was read is what the file now holds
        // there), what this pass read is dropped and the file read again from its start. Twice
        // at most: a file rewritten on every pass is read as it comes.
        for again in [true, true, false] {
            let f = &mut self.followers[i];
            let (head, at, from) = (f.head.clone(), f.framer.position(), f.read_to());
            let mut probe: Vec<u8> = Vec::new();
            parts.clear();
            loop {
                let start = f.read_to();
                let n = match f.file.read(f.framer.spare()) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        observer.problem(&f.path.display().to_string(), &e.to_string(), true);
                        break;
                    }
                };
                if n == 0 {
                    break;
                }
                f.framer.filled(n);
                let held = f.framer.buffered();
                let new = &held[held.len() - n..];
                if probe.len() < PROBE {
                    probe.extend_from_slice(&new[..(PROBE - probe.len()).min(n)]);
                }
                // The fingerprint grows with the file up to its size.
                if start < FINGERPRINT as u64 && f.head.len() as u64 == start {
                    let take = (FINGERPRINT - f.head.len()).min(new.len());
                    f.head.extend_from_slice(&new[..take]);
                }
                scan_ready(ctx, &mut f.framer, &f.source, false, false, &mut |p| {
                    parts.push(p);
                    Ok(())
                })?;
            }
            if !again || !read_new_content(f, from, &probe) {
                break;
            }
            // What this pass read is the file's new content: the old one ended where the pass
            // began.
            keep_retired(&mut self.retired, head, at);
            f.framer.reset();
            f.head.clear();
            f.file.seek(SeekFrom::Start(0))?;
        }
        let f = &mut self.followers[i];
        if last {
            scan_ready(ctx, &mut f.framer, &f.source, true, false, &mut |p| {
                parts.push(p);
                Ok(())
            })?;
            // The unfinished last line of a file let go counts as a line.
            if let Some(p) = parts.last_mut() {
                p.agg.stats.lines += f.framer.lines() - (f.framer.position().line - 1);
            }
        }
        for part in parts {
            self.deliver(part, observer)?;
        }
        Ok(())
    }

    /// Hands a block's results on: events, deltas, and the alerts they call for.
    fn deliver(&mut self, part: Collector, observer: &mut dyn Observer) -> io::Result<()> {
        self.changed = true;
        if let Some(events) = &part.events {
            if !events.is_empty() {
                observer.matched(events)?;
            }
        }
        let deltas = self.total.merge(part.agg);
        self.total.seal();
        if !deltas.is_empty() {
            observer.changed(&deltas, &self.total)?;
            let alerts = self
                .alerts
                .on_deltas(&deltas, &self.total, jiff::Timestamp::now());
            for a in &alerts {
                observer.alert(a, &self.total)?;
            }
        }
        Ok(())
    }

    fn digests(&mut self, observer: &mut dyn Observer) -> io::Result<()> {
        let due = self
            .alerts
            .due(jiff::Timestamp::now(), self.w.digest_interval);
        for a in &due {
            self.changed = true;
            observer.alert(a, &self.total)?;
        }
        Ok(())
    }

    /// Writes the state file (if there is one) when something changed, at most every second
    /// unless `now`.
    fn save(&mut self, last: &mut Instant, now: bool) -> io::Result<()> {
        let Some(path) = &self.w.state else {
            return Ok(());
        };
        if !(now || (self.changed && last.elapsed() >= SAVE_EVERY)) {
            return Ok(());
        }
        let files: Vec<SavedFile> = self
            .followers
            .iter()
            .map(|f| SavedFile {
                path: f.path.display().to_string(),
                id: f.id,
                head: f.head.clone(),
                at: f.framer.position(),
            })
            .collect();
        let state = State {
            version: STATE_VERSION,
            files,
            retired: self.retired.clone(),
            aggregation: self.total.clone(),
            alerts: self.alerts.clone(),
        };
        write_atomically(path, &serde_json::to_vec(&state).map_err(io::Error::other)?)?;
        self.changed = false;
        *last = Instant::now();
        Ok(())
    }
}

/// The identities of the files standard output and standard error write to.
fn own_output() -> Vec<FileId> {
    use std::os::fd::AsFd;
    let mut ids = Vec::new();
    for fd in [
        io::stdout().as_fd().try_clone_to_owned(),
        io::stderr().as_fd().try_clone_to_owned(),
    ]
    .into_iter()
    .flatten()
    {
        if let Ok(meta) = File::from(fd).metadata() {
            if meta.is_file() {
                ids.push(FileId::of(&meta));
            }
        }
    }
    ids
}

/// Remembers where reading a file's content stopped (it was let go, or truncated), for a copy of
/// it that may show up; the oldest of [`RETIRED`] is forgotten.
fn retire(retired: &mut Vec<Retired>, f: &Follower) {
    keep_retired(retired, f.head.clone(), f.framer.position());
}

/// Remembers a file whose fingerprint is `head`, read up to `at` (the oldest one goes when there
/// are [`RETIRED`]).
fn keep_retired(retired: &mut Vec<Retired>, head: Vec<u8>, at: Position) {
    if head.is_empty() {
        return;
    }
    if retired.len() == RETIRED {
        retired.remove(0);
    }
    retired.push(Retired { head, at });
}

/// Whether follower `f`'s file, now `size` bytes long, no longer begins with the bytes read from
/// its start: truncated and written again.
fn changed(f: &Follower, size: u64) -> bool {
    !f.head.is_empty() && {
        let now = read_head(&f.file, size.min(f.head.len() as u64));
        now.len() < f.head.len().min(size as usize) || now[..] != f.head[..now.len()]
    }
}

/// Whether what a pass of follower `f` read from `from` (its first bytes: `probe`) was the content
/// the file was rewritten with during the pass, read from the old place: the file's first bytes
/// changed, and it now holds `probe` at `from`. (If it holds something else there, the pass read
/// the old content before the rewrite, which stands.)
fn read_new_content(f: &Follower, from: u64, probe: &[u8]) -> bool {
    let size = f.file.metadata().map(|m| m.len()).unwrap_or(0);
    !probe.is_empty() && changed(f, size) && read_at(&f.file, from, probe.len()) == probe
}

/// Up to `len` bytes of `file` from `offset`.
fn read_at(file: &File, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    buf.truncate(got);
    buf
}

/// Whether `p` is the state file or one of its temporary files.
fn is_state_file(state: &Path, p: &Path) -> bool {
    let (Some(sd), Some(pd)) = (state.parent(), p.parent()) else {
        return false;
    };
    let same_dir = std::fs::canonicalize(if sd.as_os_str().is_empty() {
        Path::new(".")
    } else {
        sd
    })
    .ok()
        == std::fs::canonicalize(if pd.as_os_str().is_empty() {
            Path::new(".")
        } else {
            pd
        })
        .ok();
    let (Some(sn), Some(pn)) = (state.file_name(), p.file_name()) else {
        return false;
    };
    same_dir && pn.to_string_lossy().starts_with(&*sn.to_string_lossy())
}

/// The first bytes of a file (its fingerprint).
fn read_head(file: &File, size: u64) -> Vec<u8> {
    read_at(file, 0, FINGERPRINT.min(size as usize))
}

/// Newlines in the first `size` bytes of a file.
fn count_lines(file: &File, size: u64) -> u64 {
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0u64;
    let mut lines = 0u64;
    while at < size {
        let want = ((size - at) as usize).min(buf.len());
        match file.read_at(&mut buf[..want], at) {
            Ok(0) => break,
            Ok(n) => {
                lines += bytecount::count(&buf[..n], b'\n') as u64;
                at += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lines
}

fn load_state(path: &Path) -> io::Result<State> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::default()),
        Err(e) => return Err(e),
    };
    let state: State = serde_json::from_slice(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the state file {} is not one faultline wrote ({e}); move it away to start over",
                path.display()
            ),
        )
    })?;
    if state.version != STATE_VERSION {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the state file {} has version {}, this faultline reads {STATE_VERSION}; move it away to start over",
                path.display(),
                state.version
            ),
        ));
    }
    Ok(state)
}

/// Writes a file so that a reader (or a crash) sees the old content or the new, never a mix: a
/// temporary file beside it, synced, renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the state path names no file")
    })?;
    let tmp = path.with_file_name(format!(
        "{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Write;

    use super::*;

    /// A follower of `path` that has read `read` (the file's first bytes) and stands after it.
    fn follower(path: &Path, read: &[u8]) -> Follower {
        let file = File::open(path).unwrap();
        let id = FileId::of(&file.metadata().unwrap());
        Follower {
            id,
            path: path.to_path_buf(),
            file,
            head: read[..read.len().min(FINGERPRINT)].to_vec(),
            framer: Framer::resume(
                FOLLOW_BLOCK,
                Position {
                    offset: read.len() as u64,
                    line: 1 + read.iter().filter(|&&b| b == b'\n').count() as u64,
                },
            ),
            source: Source::new(&path.display().to_string(), 0),
            filling: false,
        }
    }

    #[test]
    fn a_pass_that_read_a_rewritten_file_from_the_old_place_is_told_from_one_that_did_not() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("agent.log");
        let line = |n: u32| format!("2025-10-14T09:15:0{n}Z error connection refused n={n}\n");
        let (four, five, six) = (line(4), line(5), line(6));
        fs::write(&path, &four).unwrap();
        let from = four.len() as u64;

        // Appended as usual: the pass read line 6 after line 4.
        let mut f = follower(&path, four.as_bytes());
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(six.as_bytes())
            .unwrap();
        f.head.extend_from_slice(six.as_bytes());
        assert!(!read_new_content(&f, from, six.as_bytes()));

        // Truncated and written again (lines 5 and 6) between the check and the read: the pass
        // read line 6 from where line 4 ended, and the fingerprint grew with it.
        fs::write(&path, format!("{five}{six}")).unwrap();
        let mut f = follower(&path, four.as_bytes());
        f.head.extend_from_slice(six.as_bytes());
        assert!(read_new_content(&f, from, six.as_bytes()));

        // Rewritten after the pass read the old content (a line 7 that the new file does not
        // hold there): what was read stands.
        let seven = line(7);
        let f = follower(&path, four.as_bytes());
        assert!(!read_new_content(&f, from, seven.as_bytes()));

        // A pass that read nothing has nothing to drop.
        assert!(!read_new_content(&f, from, b""));
    }
}
