//! The log thread: qerrors' log lines are formatted and written here, off the JS thread.
//!
//! The JS side hands each entry over with one call that only queues it ([`LogThread::submit`]);
//! a dedicated thread formats handled errors' lines ([`line`]), appends them to the log files
//! through buffered writers (batches gathered for a millisecond, one `write` per 64 KiB buffer,
//! flushed whenever the queue is empty)
//! and rotates the files as lib/logging/rotatingFile.js does. The queue is bounded: when it
//! is full an entry is dropped and counted rather than waited for, so the event loop never
//! blocks on a slow disk. [`LogThread::flush`] waits until everything accepted before it is
//! on disk (the process is exiting or shutting down).

pub mod entry;
pub mod file;
pub mod frames;
pub mod line;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use entry::{ErrorEntry, KEEP_CAPACITY};
use file::{FileSpec, LogFile};
use line::Constants;

/// What the thread is asked to do, in order.
pub enum Job {
    /// A handled error: its line goes to every file, and to the errors-only file unless it
    /// is a warning.
    Error(Box<ErrorEntry>),
    /// Lines already formatted (joined by the platform's end of line) for one file.
    Lines { file: usize, text: String },
    /// Answered once everything queued before it is written and flushed.
    Flush(SyncSender<()>),
}

/// Counters of the thread, shared with the caller.
#[derive(Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub written: AtomicU64,
    pub dropped: AtomicU64,
    /// Lines not written because their file failed.
    pub failed: AtomicU64,
}

/// Where the thread writes and what every line shares.
pub struct Config {
    pub constants: Constants,
    /// The files, in the order `Job::Lines` indexes them.
    pub files: Vec<FileSpec>,
    /// Entries waiting at most; more are dropped and counted.
    pub queue: usize,
}

/// A running log thread. Dropping it ends the thread after it has written what it accepted.
pub struct LogThread {
    tx: Mutex<Option<SyncSender<Job>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
    pub counters: Arc<Counters>,
    /// Written entries, emptied, for the next ones to reuse (see [`LogThread::entry`]).
    spare: Arc<Mutex<Spare>>,
}

/// Entries kept for reuse. Boxed as `Job::Error` carries them (a small job in the queue),
/// so they move in and out of jobs without a new allocation.
#[allow(clippy::vec_box)]
type Spare = Vec<Box<ErrorEntry>>;

/// Written entries kept for reuse at most (with [`KEEP_CAPACITY`], 4 MiB at worst).
const SPARE_ENTRIES: usize = 256;

/// Text bytes a new entry starts with: a storm's entries (a stack of 10-40 frames) fit, so
/// filling one does not grow its buffer several times.
const NEW_ENTRY_CAPACITY: usize = 4096;

/// Written entries go back to the JS thread in groups of this many.
const RETURN_EVERY: usize = 32;

/// Why `submit` did not queue an entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue is full: the entry was dropped and counted.
    Full,
    /// The thread was closed.
    Closed,
}

impl LogThread {
    /// Starts the thread. `report` receives the first failure of a file (once per thread).
    pub fn start(config: Config, report: Box<dyn Fn(&str) + Send>) -> std::io::Result<LogThread> {
        let (tx, rx) = sync_channel(config.queue.max(1));
        let counters = Arc::new(Counters::default());
        let shared = counters.clone();
        let spare = Arc::new(Mutex::new(Vec::new()));
        let returned = spare.clone();
        let handle = std::thread::Builder::new()
            .name("qerrors-log".into())
            .spawn(move || run(config, rx, &shared, &returned, report))?;
        Ok(LogThread {
            tx: Mutex::new(Some(tx)),
            handle: Mutex::new(Some(handle)),
            counters,
            spare,
        })
    }

    fn sender(&self) -> Option<SyncSender<Job>> {
        self.tx.lock().ok().and_then(|g| g.clone())
    }

    /// An empty entry to fill and [`LogThread::submit`]: one the thread has written, when
    /// it has handed one back, else a new one.
    pub fn entry(&self) -> Box<ErrorEntry> {
        self.spare
            .lock()
            .ok()
            .and_then(|mut s| s.pop())
            .unwrap_or_else(|| Box::new(ErrorEntry::with_capacity(NEW_ENTRY_CAPACITY)))
    }

    /// Queues a job without waiting.
    pub fn submit(&self, job: Job) -> Result<(), Refused> {
        // Sent under the lock (`try_send` never waits): no clone of the sender per entry.
        let Ok(guard) = self.tx.lock() else {
            return Err(Refused::Closed);
        };
        let Some(tx) = guard.as_ref() else {
            return Err(Refused::Closed);
        };
        match tx.try_send(job) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                Err(Refused::Full)
            }
            Err(TrySendError::Disconnected(_)) => Err(Refused::Closed),
        }
    }

    /// Waits until every job accepted before this call is written and flushed to the files.
    pub fn flush(&self) {
        let Some(tx) = self.sender() else { return };
        let (ack_tx, ack_rx) = sync_channel(1);
        if tx.send(Job::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv();
        }
    }

    /// Writes what was accepted, then ends the thread; later jobs are refused.
    pub fn close(&self) {
        if let Ok(mut g) = self.tx.lock() {
            g.take();
        }
        let handle = self.handle.lock().ok().and_then(|mut g| g.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for LogThread {
    fn drop(&mut self) {
        self.close();
    }
}

/// How long the thread lets entries gather after the first of a batch arrives.
const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

fn run(
    config: Config,
    rx: Receiver<Job>,
    counters: &Counters,
    spare: &Mutex<Spare>,
    report: Box<dyn Fn(&str) + Send>,
) {
    let mut files: Vec<LogFile> = config.files.into_iter().map(LogFile::new).collect();
    let mut text = String::new();
    let mut written: Spare = Vec::new();
    let mut reported = false;
    let mut fail = |err: std::io::Error| {
        if !reported {
            reported = true;
            report(&err.to_string());
        }
    };
    while let Ok(first) = rx.recv() {
        // Entries come in bursts: a short pause lets a burst gather in the queue, so the
        // thread is woken once per batch (a sender wakes it only while it waits in `recv`)
        // and writes the batch with a few large writes instead of one per entry.
        if !matches!(first, Job::Flush(_)) {
            std::thread::sleep(GATHER);
        }
        let mut next = Some(first);
        while let Some(job) = next {
            match job {
                Job::Error(mut entry) => {
                    line::write_file_line(&mut text, &config.constants, &entry);
                    for f in files.iter_mut() {
                        if f.spec.errors_only && entry.warn {
                            continue;
                        }
                        count(f.write_line(&text), counters, &mut fail);
                    }
                    if entry.capacity() <= KEEP_CAPACITY && written.len() < SPARE_ENTRIES {
                        entry.clear();
                        written.push(entry);
                        // Handed back in small groups, not once per batch: a batch can last
                        // through a rotation's renames, and a JS thread that finds no spare
                        // entry allocates new ones, which this thread must then free (the
                        // allocator's lock, contended by both threads).
                        if written.len() >= RETURN_EVERY {
                            give_back(spare, &mut written);
                        }
                    }
                }
                Job::Lines { file, text } => {
                    if let Some(f) = files.get_mut(file) {
                        for l in text.split(file::EOL) {
                            count(f.write_line(l), counters, &mut fail);
                        }
                    }
                }
                Job::Flush(ack) => {
                    for f in files.iter_mut() {
                        if let Err(e) = f.flush() {
                            fail(e);
                        }
                    }
                    let _ = ack.send(());
                }
            }
            next = rx.try_recv().ok();
        }
        give_back(spare, &mut written);
        // The queue is empty: what the buffers hold goes to the files now.
        for f in files.iter_mut() {
            if let Err(e) = f.flush() {
                fail(e);
            }
        }
    }
    for f in files.iter_mut() {
        if let Err(e) = f.flush() {
            fail(e);
        }
    }
}

/// Hands written entries back to the JS thread, as many as the spare list has room for.
fn give_back(spare: &Mutex<Spare>, written: &mut Spare) {
    if written.is_empty() {
        return;
    }
    if let Ok(mut s) = spare.lock() {
        written.truncate(SPARE_ENTRIES.saturating_sub(s.len()));
        s.append(written);
    }
    written.clear();
}

fn count(r: std::io::Result<bool>, counters: &Counters, fail: &mut impl FnMut(std::io::Error)) {
    match r {
        Ok(true) => {
            counters.written.fetch_add(1, Ordering::Relaxed);
        }
        Ok(false) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
        }
        Err(e) => {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            fail(e);
        }
    }
}

#[cfg(test)]
mod tests;
