//! Guarded memory maps: a file mapped for a batch scan that survives being truncated under it.
//!
//! Reading a page of a shared file mapping past the file's current end raises SIGBUS, which kills
//! the process. A [`GuardedMap`] registers its address range in a small fixed-size table read by
//! a process-wide SIGBUS handler (installed once). When a fault hits a registered range, the
//! handler maps anonymous zero pages over the rest of that range, from the faulting page on,
//! marks the map as [changed](GuardedMap::changed) and returns: the interrupted read resumes and
//! sees NUL bytes, which no rule matches, and the caller reports that the file shrank. A fault
//! anywhere else is passed on to the handler that was there before (Rust's own stack-overflow
//! handler, say) or to the default action, so a real bug still crashes.
//!
//! Only Linux is guarded; elsewhere [`GuardedMap::map`] declines and the caller reads the file.

use std::fs::File;
use std::io;
use std::ops::Deref;

/// A read-only map of a whole file that a truncation cannot turn into a crash.
pub struct GuardedMap {
    map: memmap2::Mmap,
    /// The registry slot of the map's range; `None` for an empty map (nothing is mapped).
    slot: Option<usize>,
}

impl GuardedMap {
    /// Maps `file` (pre-faulted when `populate`). `Ok(None)` when the map cannot be guarded (the
    /// registry is full, the handler could not be installed, not Linux): read the file instead.
    pub fn map(file: &File, populate: bool) -> io::Result<Option<GuardedMap>> {
        if !imp::install() {
            return Ok(None);
        }
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        // SAFETY: the map is only read. Another process may truncate or rewrite the file while it
        // is mapped: a read past the new end raises SIGBUS, which the handler turns into zero
        // pages once the range is registered below. The only window is between the mmap call and
        // the registration, and nothing reads the map there. The bytes seen may change under the
        // reader (a file rewritten in place): that gives a wrong report of a file that was being
        // changed, never undefined behaviour beyond what reading a changing file gives, and the
        // report then says the file changed.
        let map = unsafe { options.map(file) }?;
        if map.is_empty() {
            return Ok(Some(GuardedMap { map, slot: None }));
        }
        match imp::register(map.as_ptr() as usize, map.len()) {
            Some(slot) => Ok(Some(GuardedMap {
                map,
                slot: Some(slot),
            })),
            None => Ok(None),
        }
    }

    /// Whether a read of this map faulted past the file's end: the file shrank while it was
    /// read, and the bytes from the fault on read as zeros.
    pub fn changed(&self) -> bool {
        self.slot.is_some_and(imp::changed)
    }
}

impl Deref for GuardedMap {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for GuardedMap {
    fn drop(&mut self) {
        // Unregistered before `map` is unmapped (fields drop after this body): the handler never
        // writes over an address range that may be reused by another mapping.
        if let Some(slot) = self.slot {
            imp::unregister(slot);
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::cell::UnsafeCell;
    use std::mem::MaybeUninit;
    use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
    use std::sync::Once;

    /// How many maps can be live at once (one per file being read; threads steal work while
    /// they wait, so a few per thread). Past that, files are read instead.
    const SLOTS: usize = 256;

    /// One registered range. `seq` is a sequence lock: odd while the owner writes `start`/`end`,
    /// so the handler, which cannot wait, skips a slot that changes under it.
    struct Slot {
        /// Taken by a live map (claimed with a compare-exchange; only the owner writes the rest).
        taken: AtomicBool,
        seq: AtomicUsize,
        start: AtomicUsize,
        end: AtomicUsize,
        changed: AtomicBool,
    }

    #[allow(clippy::declare_interior_mutable_const)]
    const FREE: Slot = Slot {
        taken: AtomicBool::new(false),
        seq: AtomicUsize::new(0),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        changed: AtomicBool::new(false),
    };

    static SLOTS_TABLE: [Slot; SLOTS] = [FREE; SLOTS];
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    static INSTALL: Once = Once::new();
    static INSTALLED: AtomicBool = AtomicBool::new(false);

    /// The SIGBUS disposition found when ours was installed, to pass foreign faults on to.
    struct Previous(UnsafeCell<MaybeUninit<libc::sigaction>>);
    // SAFETY: written once inside `INSTALL` before our handler is installed (the sigaction call
    // orders it before any delivery), only read afterwards.
    unsafe impl Sync for Previous {}
    static PREVIOUS: Previous = Previous(UnsafeCell::new(MaybeUninit::uninit()));

    /// Installs the handler once; whether it is in place.
    pub fn install() -> bool {
        INSTALL.call_once(|| {
            // SAFETY: sysconf and sigaction with valid pointers; PREVIOUS is written here only,
            // before the handler that reads it can run.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if page <= 0 {
                    return;
                }
                PAGE.store(page as usize, Ordering::Relaxed);
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                // The previous disposition is read first, so it is in place before any SIGBUS
                // can reach our handler.
                let previous = (*PREVIOUS.0.get()).as_mut_ptr();
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), previous) == 0
                    && libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
                {
                    INSTALLED.store(true, Ordering::Release);
                }
            }
        });
        INSTALLED.load(Ordering::Acquire)
    }

    /// Registers `[start, start + len)`; the slot, or `None` when all are taken.
    pub fn register(start: usize, len: usize) -> Option<usize> {
        let page = PAGE.load(Ordering::Relaxed);
        let end = (start + len).div_ceil(page) * page;
        for (i, slot) in SLOTS_TABLE.iter().enumerate() {
            if slot
                .taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                write(slot, start, end);
                return Some(i);
            }
        }
        None
    }

    /// Frees a slot: the handler no longer matches its range.
    pub fn unregister(i: usize) {
        let slot = &SLOTS_TABLE[i];
        write(slot, 0, 0);
        slot.taken.store(false, Ordering::Release);
    }

    pub fn changed(i: usize) -> bool {
        SLOTS_TABLE[i].changed.load(Ordering::Acquire)
    }

    fn write(slot: &Slot, start: usize, end: usize) {
        let seq = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        slot.changed.store(false, Ordering::Relaxed);
        slot.start.store(start, Ordering::Relaxed);
        slot.end.store(end, Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The slot whose live range holds `addr`. Lock-free: only atomic loads.
    fn find(addr: usize) -> Option<&'static Slot> {
        SLOTS_TABLE.iter().find(|slot| {
            let before = slot.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                return false;
            }
            let (start, end) = (
                slot.start.load(Ordering::Relaxed),
                slot.end.load(Ordering::Relaxed),
            );
            fence(Ordering::Acquire);
            before == slot.seq.load(Ordering::Relaxed) && start <= addr && addr < end
        })
    }

    /// The SIGBUS handler.
    ///
    /// Async-signal safety: it reads atomics, calls mmap (a system call) and, for a fault that is
    /// not ours, sigaction/raise or the previous handler; it neither allocates nor locks. errno
    /// is saved and restored around it.
    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO handler; errno is this
        // thread's.
        unsafe {
            let errno = *libc::__errno_location();
            let addr = (*info).si_addr() as usize;
            let rescued = (*info).si_code > 0 && rescue(addr);
            *libc::__errno_location() = errno;
            if !rescued {
                pass_on(sig, info, ctx);
            }
        }
    }

    /// Maps zero pages over a registered range from the page of `addr` to its end.
    ///
    /// SAFETY (of the MAP_FIXED): `addr` faulted inside a registered range, so the range belongs
    /// to a live `GuardedMap` that is being read (it is unregistered before it is unmapped); the
    /// pages replaced are pages of that file map past the file's end, which cannot be read
    /// anyway. The whole rest of the range is replaced, not just one page, so a file truncated to
    /// nothing costs one fault per reading thread, not one per page.
    unsafe fn rescue(addr: usize) -> bool {
        let Some(slot) = find(addr) else {
            return false;
        };
        let page = PAGE.load(Ordering::Relaxed);
        let from = addr & !(page - 1);
        let end = slot.end.load(Ordering::Relaxed);
        if end <= from {
            return false;
        }
        let p = libc::mmap(
            from as *mut libc::c_void,
            end - from,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return false;
        }
        slot.changed.store(true, Ordering::Release);
        true
    }

    /// Hands a fault that is not ours to the previous disposition.
    unsafe fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        let previous = (*PREVIOUS.0.get()).assume_init_ref();
        let handler = previous.sa_sigaction;
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            // Back to the default action, then die of it: re-raised, the signal is delivered as
            // soon as this handler returns (a fault would also recur on the same instruction).
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigemptyset(&mut default.sa_mask);
            libc::sigaction(sig, &default, std::ptr::null_mut());
            libc::raise(sig);
        } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            f(sig);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub fn install() -> bool {
        false
    }
    pub fn register(_start: usize, _len: usize) -> Option<usize> {
        None
    }
    pub fn unregister(_i: usize) {}
    pub fn changed(_i: usize) -> bool {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    /// The tests that fill or count on the registry run one at a time.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn serial() -> std::sync::MutexGuard<'static, ()> {
        SERIAL.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[test]
    fn a_truncated_map_reads_zeros_and_says_so() {
        let _serial = serial();
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..5 * 4096 + 100).map(|i| b'a' + (i % 26) as u8).collect();
        file.write_all(&data).unwrap();
        let map = GuardedMap::map(&file, false)
            .unwrap()
            .expect("a guarded map");
        assert_eq!(&map[..], &data[..]);
        assert!(!map.changed());
        file.set_len(0).unwrap();
        // Every byte is read: past the new end they read as zeros instead of raising SIGBUS.
        let sum: u64 = map
            .iter()
            .map(|b| u64::from(unsafe { std::ptr::read_volatile(b) }))
            .sum();
        assert_eq!(sum, 0);
        assert_eq!(map.len(), data.len());
        assert!(map.changed());
        drop(map);
        // The slot is free again and a new map starts unmarked.
        file.write_all(&data).unwrap();
        let again = GuardedMap::map(&file, true).unwrap().unwrap();
        assert!(!again.changed());
    }

    #[test]
    fn a_partly_truncated_map_keeps_the_bytes_before_the_cut() {
        let _serial = serial();
        let mut file = tempfile::tempfile().unwrap();
        let data = vec![b'x'; 8 * 4096];
        file.write_all(&data).unwrap();
        let map = GuardedMap::map(&file, false).unwrap().unwrap();
        file.set_len(3 * 4096 + 10).unwrap();
        let v: Vec<u8> = map
            .iter()
            .map(|b| unsafe { std::ptr::read_volatile(b) })
            .collect();
        assert!(v[..3 * 4096 + 10].iter().all(|&b| b == b'x'));
        assert!(v[4 * 4096..].iter().all(|&b| b == 0));
        assert!(map.changed());
    }

    #[test]
    fn a_full_registry_declines_and_frees_its_slots() {
        let _serial = serial();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[b'y'; 4096]).unwrap();
        let mut maps = Vec::new();
        loop {
            match GuardedMap::map(&file, false).unwrap() {
                Some(map) => maps.push(map),
                None => break,
            }
            assert!(maps.len() <= 256, "the registry never fills");
        }
        // Other tests of this binary (bundle's) may hold a few slots at the same time.
        assert!(maps.len() > 200, "{} maps", maps.len());
        maps.clear();
        assert!(GuardedMap::map(&file, false).unwrap().is_some());
    }

    /// The child of the test below, in a process of its own: a fault in a map that is not
    /// guarded, with a guarded map live. Does nothing when run as an ordinary test.
    #[test]
    fn fault_outside_a_guarded_map() {
        if std::env::var_os("FAULTLINE_SIGBUS_CHILD").is_none() {
            return;
        }
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[b'z'; 4 * 4096]).unwrap();
        let guarded = GuardedMap::map(&file, false).unwrap().unwrap();
        // SAFETY: none; this test is meant to die of SIGBUS.
        let plain = unsafe { memmap2::Mmap::map(&file) }.unwrap();
        file.set_len(0).unwrap();
        let sum: u64 = plain
            .iter()
            .map(|b| u64::from(unsafe { std::ptr::read_volatile(b) }))
            .sum();
        println!("survived with {sum} {}", guarded.len());
    }

    #[test]
    fn a_fault_outside_a_guarded_map_still_kills() {
        use std::os::unix::process::ExitStatusExt;
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "source::mmap::tests::fault_outside_a_guarded_map",
                "--nocapture",
            ])
            .env("FAULTLINE_SIGBUS_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("running 1 test"), "{stdout}");
        assert!(!stdout.contains("survived"), "{stdout}");
        assert_eq!(out.status.signal(), Some(libc::SIGBUS), "{stdout}");
    }
}
