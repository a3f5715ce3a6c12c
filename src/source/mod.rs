//! Sources: where bytes come from. A path is opened as a memory map when it is a static regular
//! file (the policy lives in [`open_path`], with a plain-read fallback), or as a stream otherwise;
//! gzip is recognised by its magic bytes, not its name. Standard input is read on its own thread
//! (see [`stdin`]) so that a live pipe can be interrupted and can report when it goes idle.

pub mod stdin;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use memmap2::Mmap;

/// An opened input.
pub enum Opened {
    /// A static file, mapped.
    Mapped(Mmap),
    /// Bytes held in memory (a small file, or one that could not be mapped).
    Bytes(Vec<u8>),
    /// A stream to read in blocks (compressed input, pipes, devices).
    Stream(Box<dyn Read + Send>),
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Files smaller than this are read rather than mapped: a map costs more than it saves.
const MMAP_MIN: u64 = 64 * 1024;

/// Opens a path for scanning.
pub fn open_path(path: &Path) -> io::Result<Opened> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a directory (directories are not scanned yet; pass the log files inside it)",
        ));
    }
    if !meta.is_file() {
        // A FIFO or a device: stream it.
        return Ok(Opened::Stream(Box::new(file)));
    }
    if meta.len() < MMAP_MIN {
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        let mut file = file;
        file.read_to_end(&mut bytes)?;
        return Ok(wrap_bytes(bytes));
    }
    // SAFETY: the map is only read. A file changed or truncated by another process while mapped
    // can make the contents inconsistent or raise SIGBUS; batch scans read static files (logs that
    // are being written are followed with plain reads, never mapped), which is the same trade-off
    // ripgrep makes for explicitly named files.
    match unsafe { Mmap::map(&file) } {
        Ok(map) => {
            if map.starts_with(&GZIP_MAGIC) {
                let mut file = file;
                use std::io::Seek;
                file.seek(io::SeekFrom::Start(0))?;
                return Ok(Opened::Stream(gunzip(file)));
            }
            Ok(Opened::Mapped(map))
        }
        Err(_) => {
            let mut bytes = Vec::new();
            let mut file = file;
            file.read_to_end(&mut bytes)?;
            Ok(wrap_bytes(bytes))
        }
    }
}

fn wrap_bytes(bytes: Vec<u8>) -> Opened {
    if bytes.starts_with(&GZIP_MAGIC) {
        Opened::Stream(gunzip(io::Cursor::new(bytes)))
    } else {
        Opened::Bytes(bytes)
    }
}

fn gunzip<R: Read + Send + 'static>(r: R) -> Box<dyn Read + Send> {
    Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(
        256 * 1024,
        r,
    )))
}
