//! Standard input, read on a thread of its own into a bounded channel. The reader the scanner sees
//! reports `WouldBlock` when it has handed out everything that has arrived so far (so the scanner
//! scans it now rather than waiting for a full block), `TimedOut` after every [`TICK`] in which
//! no data came (so live output can be shown while `docker logs -f` is open), and ends the stream
//! when the user presses Ctrl-C, so the summary of what was read is still printed.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

/// How often a quiet reader reports that nothing came (`TimedOut`).
pub const TICK: Duration = Duration::from_millis(50);
const BLOCK: usize = 1 << 20;

/// Reads standard input through a thread.
pub struct StdinReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    pending: Vec<u8>,
    at: usize,
    interrupted: Arc<AtomicBool>,
    /// Consumed buffers go back to the reading thread.
    free_tx: Sender<Vec<u8>>,
    /// `WouldBlock` was returned since the last data: the next read waits.
    drained_reported: bool,
    done: bool,
}

impl StdinReader {
    /// Starts the reading thread. `interrupted` ends the stream when set.
    pub fn spawn(interrupted: Arc<AtomicBool>) -> StdinReader {
        // Four blocks in flight at most: memory stays bounded whatever the input size. Read
        // buffers come back through `free` to be reused, rather than allocated and zeroed anew.
        let (tx, rx) = sync_channel(4);
        let (free_tx, free) = channel::<Vec<u8>>();
        grow_pipe();
        std::thread::spawn(move || {
            let mut stdin = io::stdin().lock();
            loop {
                let mut buf = free.try_recv().unwrap_or_else(|_| vec![0u8; BLOCK]);
                buf.resize(BLOCK, 0);
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        // The length says how much was read; the capacity stays for reuse.
                        buf.truncate(n);
                        if tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        StdinReader {
            rx,
            free_tx,
            pending: Vec::new(),
            at: 0,
            interrupted,
            drained_reported: false,
            done: false,
        }
    }
}

impl StdinReader {
    /// Takes what the reading thread sent: a block becomes the pending data (the consumed buffer
    /// goes back for reuse, and the input is no longer quiet); a read error ends the stream and is
    /// returned.
    fn receive(&mut self, message: io::Result<Vec<u8>>) -> Option<io::Result<usize>> {
        match message {
            Ok(buf) => {
                let used = std::mem::replace(&mut self.pending, buf);
                self.at = 0;
                if used.capacity() > 0 {
                    let _ = self.free_tx.send(used);
                }
                self.drained_reported = false;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// The reading thread is gone: the stream has ended.
    fn end(&mut self) -> io::Result<usize> {
        self.done = true;
        Ok(0)
    }
}

impl Read for StdinReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.at < self.pending.len() {
                let n = out.len().min(self.pending.len() - self.at);
                out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
                self.at += n;
                return Ok(n);
            }
            if self.done || self.interrupted.load(Ordering::Relaxed) {
                return Ok(0);
            }
            if !self.drained_reported {
                match self.rx.try_recv() {
                    Ok(message) => {
                        if let Some(end) = self.receive(message) {
                            return end;
                        }
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => return self.end(),
                    Err(TryRecvError::Empty) => {
                        self.drained_reported = true;
                        return Err(io::Error::new(
                            io::ErrorKind::WouldBlock,
                            "no more input yet",
                        ));
                    }
                }
            }
            match self.rx.recv_timeout(TICK) {
                Ok(message) => {
                    if let Some(end) = self.receive(message) {
                        return end;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return self.end(),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "stdin is quiet"));
                }
            }
        }
    }
}

/// Asks for a 1 MiB pipe buffer when standard input is a pipe: a writer as fast as `cat` then
/// needs a sixteenth of the system calls, and the pipe stops being the bottleneck.
#[cfg(target_os = "linux")]
fn grow_pipe() {
    // SAFETY: fcntl on file descriptor 0 with F_SETPIPE_SZ only resizes the kernel's pipe buffer;
    // it fails harmlessly (EBADF, EPERM, EINVAL) when stdin is not a pipe or the size is refused.
    unsafe {
        libc::fcntl(0, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

#[cfg(not(target_os = "linux"))]
fn grow_pipe() {}
