//! Support bundles: a path is opened, its format recognised by its magic bytes (gzip, zip, tar,
//! binary, text), and every text stream inside it, however deeply nested, handed to a [`Visitor`]
//! under a name like `bundle.zip!diag/logs/agent.ndjson`. Nothing is extracted to disk; archives
//! stream through bounded buffers, except a zip inside an archive, which needs random access and
//! is held in memory up to [`Limits::max_buffered`]. Safety limits (total decompressed size,
//! compression ratio, nesting depth, absurd member names) end a stream with a warning, never a
//! crash. Only regular files are opened (a FIFO, socket or device is skipped with a warning), and
//! a mapped file truncated during the scan is reported, not fatal (see [`super::mmap`]).

use std::fs::File;
use std::io::{self, Cursor, Read, Seek};

use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::mmap::GuardedMap;

/// How much of a stream is read to recognise its format.
const HEAD: usize = 8 * 1024;
/// Files smaller than this are read rather than mapped.
const MMAP_MIN: u64 = 64 * 1024;
/// A decompressing stream is checked for its ratio once it produced this much.
const RATIO_GRACE: u64 = 16 << 20;
/// Member names longer than this are skipped.
const MAX_NAME: usize = 1024;

/// Safety limits of a batch scan.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Decompressed bytes over the whole run.
    pub max_total: u64,
    /// Decompressed ÷ compressed bytes of one stream.
    pub max_ratio: u64,
    /// Archives inside archives.
    pub max_depth: usize,
    /// The largest nested zip held in memory.
    pub max_buffered: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_total: 64 << 30,
            max_ratio: 500,
            max_depth: 6,
            max_buffered: 512 << 20,
        }
    }
}

/// The bytes of one text stream.
pub enum Content<'a> {
    /// All of a named file's own bytes, mapped or read: scanned in parallel chunks (each of
    /// them is also that much of the file read).
    File(&'a [u8]),
    /// All of it, in memory: scanned in parallel chunks.
    Static(&'a [u8]),
    /// A stream, read in blocks.
    Stream(&'a mut dyn Read),
}

/// Receives what a bundle holds. The members of a zip are read in parallel, each by a visitor
/// [`fork`](Visitor::fork)ed for it, whose results are [`join`](Visitor::join)ed back in member
/// order.
pub trait Visitor: Sized + Send + Sync {
    /// A text stream. A read error ends that stream only; what was read before it counts.
    fn content(&mut self, name: &str, content: Content<'_>) -> io::Result<()>;
    /// Something could not be read (`error`: a corrupt or unreadable input, exit 2) or was cut
    /// short by a safety limit (a warning).
    fn problem(&mut self, name: &str, message: String, error: bool);
    /// A binary file or member was skipped.
    fn binary(&mut self, name: &str);
    /// An archive member was opened.
    fn member(&mut self);
    /// A visitor for one member read on another thread, with nothing collected yet.
    fn fork(&self) -> Self;
    /// Takes back what a forked visitor collected, after what this one collected so far.
    fn join(&mut self, forked: Self);
}

/// A limit was reached: a warning, not a read error.
#[derive(Debug)]
pub struct LimitExceeded(pub String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

/// Whether an I/O error is a [`LimitExceeded`].
pub fn is_limit(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LimitExceeded>())
}

/// Opens files and archives, shared by the threads of one run.
pub struct Opener {
    limits: Limits,
    /// Scan binary files too.
    text: bool,
    /// Decompressed bytes so far, over all threads.
    total: Arc<AtomicU64>,
    /// Bytes of nested zips held in memory now, over all levels and threads.
    buffered: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gzip,
    Zip,
    Tar,
    /// UTF-16 text with a byte-order mark (little-endian if `true`).
    Utf16(bool),
    Binary,
    Text,
}

fn sniff(head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b]) {
        Kind::Gzip
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Kind::Zip
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Kind::Tar
    } else if let Some(le) = super::utf16::bom(head) {
        Kind::Utf16(le)
    } else if memchr::memchr(0, head).is_some() {
        Kind::Binary
    } else {
        Kind::Text
    }
}

impl Opener {
    /// An opener with these limits; `text` scans binary files too.
    pub fn new(limits: Limits, text: bool) -> Opener {
        Opener {
            limits,
            text,
            total: Arc::new(AtomicU64::new(0)),
            buffered: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Visits one file (not a directory): itself if it is text, or everything inside it.
    pub fn visit_file<V: Visitor>(&self, path: &Path, name: &str, v: &mut V) {
        self.visit_file_reporting(path, name, v, &|_| {});
    }

    /// As [`visit_file`](Opener::visit_file), telling `read` how many bytes of the file were
    /// read as they are (a decompressor's input, a tar's blocks, a whole zip once done); a file
    /// handed over as [`Content::File`] is the visitor's to count.
    pub fn visit_file_reporting<V: Visitor>(
        &self,
        path: &Path,
        name: &str,
        v: &mut V,
        read: &(dyn Fn(u64) + Sync),
    ) {
        if let Err(e) = self.try_visit_file(path, name, v, read) {
            v.problem(name, e.to_string(), !is_limit(&e));
        }
    }

    fn try_visit_file<V: Visitor>(
        &self,
        path: &Path,
        name: &str,
        v: &mut V,
        read: &(dyn Fn(u64) + Sync),
    ) -> io::Result<()> {
        // Only regular files are read: opening a FIFO blocks until a writer comes, and a device
        // such as /dev/zero never ends. Checked before opening, and again on the open file in
        // case the path was replaced in between (opened non-blocking, so a FIFO cannot hang).
        let meta = std::fs::metadata(path)?;
        if !meta.is_file() {
            not_regular(&meta, name, v);
            return Ok(());
        }
        let mut file = open_nonblocking(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            not_regular(&meta, name, v);
            return Ok(());
        }
        let mut head = Vec::with_capacity(HEAD);
        (&mut file).take(HEAD as u64).read_to_end(&mut head)?;
        file.rewind()?;
        match sniff(&head) {
            Kind::Gzip => {
                let file = Reporting { inner: file, read };
                let counted = Counting::new(io::BufReader::with_capacity(256 << 10, file));
                let compressed = counted.count.clone();
                let mut gz = self.guard(flate2::read::MultiGzDecoder::new(counted), compressed);
                self.visit_stream(name, &mut gz, 0, true, v)
            }
            Kind::Zip => {
                // The map is pre-faulted: decompressors read it in small steps from several
                // threads, and faulting it in page by page halved the throughput (0.60 s →
                // 0.31 s, 256 MB zip).
                match GuardedMap::map(&file, true) {
                    Ok(Some(map)) => {
                        let done = self.visit_zip(name, &map, 0, v);
                        shrank(&map, name, v);
                        read(map.len() as u64);
                        done
                    }
                    // Not mappable, or no guard left: read it.
                    _ => {
                        let mut bytes = Vec::with_capacity(meta.len() as usize);
                        file.read_to_end(&mut bytes)?;
                        let done = self.visit_zip(name, &bytes, 0, v);
                        read(bytes.len() as u64);
                        done
                    }
                }
            }
            Kind::Tar => self.visit_tar(name, Reporting { inner: file, read }, 0, v),
            Kind::Utf16(le) => {
                let mut text = super::utf16::Utf16Reader::new(
                    io::BufReader::with_capacity(256 << 10, Reporting { inner: file, read }),
                    le,
                );
                v.content(name, Content::Stream(&mut text))
            }
            Kind::Binary if !self.text => {
                v.binary(name);
                Ok(())
            }
            Kind::Binary | Kind::Text => {
                if meta.len() >= MMAP_MIN {
                    // A file truncated while it is mapped reads as zeros past its new end (see
                    // `mmap`), and the scan says so; a log that is still written is followed
                    // with plain reads, never mapped.
                    if let Ok(Some(map)) = GuardedMap::map(&file, false) {
                        let done = v.content(name, Content::File(&map));
                        shrank(&map, name, v);
                        return done;
                    }
                }
                let mut bytes = Vec::with_capacity(meta.len() as usize);
                file.read_to_end(&mut bytes)?;
                v.content(name, Content::File(&bytes))
            }
        }
    }

    /// Visits a stream whose format is not known yet; `gunzipped` when it is the output of a
    /// gzip decoder (a gzip inside it is one more level of nesting).
    fn visit_stream<V: Visitor>(
        &self,
        name: &str,
        reader: &mut dyn Read,
        depth: usize,
        gunzipped: bool,
        v: &mut V,
    ) -> io::Result<()> {
        // A read error within the head (a truncated or corrupt gzip) comes after the bytes read
        // before it, so what could be read is still scanned.
        let mut head = Vec::with_capacity(HEAD);
        let error = reader.take(HEAD as u64).read_to_end(&mut head).err();
        let kind = sniff(&head);
        if kind == Kind::Binary && !self.text {
            v.binary(name);
            return error.map_or(Ok(()), Err);
        }
        let mut whole = Cursor::new(head).chain(Tail {
            error,
            reader: Some(reader),
        });
        match kind {
            Kind::Text | Kind::Binary => v.content(name, Content::Stream(&mut whole)),
            Kind::Utf16(le) => {
                let mut text = super::utf16::Utf16Reader::new(whole, le);
                v.content(name, Content::Stream(&mut text))
            }
            Kind::Gzip => {
                // Each gzip inside a gzip is a level: thousands of layers would nest thousands
                // of decoders (and overflow a thread's stack).
                let depth = depth + usize::from(gunzipped);
                if depth > self.limits.max_depth {
                    return Err(limit(format!(
                        "gzip nested deeper than {} levels; not opened",
                        self.limits.max_depth
                    )));
                }
                let counted = Counting::new(whole);
                let compressed = counted.count.clone();
                let mut gz = self.guard(flate2::read::MultiGzDecoder::new(counted), compressed);
                self.visit_stream(name, &mut gz, depth, true, v)
            }
            Kind::Zip | Kind::Tar if depth + 1 > self.limits.max_depth => Err(limit(format!(
                "archive nested deeper than {} levels; not opened",
                self.limits.max_depth
            ))),
            Kind::Tar => self.visit_tar(name, whole, depth, v),
            Kind::Zip => {
                // A zip needs random access: hold it in memory, within a budget shared by every
                // level of nesting and every thread (a zip in a zip in a zip holds all three).
                let max = self.limits.max_buffered;
                let mut held = Reservation {
                    budget: &self.buffered,
                    bytes: 0,
                };
                let mut bytes = Vec::new();
                let mut chunk = vec![0; 256 << 10];
                loop {
                    let n = match whole.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    if held.bytes + n as u64 > max {
                        return Err(limit(format!(
                            "nested zip larger than {} MiB; not opened (unpack it and scan the folder)",
                            max >> 20
                        )));
                    }
                    if !held.add(n as u64, max) {
                        return Err(limit(format!(
                            "the nested zips open at once would hold more than {} MiB in memory; not opened (unpack it and scan the folder)",
                            max >> 20
                        )));
                    }
                    bytes.extend_from_slice(&chunk[..n]);
                }
                drop(chunk);
                self.visit_zip(name, &bytes, depth, v)
            }
        }
    }

    /// Reads the members of a zip in parallel; their results join in member order.
    fn visit_zip<V: Visitor>(
        &self,
        name: &str,
        bytes: &[u8],
        depth: usize,
        v: &mut V,
    ) -> io::Result<()> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(io::Error::other)?;
        let metadata = archive.metadata();
        let parent: &V = v;
        let forks: Vec<V> = (0..archive.len())
            .into_par_iter()
            .map(|i| {
                let mut sub = parent.fork();
                // Each member reads through its own counter: the ratio guard measures the
                // compressed bytes actually read, whatever sizes the central directory claims.
                let counted = Counting::new(Cursor::new(bytes));
                let compressed = counted.count.clone();
                // SAFETY: (an API contract, not memory safety) the metadata was parsed from
                // these very bytes.
                let mut archive =
                    unsafe { zip::ZipArchive::unsafe_new_with_metadata(counted, metadata.clone()) };
                self.visit_zip_member(name, &mut archive, compressed, i, depth, &mut sub);
                sub
            })
            .collect();
        for sub in forks {
            v.join(sub);
        }
        Ok(())
    }

    fn visit_zip_member<R: Read + Seek, V: Visitor>(
        &self,
        name: &str,
        archive: &mut zip::ZipArchive<R>,
        compressed: Arc<AtomicU64>,
        i: usize,
        depth: usize,
        v: &mut V,
    ) {
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                v.problem(&format!("{name}!#{i}"), e.to_string(), true);
                return;
            }
        };
        if member.is_dir() {
            return;
        }
        let Some(member_name) = member_name(member.name_raw()) else {
            v.problem(
                name,
                format!("member #{i} has an unusable name; skipped"),
                false,
            );
            return;
        };
        let full = format!("{name}!{member_name}");
        v.member();
        // The sizes the central directory claims: a quick skip of an announced bomb. The guard
        // below does not trust them.
        let (size, claimed) = (member.size(), member.compressed_size());
        if size > RATIO_GRACE && size / claimed.max(1) > self.limits.max_ratio {
            v.problem(
                &full,
                format!(
                    "expands {}:1 ({} MiB), past the {}:1 limit for a compressed member; skipped as a possible zip bomb",
                    size / claimed.max(1),
                    size >> 20,
                    self.limits.max_ratio
                ),
                false,
            );
            return;
        }
        // Opening the member read its local header: count from its data on.
        compressed.store(0, Ordering::Relaxed);
        let mut guarded = self.guard(&mut member, compressed);
        if let Err(e) = self.visit_stream(&full, &mut guarded, depth + 1, false, v) {
            v.problem(&full, e.to_string(), !is_limit(&e));
        }
    }

    fn visit_tar<R: Read, V: Visitor>(
        &self,
        name: &str,
        reader: R,
        depth: usize,
        v: &mut V,
    ) -> io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries()? {
            // A broken entry header ends the archive: a tar stream cannot be resynchronised.
            let mut entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let raw = entry.path_bytes().into_owned();
            let Some(member_name) = member_name(&raw) else {
                v.problem(
                    name,
                    "a member has an unusable name; skipped".to_string(),
                    false,
                );
                continue;
            };
            let full = format!("{name}!{member_name}");
            v.member();
            if let Err(e) = self.visit_stream(&full, &mut entry, depth + 1, false, v) {
                if !is_limit(&e) && e.kind() == io::ErrorKind::UnexpectedEof {
                    return Err(e);
                }
                v.problem(&full, e.to_string(), !is_limit(&e));
            }
        }
        Ok(())
    }

    fn guard<R: Read>(&self, inner: R, compressed: Arc<AtomicU64>) -> Guard<R> {
        Guard {
            inner,
            out: 0,
            compressed,
            total: self.total.clone(),
            limits: self.limits.clone(),
        }
    }
}

/// Opens a file for reading without blocking on a FIFO.
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Ignored for regular files, which are the only ones read.
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Tells the visitor that a path that is not a regular file was skipped.
fn not_regular<V: Visitor>(meta: &std::fs::Metadata, name: &str, v: &mut V) {
    let kind = file_kind(&meta.file_type());
    let hint = if kind == "a FIFO" {
        " (to read a pipe, feed it on standard input)"
    } else {
        ""
    };
    v.problem(
        name,
        format!("not a regular file ({kind}); skipped{hint}"),
        false,
    );
}

fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else {
        "an unknown kind"
    }
}

/// Tells the visitor when a mapped file shrank while it was read.
fn shrank<V: Visitor>(map: &GuardedMap, name: &str, v: &mut V) {
    if map.changed() {
        v.problem(
            name,
            "the file shrank while it was read (truncated or rewritten): what was read up to then is reported; rerun once the file stops changing".into(),
            true,
        );
    }
}

fn limit(message: String) -> io::Error {
    io::Error::other(LimitExceeded(message))
}

/// A printable member name, or `None` for one that is absurd (too long, NUL bytes).
fn member_name(raw: &[u8]) -> Option<String> {
    if raw.is_empty() || raw.len() > MAX_NAME || raw.contains(&0) {
        return None;
    }
    let name = String::from_utf8_lossy(raw);
    Some(
        name.chars()
            .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
            .collect(),
    )
}

/// The rest of a stream after its head: the error that ended the head, if any, then the reader.
struct Tail<'a> {
    error: Option<io::Error>,
    /// `None` once the error was returned: the stream ends there.
    reader: Option<&'a mut dyn Read>,
}

impl Read for Tail<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.error.take() {
            self.reader = None;
            return Err(e);
        }
        match &mut self.reader {
            Some(r) => r.read(buf),
            None => Ok(0),
        }
    }
}

/// Tells a callback how many bytes are read through it (a named file's own bytes).
struct Reporting<'a, R> {
    inner: R,
    read: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Reporting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.read)(n as u64);
        Ok(n)
    }
}

/// Counts the bytes read through it (the compressed side of a decoder).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    fn new(inner: R) -> Counting<R> {
        Counting {
            inner,
            count: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Bytes taken from the shared budget of nested zips held in memory, given back when dropped.
struct Reservation<'a> {
    budget: &'a AtomicU64,
    bytes: u64,
}

impl Reservation<'_> {
    /// Takes `n` more bytes unless that would pass `max` over everything held; whether it did.
    fn add(&mut self, n: u64, max: u64) -> bool {
        let before = self.budget.fetch_add(n, Ordering::AcqRel);
        if before + n > max {
            self.budget.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        self.bytes += n;
        true
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Enforces the run's decompressed-size budget and a stream's compression ratio.
struct Guard<R> {
    inner: R,
    out: u64,
    compressed: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    limits: Limits,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        let total = self.total.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limits.max_total {
            return Err(limit(format!(
                "the run decompressed more than {} GiB; the rest is not read",
                self.limits.max_total >> 30
            )));
        }
        let compressed = self.compressed.load(Ordering::Relaxed).max(1);
        if self.out > RATIO_GRACE && self.out / compressed > self.limits.max_ratio {
            return Err(limit(format!(
                "expands more than {}:1; the rest is not read (a zip bomb?)",
                self.limits.max_ratio
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_magic() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8, 0]), Kind::Gzip);
        assert_eq!(sniff(b"PK\x03\x04rest"), Kind::Zip);
        let mut tar = vec![b'a'; 300];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(sniff(&tar), Kind::Tar);
        assert_eq!(sniff(b"text\x00binary"), Kind::Binary);
        assert_eq!(sniff(b"{\"level\":\"info\"}\n"), Kind::Text);
    }

    #[test]
    fn absurd_names_are_refused_and_controls_replaced() {
        assert_eq!(member_name(b"logs/a.log").as_deref(), Some("logs/a.log"));
        assert_eq!(
            member_name(b"a\x1b[31m.log").as_deref(),
            Some("a\u{FFFD}[31m.log")
        );
        assert_eq!(member_name(b"a\x00b"), None);
        assert_eq!(member_name(&[b'a'; 2000]), None);
    }

    /// Collects what a bundle holds, for tests.
    #[derive(Default)]
    struct Seen {
        contents: Vec<(String, Vec<u8>)>,
        problems: Vec<(String, String, bool)>,
    }

    impl Visitor for Seen {
        fn content(&mut self, name: &str, content: Content<'_>) -> io::Result<()> {
            let mut bytes = Vec::new();
            let read = match content {
                Content::File(b) | Content::Static(b) => {
                    bytes.extend_from_slice(b);
                    Ok(())
                }
                Content::Stream(r) => r.read_to_end(&mut bytes).map(|_| ()),
            };
            self.contents.push((name.to_string(), bytes));
            read
        }
        fn problem(&mut self, name: &str, message: String, error: bool) {
            self.problems.push((name.to_string(), message, error));
        }
        fn binary(&mut self, _name: &str) {}
        fn member(&mut self) {}
        fn fork(&self) -> Self {
            Seen::default()
        }
        fn join(&mut self, mut forked: Self) {
            self.contents.append(&mut forked.contents);
            self.problems.append(&mut forked.problems);
        }
    }

    fn stored_zip(members: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in members {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn nested_zips_held_in_memory_share_one_budget() {
        let log = b"all quiet\n".repeat(60_000); // 600 KB
        let inner = stored_zip(&[("agent.log", &log)]);
        let mid = stored_zip(&[("mid.log", b"mid\n"), ("inner.zip", &inner)]);
        let outer = stored_zip(&[("mid.zip", &mid)]);
        let dir = tempfile::tempdir().unwrap();
        let (outer_path, mid_path) = (dir.path().join("outer.zip"), dir.path().join("mid.zip"));
        std::fs::write(&outer_path, &outer).unwrap();
        std::fs::write(&mid_path, &mid).unwrap();
        let limits = Limits {
            max_buffered: 1 << 20,
            ..Limits::default()
        };
        let opener = Opener::new(limits, false);
        // mid.zip (600 KB) and inner.zip (600 KB) are each under 1 MiB, not together.
        let mut seen = Seen::default();
        opener.visit_file(&outer_path, "outer.zip", &mut seen);
        let names: Vec<&str> = seen.contents.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["outer.zip!mid.zip!mid.log"]);
        assert_eq!(seen.problems.len(), 1, "{:?}", seen.problems);
        let (name, message, error) = &seen.problems[0];
        assert_eq!(name, "outer.zip!mid.zip!inner.zip");
        assert!(
            message.contains("nested zips open at once would hold more than 1 MiB"),
            "{message}"
        );
        assert!(!error);
        assert_eq!(opener.buffered.load(Ordering::Relaxed), 0, "all given back");
        // mid.zip as a file is mapped, not held: inner.zip alone fits.
        let mut seen = Seen::default();
        opener.visit_file(&mid_path, "mid.zip", &mut seen);
        assert!(seen.problems.is_empty(), "{:?}", seen.problems);
        assert_eq!(seen.contents[1].0, "mid.zip!inner.zip!agent.log");
        assert_eq!(seen.contents[1].1, log);
    }

    #[test]
    fn what_is_read_of_a_file_is_reported_for_every_kind() {
        use std::io::Write;
        let log = b"2025-10-14T09:15:00Z info all quiet\n".repeat(20_000);
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&log).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(log.len() as u64);
        header.set_cksum();
        tar.append_data(&mut header, "agent.log", &log[..]).unwrap();
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(log.iter().flat_map(|&b| [b, 0]));
        let kinds: [(&str, Vec<u8>); 5] = [
            ("agent.log", log.clone()),
            ("agent.log.gz", gz.finish().unwrap()),
            ("bundle.zip", stored_zip(&[("agent.log", &log)])),
            ("bundle.tar", tar.into_inner().unwrap()),
            ("utf16.log", utf16),
        ];
        let opener = Opener::new(Limits::default(), false);
        for (name, bytes) in kinds {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let read = AtomicU64::new(0);
            let mut seen = Seen::default();
            opener.visit_file_reporting(&path, name, &mut seen, &|n| {
                read.fetch_add(n, Ordering::Relaxed);
            });
            assert!(seen.problems.is_empty(), "{name}: {:?}", seen.problems);
            assert_eq!(seen.contents.len(), 1, "{name}");
            let read = read.load(Ordering::Relaxed);
            if name == "agent.log" {
                // A plain file is handed over whole; its reader counts it as it scans.
                assert_eq!(read, 0);
            } else if name == "bundle.tar" {
                // A tar reader stops at the end-of-archive blocks, not at the file's end.
                assert!(
                    read > log.len() as u64 && read <= bytes.len() as u64,
                    "{read}"
                );
            } else {
                assert_eq!(read, bytes.len() as u64, "{name}");
            }
        }
    }

    #[test]
    fn guard_stops_a_stream_that_expands_too_much() {
        let data = vec![b'a'; (RATIO_GRACE + (1 << 20)) as usize];
        let opener = Opener::new(Limits::default(), false);
        let compressed = Arc::new(AtomicU64::new(1000));
        let mut g = opener.guard(&data[..], compressed);
        let err = io::copy(&mut g, &mut io::sink()).unwrap_err();
        assert!(is_limit(&err), "{err}");
    }
}
