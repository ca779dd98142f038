//! Self-service flows and their challenges, in memory: two sharded maps of
//! expiring items like the codes' (`shards.rs`). Spending a challenge
//! checks and removes it under its shard's lock, so it is one atomic step
//! as the contract asks; expired items are absent to reads.

use async_trait::async_trait;

use super::MemoryStore;
use super::shards::Expires;
use crate::domain::{Challenge, ChallengeKind, Flow, Proof};
use crate::store::{FlowStore, StoreResult};

impl Expires for Flow {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}
impl Expires for Challenge {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

/// The key of a person's challenge of `kind`: no kind's name holds `#`, so
/// the text after the last one names the kind and two pairs never share a key.
fn challenge_key(sub: &str, kind: ChallengeKind) -> String {
    format!("{sub}#{}", kind.as_str())
}

#[async_trait]
impl FlowStore for MemoryStore {
    async fn put_flow(&self, flow: &Flow) -> StoreResult<()> {
        {
            let mut shard = self.flows.lock(&flow.handle);
            shard.sweep(flow.created_at);
            shard.insert(flow.clone());
        }
        self.sweep_next(flow.created_at);
        Ok(())
    }

    async fn get_flow(&self, handle: &str, now: i64) -> StoreResult<Option<Flow>> {
        Ok(self.flows.lock(handle).live(now).cloned())
    }

    async fn delete_flow(&self, handle: &str) -> StoreResult<()> {
        self.flows.lock(handle).remove();
        Ok(())
    }

    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let key = challenge_key(&challenge.sub, challenge.kind);
        {
            let mut shard = self.challenges.lock(&key);
            shard.sweep(challenge.created_at);
            shard.insert(challenge.clone());
        }
        self.sweep_next(challenge.created_at);
        Ok(())
    }

    async fn consume_challenge(
        &self,
        sub: &str,
        kind: ChallengeKind,
        proof: &Proof<'_>,
        now: i64,
    ) -> StoreResult<Option<Challenge>> {
        let key = challenge_key(sub, kind);
        let mut shard = self.challenges.lock(&key);
        let Some(challenge) = shard.live(now).filter(|c| c.accepts(proof)).cloned() else {
            return Ok(None);
        };
        shard.remove();
        Ok(Some(challenge))
    }

    async fn delete_challenge(&self, sub: &str, kind: ChallengeKind) -> StoreResult<()> {
        self.challenges.lock(&challenge_key(sub, kind)).remove();
        Ok(())
    }
}
