//! One-time values (DPoP proof ids) for the embedded SQLite store, checked in memory and saved
//! behind the request.
//!
//! One SQLite file has one server, so this process sees every proof. Checking the table on each
//! request would take SQLite's single write lock per request (the p99 tail under load); instead
//! a key is checked and recorded here, and queued; a background task appends the queue as one row of
//! `dpop_proof_batches` every [`FLUSH_EVERY`] and on close (one row per proof cost a fifth of the
//! CPU under load). The first check loads the unexpired keys, so a restart does not reopen the
//! replay window. Keys are held as keyed 64-bit
//! hashes (a collision can only refuse a fresh proof, and the key is secret, so it cannot be aimed).
//! Past [`MAX_IN_MEMORY`] live keys, new keys are checked in the `dpop_proofs` table itself.

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

/// How often queued keys are written to the table.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Live keys held in memory at most (about 40 bytes each).
pub const MAX_IN_MEMORY: usize = 2_000_000;

/// A key to save: tenant, key, expiry (ms).
pub type Unsaved = (String, String, i64);

#[derive(Default)]
struct Inner {
    loaded: bool,
    expiry: HashMap<u64, i64>,
    /// (expires_at, hash) in insertion order; expiries are `now` plus a constant, so nearly sorted.
    queue: VecDeque<(i64, u64)>,
    unsaved: Vec<Unsaved>,
}

/// What [`SeenKeys::check`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Recorded now: the first use.
    New,
    /// Recorded and unexpired: a replay.
    Replay,
    /// Not in memory, and memory is full: the table must decide.
    AskTable,
}

/// The process's recently seen one-time values.
pub struct SeenKeys {
    hasher: std::collections::hash_map::RandomState,
    inner: Mutex<Inner>,
    /// After a server that did not stop cleanly: when this one started (ms). Ids the last one
    /// spent in its final 100 ms may never have been saved, so values made before this time
    /// cannot be trusted to be new.
    unsaved_before: Option<i64>,
    /// This server's row in `server_runs`, deleted on a clean stop.
    run: Option<i64>,
}

impl Default for SeenKeys {
    fn default() -> Self {
        Self::new(None, None)
    }
}

impl SeenKeys {
    /// Keys checked in memory; `unsaved_before` and `run` as the fields say.
    pub fn new(unsaved_before: Option<i64>, run: Option<i64>) -> Self {
        Self {
            hasher: std::collections::hash_map::RandomState::new(),
            inner: Mutex::new(Inner::default()),
            unsaved_before,
            run,
        }
    }

    /// See the field: set after an unclean stop of the last server.
    pub fn unsaved_before(&self) -> Option<i64> {
        self.unsaved_before
    }

    /// This server's row in `server_runs`.
    pub fn run(&self) -> Option<i64> {
        self.run
    }

    fn hash(&self, tenant: &str, key: &str) -> u64 {
        self.hasher.hash_one((tenant, key))
    }

    /// Whether the table's unexpired rows were loaded.
    pub fn loaded(&self) -> bool {
        self.inner.lock().map(|i| i.loaded).unwrap_or(false)
    }

    /// Loads rows read from the table (once, before the first check).
    pub fn load(&self, rows: impl IntoIterator<Item = (String, String, i64)>) {
        let Ok(mut inner) = self.inner.lock() else { return };
        if inner.loaded {
            return;
        }
        for (tenant, key, expires_at) in rows {
            let h = self.hash(&tenant, &key);
            inner.expiry.insert(h, expires_at);
            inner.queue.push_back((expires_at, h));
        }
        inner.queue.make_contiguous().sort_unstable();
        inner.loaded = true;
    }

    /// Checks and records `key` until `expires_at`.
    pub fn check(&self, tenant: &str, key: &str, now: i64, expires_at: i64) -> Seen {
        let h = self.hash(tenant, key);
        let Ok(mut inner) = self.inner.lock() else { return Seen::AskTable };
        while let Some(&(exp, old)) = inner.queue.front() {
            if exp > now {
                break;
            }
            inner.queue.pop_front();
            if inner.expiry.get(&old) == Some(&exp) {
                inner.expiry.remove(&old);
            }
        }
        match inner.expiry.get(&h) {
            Some(&exp) if exp > now => return Seen::Replay,
            Some(_) => {}
            None if inner.expiry.len() >= MAX_IN_MEMORY => return Seen::AskTable,
            None => {}
        }
        inner.expiry.insert(h, expires_at);
        inner.queue.push_back((expires_at, h));
        inner.unsaved.push((tenant.to_owned(), key.to_owned(), expires_at));
        Seen::New
    }

    /// Puts back keys whose write failed.
    pub fn requeue(&self, rows: Vec<Unsaved>) {
        if let Ok(mut i) = self.inner.lock() {
            i.unsaved.extend(rows);
        }
    }

    /// Takes the keys not yet written to the table.
    pub fn take_unsaved(&self) -> Vec<Unsaved> {
        self.inner.lock().map(|mut i| std::mem::take(&mut i.unsaved)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_new_once_until_it_expires() {
        let s = SeenKeys::default();
        s.load([("t".into(), "old".into(), 500)]);
        assert_eq!(s.check("t", "old", 100, 1_000), Seen::Replay, "a loaded row is forgotten");
        assert_eq!(s.check("t", "k", 100, 1_000), Seen::New);
        assert_eq!(s.check("t", "k", 999, 1_000), Seen::Replay);
        assert_eq!(s.check("u", "k", 999, 1_000), Seen::New, "tenants share keys");
        assert_eq!(s.check("t", "k", 1_000, 2_000), Seen::New, "an expired key still blocks");
        assert_eq!(s.check("t", "k", 1_500, 2_000), Seen::Replay, "a renewed key expired early");
        let unsaved: Vec<_> = s.take_unsaved().into_iter().map(|(t, k, e)| format!("{t}:{k}:{e}")).collect();
        assert_eq!(unsaved, ["t:k:1000", "u:k:1000", "t:k:2000"]);
        assert!(s.take_unsaved().is_empty());
    }
}
