//! The embedded in-process store: the zero-setup default of `zeroauth serve`.
//! One mutex guards every map, so each method is atomic as the contract asks.
//!
//! Memory stays proportional to live items: every map of expiring items keeps
//! a queue of expiry times, and each write removes a few expired items, so
//! the maps stop growing (and rehashing) once items expire as fast as they
//! are made.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, StoreResult, ThrottleStore, TokenStore,
    redemption_verdict, rotation_verdict,
};
use crate::domain::{AccessTokenRecord, ApiKey, Client, CodeRecord, Grant, Redemption, Resource};

/// Expired items removed per map on each write: more than one, so a backlog
/// left by an idle spell shrinks while new items keep arriving.
const SWEEP_STEP: usize = 16;

/// Something with an expiry time.
trait Expires {
    fn expires_at(&self) -> i64;
}
impl Expires for CodeRecord {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
impl Expires for Grant {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
impl Expires for AccessTokenRecord {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
/// A throttle counter: hits, and the end of its window.
impl Expires for (u32, i64) {
    fn expires_at(&self) -> i64 {
        self.1
    }
}

/// A map of expiring items and the queue of their expiry times (an item
/// whose expiry moved later has a stale entry, skipped when it comes up).
struct Expiring<T> {
    items: HashMap<String, T>,
    queue: BinaryHeap<Reverse<(i64, String)>>,
}

impl<T> Default for Expiring<T> {
    fn default() -> Self {
        Self { items: HashMap::new(), queue: BinaryHeap::new() }
    }
}

impl<T: Expires> Expiring<T> {
    fn insert(&mut self, key: &str, value: T) {
        self.schedule(key, value.expires_at());
        self.items.insert(key.to_owned(), value);
    }

    /// Queues `key` to be looked at when `expires_at` has passed.
    fn schedule(&mut self, key: &str, expires_at: i64) {
        self.queue.push(Reverse((expires_at, key.to_owned())));
    }

    /// The item while it is live at `now`.
    fn live(&self, key: &str, now: i64) -> Option<&T> {
        self.items.get(key).filter(|i| i.expires_at() > now)
    }

    /// Removes up to [`SWEEP_STEP`] items that have expired by `now`.
    fn sweep(&mut self, now: i64) {
        for _ in 0..SWEEP_STEP {
            match self.queue.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => return,
            }
            let Some(Reverse((_, key))) = self.queue.pop() else { return };
            if self.items.get(&key).is_some_and(|i| i.expires_at() <= now) {
                self.items.remove(&key);
            }
        }
    }
}

#[derive(Default)]
struct Tables {
    clients: BTreeMap<String, Client>,
    /// Client id alias → client id.
    client_aliases: BTreeMap<String, String>,
    resources: BTreeMap<String, Resource>,
    api_keys: BTreeMap<String, ApiKey>,
    codes: Expiring<CodeRecord>,
    grants: Expiring<Grant>,
    access: Expiring<AccessTokenRecord>,
    counters: Expiring<(u32, i64)>,
}

impl Tables {
    /// Removes a few expired items of every kind; called on each write.
    fn sweep(&mut self, now: i64) {
        self.codes.sweep(now);
        self.grants.sweep(now);
        self.access.sweep(now);
        self.counters.sweep(now);
    }
}

/// An in-memory [`Store`](super::Store); its contents die with the process.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    people: Mutex<people::People>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock cannot leave a map half-updated
        // (every method mutates after all its checks), so poisoning is ignored.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
impl MemoryStore {
    /// How many items of each expiring kind are held, expired or not.
    fn held(&self) -> usize {
        let t = self.lock();
        t.codes.items.len() + t.grants.items.len() + t.access.items.len() + t.counters.items.len()
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        let mut t = self.lock();
        t.sweep(code.issued_at);
        t.codes.insert(&code.digest, code.clone());
        Ok(())
    }

    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>> {
        Ok(self.lock().codes.live(digest, now).cloned())
    }

    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome> {
        let mut t = self.lock();
        t.sweep(now);
        let Some(code) = t.codes.items.get_mut(digest).filter(|c| c.expires_at > now) else {
            return Ok(ConsumeOutcome::Invalid);
        };
        if let Some(verdict) = redemption_verdict(code, issuance, now) {
            return Ok(verdict);
        }
        code.redeemed = Some(Redemption {
            grant_id: issuance.grant.grant_id.clone(),
            consume_id: issuance.consume_id.clone(),
        });
        t.grants.insert(&issuance.grant.grant_id, issuance.grant.clone());
        if let Some(a) = &issuance.access {
            t.access.insert(&a.digest, a.clone());
        }
        Ok(ConsumeOutcome::Consumed)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        let mut t = self.lock();
        t.sweep(token.issued_at);
        t.access.insert(&token.digest, token.clone());
        Ok(())
    }

    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>> {
        Ok(self.lock().access.live(digest, now).cloned())
    }

    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>> {
        Ok(self.lock().grants.live(grant_id, now).cloned())
    }

    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome> {
        let mut t = self.lock();
        t.sweep(now);
        let Some(grant) = t.grants.items.get_mut(grant_id).filter(|g| g.expires_at > now) else {
            return Ok(RotateOutcome::Invalid);
        };
        if let Some(verdict) = rotation_verdict(grant, rotation, now) {
            return Ok(verdict);
        }
        grant.refresh_digest = Some(rotation.new_digest.clone());
        grant.retired_digests = rotation.retired.clone();
        grant.refresh_expires_at = rotation.new_refresh_expires_at;
        grant.last_rotation = rotation.last.clone();
        let extended = grant.expires_at < rotation.new_refresh_expires_at;
        grant.expires_at = grant.expires_at.max(rotation.new_refresh_expires_at);
        if extended {
            t.grants.schedule(grant_id, rotation.new_refresh_expires_at);
        }
        if let Some(a) = &rotation.access {
            t.access.insert(&a.digest, a.clone());
        }
        Ok(RotateOutcome::Rotated)
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()> {
        if let Some(g) = self.lock().grants.items.get_mut(grant_id) {
            g.revoked = true;
        }
        Ok(())
    }

    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()> {
        self.lock().access.items.remove(digest);
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32> {
        let mut t = self.lock();
        t.sweep(now);
        match t.counters.items.get_mut(key).filter(|c| c.1 > now) {
            Some(c) => {
                c.0 = c.0.saturating_add(1);
                Ok(c.0)
            }
            None => {
                t.counters.insert(key, (1, window_end));
                Ok(1)
            }
        }
    }

    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32> {
        Ok(self.lock().counters.live(key, now).map_or(0, |c| c.0))
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.lock().counters.items.remove(key);
        Ok(())
    }
}

mod people;
mod registry;
#[cfg(test)]
mod tests;
