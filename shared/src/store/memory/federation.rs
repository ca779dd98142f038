//! Upstream providers (with the other registered things, behind the tables'
//! mutex) and sign-in states through them (a sharded map of expiring items,
//! spent under their shard's lock), in memory.

use async_trait::async_trait;

use super::MemoryStore;
use super::shards::Expires;
use crate::domain::{Provider, UpstreamState};
use crate::store::{FederationStore, StoreError, StoreResult};

impl Expires for UpstreamState {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

#[async_trait]
impl FederationStore for MemoryStore {
    async fn create_provider(&self, provider: &Provider) -> StoreResult<()> {
        let mut t = self.lock();
        if t.providers.contains_key(&provider.id) {
            return Err(StoreError::Conflict(format!("provider {}", provider.id)));
        }
        t.providers.insert(provider.id.clone(), provider.clone());
        Ok(())
    }

    async fn get_provider(&self, id: &str) -> StoreResult<Option<Provider>> {
        Ok(self.lock().providers.get(id).cloned())
    }

    async fn list_providers(&self) -> StoreResult<Vec<Provider>> {
        Ok(self.lock().providers.values().cloned().collect())
    }

    async fn update_provider(&self, provider: &Provider) -> StoreResult<()> {
        match self.lock().providers.get_mut(&provider.id) {
            Some(slot) => {
                *slot = provider.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("provider {}", provider.id))),
        }
    }

    async fn delete_provider(&self, id: &str) -> StoreResult<bool> {
        Ok(self.lock().providers.remove(id).is_some())
    }

    async fn put_upstream_state(&self, state: &UpstreamState) -> StoreResult<()> {
        {
            let mut shard = self.upstream.lock(&state.state);
            shard.sweep(state.created_at);
            shard.insert(state.clone());
        }
        self.sweep_next(state.created_at);
        Ok(())
    }

    async fn take_upstream_state(
        &self,
        state: &str,
        binding: &str,
        now: i64,
    ) -> StoreResult<Option<UpstreamState>> {
        let mut shard = self.upstream.lock(state);
        let Some(found) = shard.live(now).filter(|s| crate::crypto::ct_eq(&s.binding, binding)).cloned()
        else {
            return Ok(None);
        };
        shard.remove();
        Ok(Some(found))
    }
}
