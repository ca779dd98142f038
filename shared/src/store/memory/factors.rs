//! Second factors in memory: credentials are changed, spent and replaced
//! with the person's record under the people mutex (`people.rs`), so each
//! method is one atomic step; ceremonies sit in a sharded map of expiring
//! items (`shards.rs`) and are taken by a check and removal under their
//! shard's lock, so of concurrent takes exactly one gets the ceremony.

use async_trait::async_trait;

use super::MemoryStore;
use super::shards::Expires;
use crate::domain::{Ceremony, Credential, User};
use crate::store::factors::{passkey_identifier, same_credential, well_formed_change};
use crate::store::{FactorStore, StoreError, StoreResult};

impl Expires for Ceremony {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

#[async_trait]
impl FactorStore for MemoryStore {
    async fn replace_credential(&self, before: &Credential, after: &Credential) -> StoreResult<bool> {
        same_credential(before, after)?;
        let mut p = self.people();
        let Some(slot) = p.credentials.get_mut(&before.sub).and_then(|m| m.get_mut(&before.key())) else {
            return Ok(false);
        };
        if slot != before {
            return Ok(false);
        }
        *slot = after.clone();
        Ok(true)
    }

    async fn delete_credential(&self, sub: &str, key: &str) -> StoreResult<bool> {
        let mut p = self.people();
        Ok(p.credentials.get_mut(sub).is_some_and(|m| m.remove(key).is_some()))
    }

    async fn change_factors(
        &self,
        person: &User,
        read_epoch: i64,
        put: &[Credential],
        delete: &[String],
    ) -> StoreResult<()> {
        well_formed_change(person, put, delete)?;
        let mut p = self.people();
        let sub = person.sub.as_str();
        match p.people.get(sub) {
            None => return Err(StoreError::NotFound(format!("person {sub}"))),
            Some(stored) if stored.epoch != read_epoch => {
                return Err(StoreError::Conflict(format!("person {sub} changed")));
            }
            Some(_) => {}
        }
        let held = p.credentials.get(sub);
        if let Some(gone) = delete.iter().find(|k| !held.is_some_and(|m| m.contains_key(*k))) {
            return Err(StoreError::Conflict(format!("credential {gone} is gone")));
        }
        let passkey = passkey_identifier(person);
        if let Some(id) = &passkey
            && p.identifiers.get(&id.key()).is_some_and(|owner| owner != sub)
        {
            return Err(StoreError::Conflict(id.key()));
        }
        // Every check passed: the writes cannot fail half-way.
        if let Some(id) = passkey {
            p.identifiers.insert(id.key(), sub.to_owned());
        }
        let creds = p.credentials.entry(sub.to_owned()).or_default();
        for key in delete {
            creds.remove(key);
        }
        for c in put {
            creds.insert(c.key(), c.clone());
        }
        p.people.insert(sub.to_owned(), person.clone());
        Ok(())
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        // A ceremony holds no creation time: its expiry is a few minutes
        // ahead, so sweeping at a time that far back removes nothing live.
        let now = ceremony.expires_at.saturating_sub(CEREMONY_LIFETIME);
        {
            let mut shard = self.ceremonies.lock(&ceremony.handle);
            shard.sweep(now);
            shard.insert(ceremony.clone());
        }
        self.sweep_next(now);
        Ok(())
    }

    async fn take_ceremony(&self, handle: &str, now: i64) -> StoreResult<Option<Ceremony>> {
        let mut shard = self.ceremonies.lock(handle);
        let Some(found) = shard.live(now).cloned() else {
            return Ok(None);
        };
        shard.remove();
        Ok(Some(found))
    }
}

/// The longest a ceremony is expected to live (WebAuthn asks for at most
/// five minutes; a TOTP enrolment may take longer to type): a put sweeps
/// what expired by its expiry less this, which is never later than now.
const CEREMONY_LIFETIME: i64 = 3_600;
