//! The federation part of the store contract (SPEC.md section 11): the
//! upstream providers an operator configured, and the single-use state of
//! a sign-in through one.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::{Provider, UpstreamState};

/// Upstream providers and sign-ins through them in progress. Reads treat
/// a state past its `expires_at` as absent.
#[async_trait]
pub trait FederationStore: Send + Sync {
    /// Stores a new provider; `Conflict` if its id is taken.
    async fn create_provider(&self, provider: &Provider) -> StoreResult<()>;
    /// The provider with this id.
    async fn get_provider(&self, id: &str) -> StoreResult<Option<Provider>>;
    /// Every provider, ordered by id.
    async fn list_providers(&self) -> StoreResult<Vec<Provider>>;
    /// Replaces an existing provider; `NotFound` if there is none.
    async fn update_provider(&self, provider: &Provider) -> StoreResult<()>;
    /// Deletes a provider; whether it existed.
    async fn delete_provider(&self, id: &str) -> StoreResult<bool>;
    /// Stores the state of a sign-in just sent to a provider.
    async fn put_upstream_state(&self, state: &UpstreamState) -> StoreResult<()>;
    /// Spends the live state under the digest `state` if it is bound to
    /// `binding` (the digest of this browser's cookie), in one conditional
    /// write, and returns it. `None` when there is none, it expired, or it
    /// belongs to another browser; then nothing changes. Of concurrent calls
    /// exactly one gets it.
    async fn take_upstream_state(
        &self,
        state: &str,
        binding: &str,
        now: i64,
    ) -> StoreResult<Option<UpstreamState>>;
}
