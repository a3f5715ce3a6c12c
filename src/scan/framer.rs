//! Framing: where blocks of complete lines begin and end. A [`Framer`] is fed the bytes of a
//! stream as they come (it owns the buffer they are read into) and hands out blocks that end
//! after a newline and never cut a split line (CRI `P` parts, Docker's 16 KiB pieces: which raw
//! line continues the next is asked of [`crate::record`]) between two blocks. It carries the
//! partial last line over, caps a line at [`MAX_LINE`] (a longer one is handed out in pieces,
//! each ended where it can be masked on its own: `mask::piece_end`), and keeps a [`Position`] —
//! the byte offset and line number of the first byte not yet handed out — that a checkpoint can
//! store and [`Framer::resume`] continue from. [`Framer::reset`] starts over (the file was
//! truncated or replaced). [`chunk_bounds`] applies the same boundaries to a buffer that is all
//! there (a mapped file), to split it across threads.

use memchr::{memchr, memrchr};
use serde::{Deserialize, Serialize};

use super::MAX_PARTS;
use crate::record;

/// The longest line kept whole; a longer line is handed out in pieces of at most this size.
pub const MAX_LINE: usize = 16 << 20;

/// The first buffer of a framer; it doubles as the stream needs.
const FIRST_BUFFER: usize = 64 << 10;

/// Where a stream stands: the byte offset and the 1-based line number of the first byte not yet
/// handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Bytes handed out before it.
    pub offset: u64,
    /// Its line number.
    pub line: u64,
}

impl Default for Position {
    fn default() -> Position {
        Position { offset: 0, line: 1 }
    }
}

/// A block of complete lines (or, for a line longer than [`MAX_LINE`], a piece of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Its length: the first `len` bytes of [`Framer::buffered`].
    pub len: usize,
    /// Where it starts.
    pub at: Position,
    /// A piece of a line longer than [`MAX_LINE`]: the line goes on in the next block.
    pub piece: bool,
}

/// Cuts a stream into blocks of complete lines. See the module documentation.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    len: usize,
    at: Position,
    /// The smallest buffer: how much is read before a block is due (unless the input pauses).
    block: usize,
    /// The last block handed out ended without a newline (at the end of input, or a piece).
    unterminated: bool,
}

impl Framer {
    /// A framer at the start of a stream, reading in blocks of `block` bytes.
    pub fn new(block: usize) -> Framer {
        Framer::resume(block, Position::default())
    }

    /// A framer continuing a stream from a checkpoint's position.
    pub fn resume(block: usize, at: Position) -> Framer {
        let block = block.clamp(1, MAX_LINE);
        Framer {
            buf: Vec::new(),
            len: 0,
            at,
            block,
            unterminated: false,
        }
    }

    /// The position of the first byte not yet handed out: what a checkpoint stores.
    pub fn position(&self) -> Position {
        self.at
    }

    /// Lines handed out so far, a last line without a newline (or one handed out in pieces)
    /// included.
    pub fn lines(&self) -> u64 {
        self.at.line - 1 + u64::from(self.unterminated)
    }

    /// Bytes held that are not handed out yet.
    pub fn pending(&self) -> usize {
        self.len
    }

    /// The bytes held: a block handed out is their first [`Block::len`] bytes.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Room to read into (at least one byte; more once a held line outgrows the buffer, up to
    /// [`MAX_LINE`]). Say how much was read with [`Framer::filled`].
    pub fn spare(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            // Small first: a stream of a few lines (one of 100 000 archive members) should not
            // pay for zeroing a whole block.
            self.buf.resize(FIRST_BUFFER.min(self.block), 0);
        }
        if self.len == self.buf.len() && self.buf.len() < MAX_LINE {
            // Full: grow towards the block size, or beyond it for a line longer than that.
            let grown = (self.buf.len() * 2).min(MAX_LINE);
            self.buf.resize(grown, 0);
        }
        &mut self.buf[self.len..]
    }

    /// `n` bytes were read into [`Framer::spare`].
    pub fn filled(&mut self, n: usize) {
        self.len += n;
        debug_assert!(self.len <= self.buf.len());
    }

    /// Copies bytes in and hands out every block that is due, as copies (the tests' way of
    /// feeding a framer).
    #[cfg(test)]
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let room = self.spare();
            let n = room.len().min(bytes.len());
            room[..n].copy_from_slice(&bytes[..n]);
            self.filled(n);
            bytes = &bytes[n..];
            while let Some(b) = self.take(false) {
                let newlines = bytecount::count(&self.buffered()[..b.len], b'\n') as u64;
                out.push(self.buffered()[..b.len].to_vec());
                self.advance(b, newlines);
            }
        }
        out
    }

    /// The next block to scan, if one is due: every complete line held (never ending inside a
    /// split line), or at the end of input (`eof`) everything held; a piece of a line when one
    /// line fills [`MAX_LINE`]. Scan `buffered()[..len]`, then call [`Framer::advance`].
    pub fn take(&mut self, eof: bool) -> Option<Block> {
        if self.len == 0 {
            return None;
        }
        let held = &self.buf[..self.len];
        let cut = if eof {
            self.len
        } else {
            match memrchr(b'\n', held) {
                Some(nl) => end_before_parts(held, nl + 1),
                None => 0,
            }
        };
        if cut > 0 {
            return Some(Block {
                len: cut,
                at: self.at,
                piece: false,
            });
        }
        if self.len >= MAX_LINE {
            // Ended where masking each piece alone still finds every secret whole.
            return Some(Block {
                len: crate::mask::piece_end(held),
                at: self.at,
                piece: true,
            });
        }
        None
    }

    /// The block was scanned; it held `newlines` newlines (the scanner counts them).
    pub fn advance(&mut self, block: Block, newlines: u64) {
        debug_assert_eq!(block.at, self.at);
        debug_assert!(block.len <= self.len);
        self.unterminated = block.len > 0 && self.buf[block.len - 1] != b'\n';
        self.buf.copy_within(block.len..self.len, 0);
        self.len -= block.len;
        self.at.offset += block.len as u64;
        self.at.line += newlines;
        if self.buf.len() > self.block && self.len < self.block {
            self.buf.truncate(self.block);
            self.buf.shrink_to(self.block);
        }
    }

    /// Starts over at the beginning of a new stream (the file was truncated or replaced): what is
    /// held is dropped.
    pub fn reset(&mut self) {
        self.len = 0;
        self.at = Position::default();
        self.unterminated = false;
    }
}

/// Whether the line ending just before `end` (which follows a newline) may be a part of a split
/// line whose line continues in the next one.
fn ends_in_part(buf: &[u8], end: usize) -> bool {
    if end < 2 {
        return false;
    }
    let line_end = end - 1;
    let line_start = memrchr(b'\n', &buf[..line_end]).map_or(0, |i| i + 1);
    let line = &buf[line_start..line_end];
    record::may_continue(line.strip_suffix(b"\r").unwrap_or(line))
}

/// Moves a block end (just after a newline) back before any trailing parts of a split line, so
/// the line is scanned whole in the next block (0 when the block holds nothing else yet).
fn end_before_parts(buf: &[u8], end: usize) -> usize {
    let mut e = end;
    for _ in 0..MAX_PARTS {
        if e == 0 || !ends_in_part(buf, e) {
            return e;
        }
        e = memrchr(b'\n', &buf[..e - 1]).map_or(0, |i| i + 1);
    }
    end
}

/// Splits a buffer that is all there into ranges of about `chunk` bytes, each ending just after a
/// newline (the last at the end of the buffer) and never between the parts of a split line.
pub fn chunk_bounds(buf: &[u8], chunk: usize) -> Vec<(usize, usize)> {
    let chunk = chunk.max(1);
    let mut bounds = Vec::with_capacity(buf.len() / chunk + 1);
    let mut start = 0;
    while start < buf.len() {
        let target = start.saturating_add(chunk);
        if target >= buf.len() {
            bounds.push((start, buf.len()));
            break;
        }
        let from = target - 1;
        let mut end = memchr(b'\n', &buf[from..]).map_or(buf.len(), |i| from + i + 1);
        let mut parts = 0;
        while end < buf.len() && parts < MAX_PARTS && ends_in_part(buf, end) {
            end = memchr(b'\n', &buf[end..]).map_or(buf.len(), |i| end + i + 1);
            parts += 1;
        }
        bounds.push((start, end));
        start = end;
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of every shape the framer must keep whole: plain, CRI parts, Docker pieces, compose
    /// around CRI parts, CRLF, an empty line, and no final newline.
    fn input() -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..30 {
            v.extend_from_slice(format!("plain line {i}\n").as_bytes());
            v.extend_from_slice(b"2025-10-14T09:15:05Z stderr P first part ");
            v.extend_from_slice(format!("{i}\n").as_bytes());
            v.extend_from_slice(b"2025-10-14T09:15:05Z stderr P second part\n");
            v.extend_from_slice(b"2025-10-14T09:15:05Z stderr F last part\n");
            v.extend_from_slice(br#"{"log":"piece one ","stream":"stderr"}"#);
            v.push(b'\n');
            v.extend_from_slice(br#"{"log":"piece two\n","stream":"stderr"}"#);
            v.push(b'\n');
            v.extend_from_slice(b"agent-1  | 2025-10-14T09:15:05Z stderr P compose half\n");
            v.extend_from_slice(b"agent-1  | 2025-10-14T09:15:05Z stderr F compose rest\r\n");
            v.push(b'\n');
        }
        v.extend_from_slice(b"the end, unterminated");
        v
    }

    /// Feeds `input` in pieces of the given sizes (cycled) and collects the blocks, then the
    /// rest at the end of input; returns the blocks and the framer.
    fn frame(input: &[u8], sizes: &[usize], block: usize) -> (Vec<Vec<u8>>, Framer) {
        let mut f = Framer::new(block);
        let mut out = Vec::new();
        let mut rest = input;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            i += 1;
            out.extend(f.push(&rest[..n]));
            rest = &rest[n..];
        }
        if let Some(b) = f.take(true) {
            let newlines = bytecount::count(&f.buffered()[..b.len], b'\n') as u64;
            out.push(f.buffered()[..b.len].to_vec());
            f.advance(b, newlines);
        }
        (out, f)
    }

    /// The complete lines of the blocks, and a check that no block ends inside a split line.
    fn check_blocks(blocks: &[Vec<u8>]) {
        for b in &blocks[..blocks.len().saturating_sub(1)] {
            assert!(b.ends_with(b"\n"), "{:?}", String::from_utf8_lossy(b));
            let last = b[..b.len() - 1]
                .rsplit(|&c| c == b'\n')
                .next()
                .unwrap_or_default();
            let last = last.strip_suffix(b"\r").unwrap_or(last);
            assert!(
                !record::may_continue(last),
                "a block ends inside a split line: {:?}",
                String::from_utf8_lossy(last)
            );
        }
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_bytes_and_lines() {
        let input = input();
        let lines = bytecount::count(&input, b'\n') as u64 + 1;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut splits: Vec<Vec<usize>> = vec![vec![1], vec![2], vec![7], vec![input.len()]];
        for _ in 0..40 {
            let mut sizes = Vec::new();
            for _ in 0..16 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                sizes.push((seed % 300) as usize + 1);
            }
            splits.push(sizes);
        }
        for sizes in &splits {
            for block in [1, 64, 4096] {
                let (blocks, f) = frame(&input, sizes, block);
                assert_eq!(blocks.concat(), input, "sizes {sizes:?}, block {block}");
                check_blocks(&blocks);
                assert_eq!(f.lines(), lines);
                assert_eq!(f.position().offset, input.len() as u64);
                assert_eq!(f.pending(), 0);
            }
        }
    }

    #[test]
    fn a_framer_resumed_from_a_checkpoint_continues_exactly() {
        let input = input();
        for cut in [0, 1, 40, 333, 1000, input.len() / 2, input.len() - 3] {
            // Run to `cut`, keep the position, drop the framer (what was held but not handed out
            // is read again from the checkpoint's offset).
            let mut first = Framer::new(64);
            let blocks = first.push(&input[..cut]);
            let at = first.position();
            let handed: usize = blocks.iter().map(Vec::len).sum();
            assert_eq!(at.offset, handed as u64);
            assert_eq!(
                at.line,
                1 + bytecount::count(&input[..handed], b'\n') as u64
            );
            let mut second = Framer::resume(64, at);
            let (rest, done) = {
                let mut out = second.push(&input[at.offset as usize..]);
                let b = second.take(true).expect("the unterminated last line");
                let n = bytecount::count(&second.buffered()[..b.len], b'\n') as u64;
                out.push(second.buffered()[..b.len].to_vec());
                second.advance(b, n);
                (out, second)
            };
            assert_eq!([blocks, rest].concat().concat(), input, "cut {cut}");
            assert_eq!(done.lines(), bytecount::count(&input, b'\n') as u64 + 1);
        }
    }

    #[test]
    fn a_line_longer_than_max_line_comes_in_pieces_on_one_line_number() {
        let mut input = vec![b'x'; MAX_LINE + MAX_LINE / 2];
        input.extend_from_slice(b"\nnext\n");
        let (blocks, f) = frame(&input, &[1 << 20], 1 << 20);
        assert_eq!(blocks.concat(), input);
        assert_eq!(blocks[0].len(), MAX_LINE);
        assert_eq!(f.lines(), 2);
    }

    #[test]
    fn a_line_longer_than_max_line_is_cut_between_words() {
        let mut input = b"word ".repeat(MAX_LINE / 5 + 1000);
        input.extend_from_slice(b"\nnext\n");
        let (blocks, f) = frame(&input, &[1 << 20], 1 << 20);
        assert_eq!(blocks.concat(), input);
        // The piece ends after the last whole word it holds.
        assert_eq!(blocks[0].len(), MAX_LINE - MAX_LINE % 5);
        assert!(blocks[0].ends_with(b" "));
        assert_eq!(f.lines(), 2);
    }

    #[test]
    fn reset_starts_over() {
        let mut f = Framer::new(64);
        f.push(b"one\ntwo\nthr");
        assert_eq!(f.position(), Position { offset: 8, line: 3 });
        assert_eq!(f.pending(), 3);
        f.reset();
        assert_eq!(f.position(), Position::default());
        assert_eq!(f.pending(), 0);
        assert_eq!(f.push(b"new\n"), vec![b"new\n".to_vec()]);
        assert_eq!(f.position(), Position { offset: 4, line: 2 });
    }

    #[test]
    fn chunks_end_after_newlines_and_cover_the_buffer() {
        let buf = b"aaaa\nbb\ncccccc\nd";
        let b = chunk_bounds(buf, 3);
        assert_eq!(b, vec![(0, 5), (5, 8), (8, 15), (15, 16)]);
        assert_eq!(chunk_bounds(b"", 3), vec![]);
        assert_eq!(chunk_bounds(b"abc\n", 100), vec![(0, 4)]);
        let input = input();
        for size in [1, 10, 100, 1000] {
            let bounds = chunk_bounds(&input, size);
            let blocks: Vec<Vec<u8>> = bounds.iter().map(|&(s, e)| input[s..e].to_vec()).collect();
            assert_eq!(blocks.concat(), input);
            check_blocks(&blocks);
        }
    }
}
