//! The self-service part of the store contract (SPEC.md section 11).

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::{Challenge, ChallengeKind, Flow, Proof};

/// Self-service flows and the challenges they mail (SPEC.md section 11).
/// Reads treat an item past its `expires_at` as absent.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Stores a flow under its handle digest, replacing one there.
    async fn put_flow(&self, flow: &Flow) -> StoreResult<()>;
    /// The flow with this handle digest.
    async fn get_flow(&self, handle: &str, now: i64) -> StoreResult<Option<Flow>>;
    /// Removes a flow; a missing one is not an error.
    async fn delete_flow(&self, handle: &str) -> StoreResult<()>;
    /// Stores a challenge, replacing the person's earlier one of its kind
    /// (whose code and link then stop working).
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// Spends the person's live challenge of `kind` if `proof` matches it
    /// ([`Challenge::accepts`]), in one conditional write, and returns it.
    /// `None` when there is none, it expired or the proof does not match;
    /// then nothing changes. Of concurrent calls with a matching proof
    /// exactly one gets the challenge.
    async fn consume_challenge(
        &self,
        sub: &str,
        kind: ChallengeKind,
        proof: &Proof<'_>,
        now: i64,
    ) -> StoreResult<Option<Challenge>>;
    /// Removes the person's challenge of `kind` (a burnt code); a missing
    /// one is not an error.
    async fn delete_challenge(&self, sub: &str, kind: ChallengeKind) -> StoreResult<()>;
}
