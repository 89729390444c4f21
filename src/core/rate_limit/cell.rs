//! Where a limiter keeps its table: behind a mutex (any thread), or owned by one thread
//! with no atomic operation at all (the JS thread of the addon).
//!
//! Why the second form: a check on the JS thread is a ~25 ns N-API call plus a few
//! nanoseconds of work, and an uncontended mutex (a `lock cmpxchg` to take it, an `xchg`
//! to release it, a poison check) measured as ~10% of a check on 10 000 keys in `perf`.
//! A limiter made for JS is only ever called from the thread of its N-API environment,
//! so it needs exclusion from re-entry, not from other threads; a call from any other
//! thread panics instead of touching the table.

use std::cell::{Cell, UnsafeCell};
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

use super::table::Table;

/// The table and how it is guarded.
pub(super) enum TableCell {
    Shared(Mutex<Table>),
    Owned(Owned),
}

/// A table usable from the thread that created it only.
pub(super) struct Owned {
    owner: usize,
    borrowed: Cell<bool>,
    table: UnsafeCell<Table>,
}

// SAFETY: `Owned` hands out its table only on its owner thread (checked in `borrow`
// before `borrowed` or `table` is read), and at most once at a time (the `borrowed`
// flag), so no two threads, and no two borrows, ever reach the table together.
unsafe impl Sync for Owned {}

thread_local! {
    static MARK: u8 = const { 0 };
}

/// A number unique to the running thread while it lives: the address of a thread-local.
#[inline]
fn thread_mark() -> usize {
    MARK.with(|m| m as *const u8 as usize)
}

impl TableCell {
    pub(super) fn shared(t: Table) -> Self {
        Self::Shared(Mutex::new(t))
    }

    /// A table owned by the calling thread.
    pub(super) fn owned(t: Table) -> Self {
        Self::Owned(Owned {
            owner: thread_mark(),
            borrowed: Cell::new(false),
            table: UnsafeCell::new(t),
        })
    }

    #[inline]
    pub(super) fn borrow(&self) -> Guard<'_> {
        match self {
            // Nothing panics while the lock is held; if it ever did, the table is still
            // structurally valid, so keep serving rather than failing every later call.
            Self::Shared(m) => Guard::Shared(m.lock().unwrap_or_else(|e| e.into_inner())),
            Self::Owned(o) => {
                assert!(
                    o.owner == thread_mark(),
                    "a limiter made for one thread was called from another"
                );
                assert!(!o.borrowed.replace(true), "limiter table borrowed twice");
                // SAFETY: on the owner thread, not borrowed (checked just above); the
                // guard clears the flag when it drops.
                Guard::Owned(unsafe { &mut *o.table.get() }, &o.borrowed)
            }
        }
    }
}

/// Access to the table for the duration of one operation.
pub(super) enum Guard<'a> {
    Shared(MutexGuard<'a, Table>),
    Owned(&'a mut Table, &'a Cell<bool>),
}

impl Deref for Guard<'_> {
    type Target = Table;
    #[inline]
    fn deref(&self) -> &Table {
        match self {
            Self::Shared(g) => g,
            Self::Owned(t, _) => t,
        }
    }
}

impl DerefMut for Guard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Table {
        match self {
            Self::Shared(g) => &mut *g,
            Self::Owned(t, _) => t,
        }
    }
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Self::Owned(_, flag) = self {
            flag.set(false);
        }
    }
}
