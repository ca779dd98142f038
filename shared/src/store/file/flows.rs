//! Self-service flows (`flows`, by handle digest) and challenges
//! (`challenges`, by `<sub>|<kind>`) on the file store. Spending a
//! challenge reads, checks and deletes it in one `BEGIN IMMEDIATE`
//! transaction, so of concurrent attempts exactly one gets it.

use async_trait::async_trait;

use super::{CHALLENGES, FLOWS, FileStore, Put, atomically, delete, get, put};
use crate::domain::{Challenge, ChallengeKind, Flow, Proof};
use crate::store::{FlowStore, StoreResult};

/// The row id of a person's challenge of `kind`.
fn challenge_id(sub: &str, kind: ChallengeKind) -> String {
    format!("{sub}|{}", kind.as_str())
}

#[async_trait]
impl FlowStore for FileStore {
    async fn put_flow(&self, flow: &Flow) -> StoreResult<()> {
        atomically(self, flow.created_at, |c| {
            put(c, FLOWS, &flow.handle, Some(flow.expires_at), flow, Put::Any).map(|()| ((), true))
        })
    }

    async fn get_flow(&self, handle: &str, now: i64) -> StoreResult<Option<Flow>> {
        get(&self.lock(), FLOWS, handle, Some(now))
    }

    async fn delete_flow(&self, handle: &str) -> StoreResult<()> {
        delete(&self.lock(), FLOWS, handle).map(|_| ())
    }

    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        let id = challenge_id(&challenge.sub, challenge.kind);
        atomically(self, challenge.created_at, |c| {
            put(c, CHALLENGES, &id, Some(challenge.expires_at), challenge, Put::Any).map(|()| ((), true))
        })
    }

    async fn consume_challenge(
        &self,
        sub: &str,
        kind: ChallengeKind,
        proof: &Proof<'_>,
        now: i64,
    ) -> StoreResult<Option<Challenge>> {
        let id = challenge_id(sub, kind);
        atomically(self, now, |c| {
            match get::<Challenge>(c, CHALLENGES, &id, Some(now))?.filter(|ch| ch.accepts(proof)) {
                Some(challenge) => delete(c, CHALLENGES, &id).map(|_| (Some(challenge), true)),
                None => Ok((None, false)),
            }
        })
    }

    async fn delete_challenge(&self, sub: &str, kind: ChallengeKind) -> StoreResult<()> {
        delete(&self.lock(), CHALLENGES, &challenge_id(sub, kind)).map(|_| ())
    }
}
