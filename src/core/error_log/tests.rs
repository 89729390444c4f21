#![allow(clippy::unwrap_used)]

use super::file::{FileSpec, LogFile};
use super::*;
use std::sync::atomic::Ordering;

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("qerrors-log-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn spec(dir: &std::path::Path, name: &str, max_size: u64, max_files: u32) -> FileSpec {
    FileSpec {
        dir: dir.to_path_buf(),
        file_name: name.into(),
        max_size,
        max_files,
        errors_only: false,
    }
}

#[test]
fn rotates_tailable_like_the_js_file() {
    let dir = scratch("rotate");
    let mut f = LogFile::new(spec(&dir, "combined.log", 10, 3));
    for l in ["aaaa", "bbbb", "cccc", "dddddddddddddd", "e"] {
        assert!(f.write_line(l).unwrap());
    }
    f.flush().unwrap();
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    assert_eq!(read("combined.log"), "e\n");
    assert_eq!(read("combined1.log"), "dddddddddddddd\n");
    assert_eq!(read("combined2.log"), "cccc\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_cannot_open_fails_once_and_drops() {
    let dir = scratch("broken");
    std::fs::write(&dir, "a file where the directory should be").unwrap();
    let mut f = LogFile::new(spec(&dir.join("logs"), "error.log", 0, 1));
    assert!(f.write_line("x").is_err());
    assert!(!f.write_line("y").unwrap());
    let _ = std::fs::remove_file(&dir);
}

#[test]
fn thread_writes_everything_accepted_then_counts_drops() {
    let dir = scratch("thread");
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    let t = LogThread::start(
        Config {
            constants: line::Constants::default(),
            files: vec![spec(&dir, "combined.log", 0, 1)],
            queue: 4,
        },
        Box::new(move |m| seen.lock().unwrap().push(m.to_string())),
    )
    .unwrap();
    let mut accepted = 0;
    for i in 0..10_000 {
        if t.submit(Job::Lines {
            file: 0,
            text: format!("line {i}"),
        })
        .is_ok()
        {
            accepted += 1;
        }
    }
    t.flush();
    let text = std::fs::read_to_string(dir.join("combined.log")).unwrap();
    assert_eq!(text.lines().count(), accepted);
    let c = &t.counters;
    assert_eq!(c.accepted.load(Ordering::Relaxed), accepted as u64);
    assert_eq!(c.dropped.load(Ordering::Relaxed), 10_000 - accepted as u64);
    assert!(reports.lock().unwrap().is_empty());
    t.close();
    assert_eq!(
        t.submit(Job::Lines {
            file: 0,
            text: "late".into()
        }),
        Err(Refused::Closed)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn written_entries_come_back_for_reuse_within_the_bound() {
    let dir = scratch("reuse");
    let t = LogThread::start(
        Config {
            constants: line::Constants::default(),
            files: vec![spec(&dir, "combined.log", 0, 1)],
            queue: 1000,
        },
        Box::new(|_| {}),
    )
    .unwrap();
    let fresh = t.entry();
    assert_eq!(fresh.capacity(), NEW_ENTRY_CAPACITY);
    for i in 0..SPARE_ENTRIES + 100 {
        let mut e = t.entry();
        e.set(entry::Field::Message, &format!("entry {i}"));
        assert!(t.submit(Job::Error(e)).is_ok());
    }
    t.flush();
    let spare = t.spare.lock().unwrap();
    assert!(!spare.is_empty() && spare.len() <= SPARE_ENTRIES);
    assert!(spare.iter().all(|e| e.get(entry::Field::Message).is_none()));
    drop(spare);
    // A spare entry comes back empty, with its buffer.
    let reused = t.entry();
    assert!(reused.get(entry::Field::Message).is_none());
    assert!(reused.capacity() >= NEW_ENTRY_CAPACITY);
    let lines = std::fs::read_to_string(dir.join("combined.log")).unwrap();
    assert_eq!(lines.lines().count(), SPARE_ENTRIES + 100);
    let _ = std::fs::remove_dir_all(&dir);
}
