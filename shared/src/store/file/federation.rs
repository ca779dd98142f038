//! Upstream providers (`providers`, by id) and sign-in states through them
//! (`upstream_states`, by state digest) on the file store. Spending a state
//! reads, checks and deletes it in one `BEGIN IMMEDIATE` transaction, so of
//! concurrent attempts exactly one gets it.

use async_trait::async_trait;

use super::{FileStore, PROVIDERS, Put, UPSTREAM_STATES, atomically, delete, get, list, put};
use crate::domain::{Provider, UpstreamState};
use crate::store::{FederationStore, StoreError, StoreResult};

#[async_trait]
impl FederationStore for FileStore {
    async fn create_provider(&self, provider: &Provider) -> StoreResult<()> {
        put(&self.lock(), PROVIDERS, &provider.id, None, provider, Put::New)
            .map_err(|e| conflict_named(e, &provider.id))
    }

    async fn get_provider(&self, id: &str) -> StoreResult<Option<Provider>> {
        get(&self.lock(), PROVIDERS, id, None)
    }

    async fn list_providers(&self) -> StoreResult<Vec<Provider>> {
        list(&self.lock(), PROVIDERS)
    }

    async fn update_provider(&self, provider: &Provider) -> StoreResult<()> {
        put(&self.lock(), PROVIDERS, &provider.id, None, provider, Put::Existing).map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::NotFound(format!("provider {}", provider.id)),
            other => other,
        })
    }

    async fn delete_provider(&self, id: &str) -> StoreResult<bool> {
        delete(&self.lock(), PROVIDERS, id)
    }

    async fn put_upstream_state(&self, state: &UpstreamState) -> StoreResult<()> {
        atomically(self, state.created_at, |c| {
            put(c, UPSTREAM_STATES, &state.state, Some(state.expires_at), state, Put::Any)
                .map(|()| ((), true))
        })
    }

    async fn take_upstream_state(
        &self,
        state: &str,
        binding: &str,
        now: i64,
    ) -> StoreResult<Option<UpstreamState>> {
        atomically(self, now, |c| {
            let found = get::<UpstreamState>(c, UPSTREAM_STATES, state, Some(now))?
                .filter(|s| crate::crypto::ct_eq(&s.binding, binding));
            match found {
                Some(s) => delete(c, UPSTREAM_STATES, state).map(|_| (Some(s), true)),
                None => Ok((None, false)),
            }
        })
    }
}

fn conflict_named(e: StoreError, id: &str) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("provider {id}")),
        other => other,
    }
}
