//! The embedded store's maps of expiring items, each split into [`SHARDS`]
//! hash tables behind a lock of their own. A table that fills up is rehashed
//! whole, so one big map under one lock stalls every request for as long as
//! rehashing all it holds takes (hundreds of milliseconds at a few hundred
//! thousand tokens); a shard holds 1/[`SHARDS`] of the items, so its
//! rehash is that much shorter and stalls only the requests for its keys.
//!
//! Each shard keeps a queue of its items' expiry times under the item's hash
//! (not a copy of its key), and each write removes a few expired items, so
//! sweeping is as incremental as growth.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hashbrown::HashTable;

/// Shards per map, a power of two. The shard is picked by hash bits 48–55,
/// which hashbrown uses for neither the bucket (low bits) nor the tag (the
/// top seven), so the keys of one shard still spread over its table.
pub(super) const SHARDS: usize = 256;
const _: () = assert!(SHARDS.is_power_of_two() && SHARDS <= 1 << 8, "shard_of takes 8 bits");

/// Expired items removed per sweep: more than one, so a backlog left by an
/// idle spell shrinks while new items keep arriving.
pub(super) const SWEEP_STEP: usize = 16;

/// Something with an expiry time.
pub(super) trait Expires {
    fn expires_at(&self) -> i64;
}

/// A key as stored: a token or code digest (SHA-256 in unpadded base64url,
/// 43 characters, as `crypto::digest` writes it) as its 32 bytes, any other
/// string as it is. The decoder refuses non-canonical encodings, so two
/// strings never make one key.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Key {
    Digest([u8; 32]),
    Other(Box<str>),
}

/// A key being looked up, borrowing the caller's string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyRef<'a> {
    Digest([u8; 32]),
    Other(&'a str),
}

impl<'a> KeyRef<'a> {
    pub(super) fn new(key: &'a str) -> Self {
        if key.len() == 43 {
            // Room for the decoder's estimate of 43 characters: 33 bytes.
            let mut buf = [0u8; 33];
            if let Ok(32) = URL_SAFE_NO_PAD.decode_slice(key, &mut buf) {
                let mut digest = [0u8; 32];
                digest.copy_from_slice(&buf[..32]);
                return Self::Digest(digest);
            }
        }
        Self::Other(key)
    }

    fn to_key(self) -> Key {
        match self {
            Self::Digest(d) => Key::Digest(d),
            Self::Other(s) => Key::Other(s.into()),
        }
    }
}

impl Key {
    fn as_ref(&self) -> KeyRef<'_> {
        match self {
            Self::Digest(d) => KeyRef::Digest(*d),
            Self::Other(s) => KeyRef::Other(s),
        }
    }
}

impl Hash for KeyRef<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Self::Digest(d) => {
                h.write_u8(0);
                h.write(d);
            }
            Self::Other(s) => {
                h.write_u8(1);
                h.write(s.as_bytes());
            }
        }
    }
}

struct Entry<V> {
    key: Key,
    value: V,
}

/// One shard: its items, the queue of their expiry times (an item whose
/// expiry moved later, or that was removed, leaves a stale entry, skipped
/// when it comes up) and `side`, state the map's user keeps per shard.
struct Shard<V, S> {
    items: HashTable<Entry<V>>,
    queue: BinaryHeap<Reverse<(i64, u64)>>,
    side: S,
}

/// A map of expiring items in [`SHARDS`] shards; `S` is kept per shard
/// beside the items (the access tokens' shared strings).
pub(super) struct Sharded<V, S = ()> {
    shards: Box<[Mutex<Shard<V, S>>]>,
    hasher: RandomState,
    /// The next shard [`Sharded::sweep_next`] looks at.
    cursor: AtomicUsize,
}

impl<V, S: Default> Default for Sharded<V, S> {
    fn default() -> Self {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard { items: HashTable::new(), queue: BinaryHeap::new(), side: S::default() })
            })
            .collect();
        Self { shards, hasher: RandomState::new(), cursor: AtomicUsize::new(0) }
    }
}

fn unpoisoned<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a shard half-updated
    // (every method mutates after all its checks), so poisoning is ignored.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<V: Expires, S> Sharded<V, S> {
    /// Locks the shard that holds `key`, for reading and writing that key.
    pub(super) fn lock<'a>(&'a self, key: &'a str) -> Locked<'a, V, S> {
        let key = KeyRef::new(key);
        let hash = self.hasher.hash_one(key);
        let shard = unpoisoned(&self.shards[shard_of(hash)]);
        Locked { shard, hasher: &self.hasher, key, hash }
    }

    /// Sweeps the next shard in turn, unless another request holds it: with
    /// every write calling this, each shard is swept at least once every
    /// [`SHARDS`] writes, whichever shards the writes land in.
    pub(super) fn sweep_next(&self, now: i64) {
        let i = self.cursor.fetch_add(1, Ordering::Relaxed) % SHARDS;
        match self.shards[i].try_lock() {
            Ok(mut shard) => shard.sweep(now),
            Err(TryLockError::Poisoned(p)) => p.into_inner().sweep(now),
            Err(TryLockError::WouldBlock) => {}
        }
    }

    /// How many items are held, expired or not, and in how many shards.
    #[cfg(test)]
    pub(super) fn spread(&self) -> (usize, usize) {
        let lens: Vec<usize> = self.shards.iter().map(|s| unpoisoned(s).items.len()).collect();
        (lens.iter().sum(), lens.iter().filter(|n| **n > 0).count())
    }
}

fn shard_of(hash: u64) -> usize {
    (hash >> 48) as usize & (SHARDS - 1)
}

impl<V: Expires, S> Shard<V, S> {
    /// Removes up to [`SWEEP_STEP`] items that have expired by `now`.
    fn sweep(&mut self, now: i64) {
        for _ in 0..SWEEP_STEP {
            match self.queue.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => return,
            }
            let Some(Reverse((_, hash))) = self.queue.pop() else { return };
            // Any expired item under this hash may go: it is expired.
            if let Ok(e) = self.items.find_entry(hash, |e| e.value.expires_at() <= now) {
                e.remove();
            }
        }
    }
}

/// One key's shard, locked.
pub(super) struct Locked<'a, V, S> {
    shard: MutexGuard<'a, Shard<V, S>>,
    hasher: &'a RandomState,
    key: KeyRef<'a>,
    hash: u64,
}

impl<V: Expires, S> Locked<'_, V, S> {
    /// The item, expired or not.
    pub(super) fn get(&self) -> Option<&V> {
        let key = self.key;
        self.shard.items.find(self.hash, |e| e.key.as_ref() == key).map(|e| &e.value)
    }

    /// The item, expired or not, to change in place (call
    /// [`Locked::schedule`] if its expiry moves later).
    pub(super) fn get_mut(&mut self) -> Option<&mut V> {
        let key = self.key;
        self.shard.items.find_mut(self.hash, |e| e.key.as_ref() == key).map(|e| &mut e.value)
    }

    /// The item while it is live at `now`.
    pub(super) fn live(&self, now: i64) -> Option<&V> {
        self.get().filter(|v| v.expires_at() > now)
    }

    /// Stores `value` under the key, replacing any item there.
    pub(super) fn insert(&mut self, value: V) {
        self.schedule(value.expires_at());
        if let Some(slot) = self.get_mut() {
            *slot = value;
            return;
        }
        let (hasher, key) = (self.hasher, self.key.to_key());
        self.shard.items.insert_unique(self.hash, Entry { key, value }, |e| hasher.hash_one(e.key.as_ref()));
    }

    /// Removes the item, if any.
    pub(super) fn remove(&mut self) {
        let key = self.key;
        if let Ok(e) = self.shard.items.find_entry(self.hash, |e| e.key.as_ref() == key) {
            e.remove();
        }
    }

    /// Queues the key to be looked at when `expires_at` has passed.
    pub(super) fn schedule(&mut self, expires_at: i64) {
        self.shard.queue.push(Reverse((expires_at, self.hash)));
    }

    /// Removes up to [`SWEEP_STEP`] expired items from this shard.
    pub(super) fn sweep(&mut self, now: i64) {
        self.shard.sweep(now);
    }

    /// The state kept beside this shard's items.
    pub(super) fn side(&mut self) -> &mut S {
        &mut self.shard.side
    }
}
