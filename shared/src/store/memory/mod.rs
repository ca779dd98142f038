//! The embedded in-process store: the zero-setup default of `zeroauth serve`.
//!
//! What is registered (clients, API keys, resources: `registry.rs`) sits
//! behind one mutex, [`MemoryStore::lock`], and people (`people.rs`) behind
//! another. What requests write — codes, grants, access tokens, throttle
//! counters, self-service flows and challenges (`flows.rs`), ceremonies
//! (`factors.rs`) — sits in sharded maps (`shards.rs`) that grow a shard
//! at a time, so no request waits for the whole map to rehash. Each method
//! locks the shard of the key it is about; one that writes several items
//! (redeeming a code, rotating a refresh token) keeps the first item's
//! shard locked until all are written, and takes locks in one order
//! (codes, grants, access tokens), so it is atomic as the contract asks and
//! cannot deadlock.
//!
//! Memory stays proportional to live items: each write removes a few expired
//! items from the shard it writes to and from the next shard of every map in
//! turn, so the maps stop growing once items expire as fast as they are made.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use self::access::{Shared, StoredAccess};
use self::shards::{Expires, Sharded};
use super::{
    CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, StoreResult, ThrottleStore, TokenStore,
    redemption_verdict, rotation_verdict,
};
use crate::domain::{
    AccessTokenRecord, ApiKey, Ceremony, Challenge, Client, CodeRecord, Flow, Grant, Provider, Redemption,
    Resource, UpstreamState,
};

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
/// A throttle counter: hits, and the end of its window.
impl Expires for (u32, i64) {
    fn expires_at(&self) -> i64 {
        self.1
    }
}

#[derive(Default)]
struct Tables {
    clients: BTreeMap<String, Client>,
    /// Client id alias → client id.
    client_aliases: BTreeMap<String, String>,
    resources: BTreeMap<String, Resource>,
    api_keys: BTreeMap<String, ApiKey>,
    providers: BTreeMap<String, Provider>,
}

/// An in-memory [`Store`](super::Store); its contents die with the process.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
    people: Mutex<people::People>,
    codes: Sharded<CodeRecord>,
    grants: Sharded<Grant>,
    access: Sharded<StoredAccess, Shared>,
    counters: Sharded<(u32, i64)>,
    flows: Sharded<Flow>,
    challenges: Sharded<Challenge>,
    upstream: Sharded<UpstreamState>,
    ceremonies: Sharded<Ceremony>,
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

    /// Sweeps the next shard of every map; called on each write, with no
    /// shard locked, so a map nobody writes to still drains.
    fn sweep_next(&self, now: i64) {
        self.codes.sweep_next(now);
        self.grants.sweep_next(now);
        self.access.sweep_next(now);
        self.counters.sweep_next(now);
        self.flows.sweep_next(now);
        self.challenges.sweep_next(now);
        self.upstream.sweep_next(now);
        self.ceremonies.sweep_next(now);
    }

    /// Stores an access token; the caller may hold a code or grant shard,
    /// never another access-token shard.
    fn insert_access(&self, token: &AccessTokenRecord, now: i64) {
        let mut shard = self.access.lock(&token.digest);
        shard.sweep(now);
        let stored = StoredAccess::new(token, shard.side());
        shard.insert(stored);
    }
}

#[cfg(test)]
impl MemoryStore {
    /// How many items of each expiring kind are held, expired or not.
    fn held(&self) -> usize {
        self.codes.spread().0
            + self.grants.spread().0
            + self.access.spread().0
            + self.counters.spread().0
            + self.flows.spread().0
            + self.challenges.spread().0
            + self.upstream.spread().0
            + self.ceremonies.spread().0
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        {
            let mut shard = self.codes.lock(&code.digest);
            shard.sweep(code.issued_at);
            shard.insert(code.clone());
        }
        self.sweep_next(code.issued_at);
        Ok(())
    }

    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>> {
        Ok(self.codes.lock(digest).live(now).cloned())
    }

    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome> {
        {
            // Held until the grant and token are stored: all or nothing.
            let mut codes = self.codes.lock(digest);
            codes.sweep(now);
            let Some(code) = codes.live(now) else {
                return Ok(ConsumeOutcome::Invalid);
            };
            if let Some(verdict) = redemption_verdict(code, issuance, now) {
                return Ok(verdict);
            }
            {
                let mut grants = self.grants.lock(&issuance.grant.grant_id);
                grants.sweep(now);
                grants.insert(issuance.grant.clone());
            }
            if let Some(a) = &issuance.access {
                self.insert_access(a, now);
            }
            if let Some(code) = codes.get_mut() {
                code.redeemed = Some(Redemption {
                    grant_id: issuance.grant.grant_id.clone(),
                    consume_id: issuance.consume_id.clone(),
                });
            }
        }
        self.sweep_next(now);
        Ok(ConsumeOutcome::Consumed)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        self.insert_access(token, token.issued_at);
        self.sweep_next(token.issued_at);
        Ok(())
    }

    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>> {
        Ok(self.access.lock(digest).live(now).map(|a| a.record(digest)))
    }

    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>> {
        Ok(self.grants.lock(grant_id).live(now).cloned())
    }

    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome> {
        {
            // Held until the new access token is stored: all or nothing.
            let mut grants = self.grants.lock(grant_id);
            grants.sweep(now);
            let Some(grant) = grants.get_mut().filter(|g| g.expires_at > now) else {
                return Ok(RotateOutcome::Invalid);
            };
            if let Some(verdict) = rotation_verdict(grant, rotation, now) {
                return Ok(verdict);
            }
            grant.refresh_digest = Some(rotation.new_digest.clone());
            grant.retired_digests = rotation.retired.clone();
            grant.refresh_expires_at = rotation.new_refresh_expires_at;
            grant.last_rotation = rotation.last.clone();
            grant.upstream = rotation.upstream.clone();
            let extended = grant.expires_at < rotation.new_refresh_expires_at;
            grant.expires_at = grant.expires_at.max(rotation.new_refresh_expires_at);
            if extended {
                grants.schedule(rotation.new_refresh_expires_at);
            }
            if let Some(a) = &rotation.access {
                self.insert_access(a, now);
            }
        }
        self.sweep_next(now);
        Ok(RotateOutcome::Rotated)
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()> {
        if let Some(g) = self.grants.lock(grant_id).get_mut() {
            g.revoked = true;
        }
        Ok(())
    }

    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()> {
        self.access.lock(digest).remove();
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32> {
        let hits = {
            let mut shard = self.counters.lock(key);
            shard.sweep(now);
            match shard.get_mut().filter(|c| c.1 > now) {
                Some(c) => {
                    c.0 = c.0.saturating_add(1);
                    c.0
                }
                None => {
                    shard.insert((1, window_end));
                    1
                }
            }
        };
        self.sweep_next(now);
        Ok(hits)
    }

    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32> {
        Ok(self.counters.lock(key).live(now).map_or(0, |c| c.0))
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.counters.lock(key).remove();
        Ok(())
    }
}

mod access;
mod factors;
mod federation;
mod flows;
mod people;
mod registry;
mod shards;
#[cfg(test)]
mod tests;
