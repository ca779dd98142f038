//! The embedded in-process store: the zero-setup default of `zeroauth serve`.
//! One mutex guards every map, so each method is atomic as the contract asks.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    ClientStore, CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, StoreError, StoreResult,
    ThrottleStore, TokenStore, UserStore, redemption_verdict, rotation_verdict,
};
use crate::domain::{AccessTokenRecord, Client, CodeRecord, Grant, Redemption, User};

#[derive(Default)]
struct Tables {
    clients: BTreeMap<String, Client>,
    users: BTreeMap<String, User>,
    codes: HashMap<String, CodeRecord>,
    grants: HashMap<String, Grant>,
    access: HashMap<String, AccessTokenRecord>,
    counters: HashMap<String, (u32, i64)>,
}

/// An in-memory [`Store`](super::Store); its contents die with the process.
#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
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

fn live<T>(item: Option<&T>, expires_at: impl Fn(&T) -> i64, now: i64) -> Option<&T> {
    item.filter(|i| expires_at(i) > now)
}

#[async_trait]
impl ClientStore for MemoryStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let mut t = self.lock();
        if t.clients.contains_key(&client.client_id) {
            return Err(StoreError::Conflict(format!("client {}", client.client_id)));
        }
        t.clients.insert(client.client_id.clone(), client.clone());
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        Ok(self.lock().clients.get(client_id).cloned())
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        Ok(self.lock().clients.values().cloned().collect())
    }

    async fn update_client(&self, client: &Client) -> StoreResult<()> {
        match self.lock().clients.get_mut(&client.client_id) {
            Some(slot) => {
                *slot = client.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("client {}", client.client_id))),
        }
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        Ok(self.lock().clients.remove(client_id).is_some())
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        let mut t = self.lock();
        if t.users.contains_key(&user.username) {
            return Err(StoreError::Conflict(format!("user {}", user.username)));
        }
        t.users.insert(user.username.clone(), user.clone());
        Ok(())
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(username).cloned())
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        Ok(self.lock().users.values().cloned().collect())
    }

    async fn update_user(&self, user: &User) -> StoreResult<()> {
        match self.lock().users.get_mut(&user.username) {
            Some(slot) => {
                *slot = user.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("user {}", user.username))),
        }
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        Ok(self.lock().users.remove(username).is_some())
    }
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        self.lock().codes.insert(code.digest.clone(), code.clone());
        Ok(())
    }

    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>> {
        Ok(live(self.lock().codes.get(digest), |c| c.expires_at, now).cloned())
    }

    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome> {
        let mut t = self.lock();
        let Some(code) = t.codes.get_mut(digest).filter(|c| c.expires_at > now) else {
            return Ok(ConsumeOutcome::Invalid);
        };
        if let Some(verdict) = redemption_verdict(code, issuance, now) {
            return Ok(verdict);
        }
        code.redeemed = Some(Redemption {
            grant_id: issuance.grant.grant_id.clone(),
            consume_id: issuance.consume_id.clone(),
        });
        t.grants.insert(issuance.grant.grant_id.clone(), issuance.grant.clone());
        t.access.insert(issuance.access.digest.clone(), issuance.access.clone());
        Ok(ConsumeOutcome::Consumed)
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        self.lock().access.insert(token.digest.clone(), token.clone());
        Ok(())
    }

    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>> {
        Ok(live(self.lock().access.get(digest), |a| a.expires_at, now).cloned())
    }

    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>> {
        Ok(live(self.lock().grants.get(grant_id), |g| g.expires_at, now).cloned())
    }

    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome> {
        let mut t = self.lock();
        let Some(grant) = t.grants.get_mut(grant_id).filter(|g| g.expires_at > now) else {
            return Ok(RotateOutcome::Invalid);
        };
        if let Some(verdict) = rotation_verdict(grant, rotation, now) {
            return Ok(verdict);
        }
        grant.refresh_digest = Some(rotation.new_digest.clone());
        grant.retired_digests = rotation.retired.clone();
        grant.refresh_expires_at = rotation.new_refresh_expires_at;
        grant.expires_at = grant.expires_at.max(rotation.new_refresh_expires_at);
        t.access.insert(rotation.access.digest.clone(), rotation.access.clone());
        Ok(RotateOutcome::Rotated)
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()> {
        if let Some(g) = self.lock().grants.get_mut(grant_id) {
            g.revoked = true;
        }
        Ok(())
    }

    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()> {
        self.lock().access.remove(digest);
        Ok(())
    }
}

#[async_trait]
impl ThrottleStore for MemoryStore {
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32> {
        let mut t = self.lock();
        let entry = t.counters.entry(key.to_owned()).or_insert((0, window_end));
        if entry.1 <= now {
            *entry = (0, window_end);
        }
        entry.0 = entry.0.saturating_add(1);
        Ok(entry.0)
    }

    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32> {
        Ok(live(self.lock().counters.get(key), |c| c.1, now).map_or(0, |c| c.0))
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.lock().counters.remove(key);
        Ok(())
    }
}
