//! UTF-16 text made UTF-8 as it is read: what Windows PowerShell 5.1's `>` writes (UTF-16LE with a
//! byte-order mark). [`Utf16Reader`] decodes code units in order, carries an odd byte or a high
//! surrogate over to the next read, drops the byte-order mark, and turns what is not valid UTF-16
//! into U+FFFD, so the rest of the pipeline sees ordinary UTF-8 lines.

use std::io::{self, Read};

/// Whether `head` starts with a UTF-16 byte-order mark: `Some(true)` little-endian,
/// `Some(false)` big-endian.
pub fn bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] => Some(true),
        [0xFE, 0xFF, ..] => Some(false),
        _ => None,
    }
}

/// Reads UTF-16 from `inner` and hands out UTF-8.
pub struct Utf16Reader<R> {
    inner: R,
    little_endian: bool,
    /// Bytes read but not decoded yet: an odd byte, or a high surrogate waiting for its pair.
    carry: Vec<u8>,
    out: Vec<u8>,
    at: usize,
    started: bool,
    eof: bool,
}

impl<R: Read> Utf16Reader<R> {
    /// A reader of UTF-16 in the given byte order (a byte-order mark at the start is dropped).
    pub fn new(inner: R, little_endian: bool) -> Self {
        Utf16Reader {
            inner,
            little_endian,
            carry: Vec::new(),
            out: Vec::new(),
            at: 0,
            started: false,
            eof: false,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut buf = vec![0u8; 64 << 10];
        let n = self.inner.read(&mut buf)?;
        self.out.clear();
        self.at = 0;
        if n == 0 {
            self.eof = true;
            if !self.carry.is_empty() {
                // An odd last byte, or a high surrogate without its pair.
                self.carry.clear();
                self.out.extend_from_slice("\u{FFFD}".as_bytes());
            }
            return Ok(());
        }
        let mut bytes = std::mem::take(&mut self.carry);
        bytes.extend_from_slice(&buf[..n]);
        let whole = bytes.len() / 2 * 2;
        let mut units: Vec<u16> = bytes[..whole]
            .chunks_exact(2)
            .map(|p| {
                if self.little_endian {
                    u16::from_le_bytes([p[0], p[1]])
                } else {
                    u16::from_be_bytes([p[0], p[1]])
                }
            })
            .collect();
        self.carry.extend_from_slice(&bytes[whole..]);
        // A high surrogate at the end waits for the low one in the next read.
        if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            let last = units.pop().expect("a last unit");
            let b = if self.little_endian {
                last.to_le_bytes()
            } else {
                last.to_be_bytes()
            };
            let odd = std::mem::take(&mut self.carry);
            self.carry.extend_from_slice(&b);
            self.carry.extend_from_slice(&odd);
        }
        let mut start = 0;
        if !self.started && !units.is_empty() {
            self.started = true;
            if units[0] == 0xFEFF {
                start = 1;
            }
        }
        let mut text = String::with_capacity(units.len());
        for c in char::decode_utf16(units[start..].iter().copied()) {
            text.push(c.unwrap_or('\u{FFFD}'));
        }
        self.out.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.out.len() {
                let n = buf.len().min(self.out.len() - self.at);
                buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.eof {
                return Ok(0);
            }
            self.fill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(s: &str, le: bool) -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in s.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    /// Reads through a reader that hands out `step` bytes at a time.
    fn decode(bytes: &[u8], le: bool, step: usize) -> String {
        struct Steps<'a>(&'a [u8], usize);
        impl Read for Steps<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(out.len()).min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut s = String::new();
        Utf16Reader::new(Steps(bytes, step), le)
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn both_byte_orders_in_any_steps_give_the_text() {
        let text =
            "dial tcp 10.0.0.5:9200: connect: connection refused — ünïcödé 🚀\r\nnext line\n";
        for le in [true, false] {
            let bytes = encode(text, le);
            assert_eq!(bom(&bytes), Some(le));
            for step in [1, 2, 3, 5, 64, bytes.len()] {
                assert_eq!(decode(&bytes, le, step), text, "le {le}, step {step}");
            }
        }
    }

    #[test]
    fn broken_utf16_becomes_replacement_characters() {
        // A lone low surrogate, then an odd last byte.
        let mut bytes = vec![0xFF, 0xFE, b'a', 0, 0x00, 0xDC, b'b', 0];
        bytes.push(b'c');
        assert_eq!(decode(&bytes, true, 1), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(bom(b"plain"), None);
    }
}
