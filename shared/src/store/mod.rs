//! Storage: narrow traits whose doc comments are their contract, and the
//! implementations that honour it: [`memory::MemoryStore`],
//! [`dynamodb::DynamoStore`] and (feature `file-store`) `file::FileStore`.
//! All pass one test suite.
//!
//! Every method that reads takes `now` (epoch seconds) and treats an item
//! whose `expires_at <= now` as absent, whether or not it still exists:
//! DynamoDB's TTL deletes items hours or days late.

use async_trait::async_trait;

use crate::domain::{
    AccessTokenRecord, ApiKey, Client, CodeRecord, Credential, CredentialKind, Grant, Identifier,
    LastRotation, Resource, User,
};

pub mod dynamodb;
mod factors;
mod federation;
#[cfg(feature = "file-store")]
pub mod file;
mod flows;
pub mod memory;
mod verdicts;

pub use factors::FactorStore;
pub use federation::FederationStore;
pub use flows::FlowStore;
pub use verdicts::access_token_is_live;
pub(crate) use verdicts::{redemption_verdict, rotation_verdict};

/// Storage failures. `Conflict` and `NotFound` are the caller's to map to an
/// OAuth or CLI error; `Backend` is a server fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An item with that key already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// No such item.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The backend is briefly unavailable (throttling, a timeout, a dropped
    /// connection, a 5xx) even after the SDK's bounded retries: worth trying
    /// again in a moment.
    #[error("storage briefly unavailable: {0}")]
    Unavailable(String),
    /// The backend failed in a way a retry will not fix (a malformed item,
    /// a refused request).
    #[error("storage failed: {0}")]
    Backend(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Registered clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Stores a new client and its id aliases (`dialect.client_id_aliases`)
    /// at once: ids and aliases share one name space, and if the id or any
    /// alias is taken, nothing is written and the result is `Conflict`.
    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    /// The client with this id or id alias, if registered.
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// Every client (never an alias), ordered by id.
    async fn list_clients(&self) -> StoreResult<Vec<Client>>;
    /// Replaces an existing client; `NotFound` if it was never created. Its
    /// id aliases stay those it was created with.
    async fn update_client(&self, client: &Client) -> StoreResult<()>;
    /// Deletes the client (named by id or alias) and its aliases; `false`
    /// if there was none.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
}

/// People, the identifiers that find them and their credentials (SPEC.md
/// section 10). A person is keyed by `sub`; each identifier is its own
/// unique item pointing at the `sub`, written in the same transaction as
/// the person.
///
/// A table written by an earlier release keeps people under their username
/// (a *legacy* record, holding the password too). Reads that name the
/// username find such a person; [`PeopleStore::sign_in_lookup`] moves them
/// to the new records as they sign in, and [`PeopleStore::migrate_legacy`]
/// moves everyone at once.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// Stores a new person with their identifiers ([`User::identifiers`])
    /// and `credentials`, all or nothing: if the `sub` or an identifier is
    /// taken (by a new or a legacy record), nothing is written and the result
    /// is `Conflict`.
    async fn create_person(&self, person: &User, credentials: &[Credential]) -> StoreResult<()>;
    /// The person with this `sub`. `legacy_username` is the username a
    /// record of an earlier release names them by: a person still kept in
    /// the old shape is found through it (and only if the `sub` matches).
    async fn get_person(&self, sub: &str, legacy_username: Option<&str>) -> StoreResult<Option<User>>;
    /// The `sub` an identifier points at.
    async fn find_identifier(&self, id: &Identifier) -> StoreResult<Option<String>>;
    /// What a sign-in by `id` needs: the person and their credentials of
    /// `kind`, in as few round trips as the store can. A legacy person is
    /// moved to the new records first (if that fails, they are still
    /// returned, and moved at a later sign-in).
    async fn sign_in_lookup(
        &self,
        id: &Identifier,
        kind: CredentialKind,
    ) -> StoreResult<Option<(User, Vec<Credential>)>>;
    /// The person's credentials of `kind`.
    async fn get_credentials(&self, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>>;
    /// Every person (legacy ones included), ordered by `sub`.
    async fn list_people(&self) -> StoreResult<Vec<User>>;
    /// Replaces an existing person's record, and stores `credential` with it
    /// when given, at once; `NotFound` if there is no such person. Never
    /// changes identifiers: [`PeopleStore::rename_person`] does.
    async fn update_person(&self, person: &User, credential: Option<&Credential>) -> StoreResult<()>;
    /// Stores (or replaces) one credential of an existing person.
    async fn put_credential(&self, credential: &Credential) -> StoreResult<()>;
    /// Moves one of the person's identifiers: `from` (which must point at
    /// `person.sub`) is removed, `to` (one of `person.identifiers()`) added
    /// and the person's record replaced, all at once. A rename passes the
    /// old and new username, an email change the old and new address.
    /// `Conflict` if `to` is taken; `NotFound` if `from` is not the person's.
    /// With `from == to` only the record is replaced.
    async fn rename_person(&self, person: &User, from: &Identifier, to: &Identifier) -> StoreResult<()>;
    /// Deletes the person (as read, so a legacy one is found too), their
    /// identifiers and their credentials; `false` if there was none. An
    /// identifier of theirs that no item backs (an address set by an
    /// earlier release) or that points at someone else is left alone.
    async fn delete_person(&self, person: &User) -> StoreResult<bool>;
    /// Points `id` at `sub` if no one has it: `true` if it is the person's
    /// now (already or newly), `false` if someone else has it. For
    /// identifiers a person's record names but no item backs (an address
    /// set by an earlier release): `zeroauth table migrate` claims them.
    async fn claim_identifier(&self, sub: &str, id: &Identifier) -> StoreResult<bool>;
    /// Points `id` at the person and replaces their record (which now lists
    /// it), and removes their credential `drop` (a `password:password` key)
    /// if given, all at once: linking an upstream identity. The record is
    /// replaced only if its stored epoch is still `read_epoch` (no sign-out,
    /// reset or disabling since it was read). `Conflict` if someone else has
    /// `id` or the record changed; `NotFound` if there is no such person in
    /// the current records.
    async fn link_identifier(
        &self,
        person: &User,
        id: &Identifier,
        read_epoch: i64,
        drop: Option<&str>,
    ) -> StoreResult<()>;
    /// Moves every legacy person to the new records; idempotent and
    /// resumable (a moved person's legacy record is gone). Returns how many
    /// it moved. Stores that never held legacy records move none.
    async fn migrate_legacy(&self) -> StoreResult<usize> {
        Ok(0)
    }
}

/// What redeeming a code writes, all at once, if the code is still good.
#[derive(Debug, Clone)]
pub struct Issuance {
    /// Random id of this redemption attempt, recorded on the code.
    pub consume_id: String,
    /// The new grant (token family).
    pub grant: Grant,
    /// The first access token of the family; `None` when it is a JWT,
    /// which is not stored (its grant is).
    pub access: Option<AccessTokenRecord>,
}

/// The outcome of [`CodeStore::consume_code`].
#[derive(Debug, Clone, PartialEq)]
pub enum ConsumeOutcome {
    /// The code was good: it is now redeemed and the issuance is stored.
    Consumed,
    /// The code had already been redeemed (by another request): a replay.
    /// Carries the grant that the first redemption created.
    Replayed {
        /// The grant created by the first redemption.
        grant_id: String,
    },
    /// No such code, or it is past its validity.
    Invalid,
}

/// Authorization codes.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a freshly minted code.
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()>;

    /// The code record (redeemed or not) while it is retained, i.e. until its
    /// `expires_at`, which is later than its `valid_until`.
    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>>;

    /// Redeems a code in one atomic conditional write: the code must exist,
    /// be unredeemed and have `now < valid_until`. On success the code is
    /// marked redeemed with `issuance.grant`'s id and `issuance.consume_id`, and
    /// the grant and access token are stored — all or nothing.
    ///
    /// Of any number of concurrent calls for one code exactly one returns
    /// `Consumed`; the rest return `Replayed`. A retry of a write that had in
    /// fact succeeded (same `consume_id`) returns `Consumed`, never `Replayed`.
    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome>;
}

/// The outcome of [`TokenStore::rotate_refresh`].
#[derive(Debug, Clone, PartialEq)]
pub enum RotateOutcome {
    /// The presented token was current: it is retired and the new one stored.
    Rotated,
    /// The presented token was already rotated away: a reuse (RFC 9700 4.14).
    Reused,
    /// The grant does not exist, is revoked or expired, or the token was never its.
    Invalid,
}

/// A refresh-token rotation: the new refresh token and the access token issued with it.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// Digest of the presented (current) refresh token.
    pub presented_digest: String,
    /// Digest of the new refresh token.
    pub new_digest: String,
    /// The grant's retired digests after this rotation: the presented one and
    /// at most [`MAX_RETIRED`]` - 1` before it, so the grant's record stays small
    /// however long the chain grows. Computed from the grant as read; the
    /// rotation's condition guarantees nothing rotated it since.
    pub retired: Vec<String>,
    /// The new refresh token is valid until then.
    pub new_refresh_expires_at: i64,
    /// The new access token; `None` when it is a JWT.
    pub access: Option<AccessTokenRecord>,
    /// What the grant remembers of this rotation (refresh grace on), or
    /// nothing (off): the previous one is dropped either way.
    pub last: Option<LastRotation>,
    /// The grant's kept upstream token, sealed afresh under the new tokens
    /// (`federation::kept`), or nothing: the old copies are dropped either way.
    pub upstream: Option<String>,
}

/// How many rotated-away refresh tokens a grant remembers for reuse
/// detection. An older one presented again is still refused, but no longer
/// revokes the family.
pub const MAX_RETIRED: usize = 100;

/// The retired digests after retiring `presented`: the newest
/// [`MAX_RETIRED`], oldest first.
pub fn retire(retired: &[String], presented: &str) -> Vec<String> {
    let keep = retired.len().saturating_sub(MAX_RETIRED - 1);
    retired.iter().skip(keep).cloned().chain(std::iter::once(presented.to_owned())).collect()
}

/// Grants (token families) and access tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores an access token that belongs to no grant (`client_credentials`).
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()>;

    /// The access token while it is unexpired, whatever its grant's state.
    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>>;

    /// The access token if it is live: stored, unexpired, and — when it
    /// belongs to a grant — the grant exists and is not revoked. `grant_id` is
    /// the id embedded in the token, so both reads are one round trip.
    async fn find_access_token(
        &self,
        digest: &str,
        grant_id: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<AccessTokenRecord>> {
        let (at, grant) = tokio::join!(self.get_access_token(digest, now), async {
            match grant_id {
                Some(g) => self.get_grant(g, now).await,
                None => Ok(None),
            }
        });
        let Some(at) = at? else {
            return Ok(None);
        };
        let grant = if at.grant_id.is_some() { grant? } else { None };
        Ok(access_token_is_live(&at, grant_id, grant.as_ref()).then_some(at))
    }

    /// The grant while it is retained (revoked or not).
    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>>;

    /// Rotates the grant's refresh token in one conditional write: succeeds
    /// only if `rotation.presented_digest` is the current one, the grant is
    /// not revoked and `now < refresh_expires_at`. Two concurrent rotations of
    /// one token cannot both succeed. A presented digest found among the
    /// retired ones is `Reused` (the caller then revokes the family); a retry
    /// of a rotation that had in fact succeeded is `Rotated`.
    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome>;

    /// Revokes the grant and with it every token of the family. Revoking a
    /// missing grant does nothing and is not an error.
    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()>;

    /// Deletes one access token. Deleting a missing token is not an error.
    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()>;
}

/// Counters for throttling failed sign-ins.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Adds one to the counter `key` for the window that ends at
    /// `window_end` (the counter disappears then) and returns the new count.
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32>;
    /// The counter's value in its current window (0 when absent or expired).
    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32>;
    /// Resets the counter.
    async fn clear(&self, key: &str) -> StoreResult<()>;
}

/// Registered protected resources (RFC 8707).
#[async_trait]
pub trait ResourceStore: Send + Sync {
    /// Registers a resource; `Conflict` if its URI is taken.
    async fn create_resource(&self, resource: &Resource) -> StoreResult<()>;
    /// The resource with this canonical URI.
    async fn get_resource(&self, uri: &str) -> StoreResult<Option<Resource>>;
    /// Every resource.
    async fn list_resources(&self) -> StoreResult<Vec<Resource>>;
    /// Removes a resource; whether it existed.
    async fn delete_resource(&self, uri: &str) -> StoreResult<bool>;
}

/// API keys (SPEC.md section 9), by their public id.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; `Conflict` if its id is taken.
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()>;
    /// The key with this id, unless it has expired at `now` or was revoked.
    async fn get_api_key(&self, id: &str, now: i64) -> StoreResult<Option<ApiKey>>;
    /// Every live key, ordered by id.
    async fn list_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKey>>;
    /// Revokes (deletes) a key; whether it existed.
    async fn delete_api_key(&self, id: &str) -> StoreResult<bool>;
    /// Records a use at `at`; never brings back a revoked key.
    async fn touch_api_key(&self, id: &str, at: i64) -> StoreResult<()>;
}

/// Everything ZeroAuth stores.
pub trait Store:
    ClientStore
    + PeopleStore
    + CodeStore
    + TokenStore
    + ThrottleStore
    + ResourceStore
    + ApiKeyStore
    + FlowStore
    + FederationStore
    + FactorStore
{
}
impl<
    T: ClientStore
        + PeopleStore
        + CodeStore
        + TokenStore
        + ThrottleStore
        + ResourceStore
        + ApiKeyStore
        + FlowStore
        + FederationStore
        + FactorStore,
> Store for T
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_digests_keep_only_the_newest() {
        let mut retired: Vec<String> = Vec::new();
        for i in 0..250 {
            retired = retire(&retired, &format!("d{i}"));
        }
        assert_eq!(retired.len(), MAX_RETIRED);
        assert_eq!(retired.first().map(String::as_str), Some("d150"));
        assert_eq!(retired.last().map(String::as_str), Some("d249"));
        assert_eq!(retire(&[], "x"), vec!["x".to_owned()]);
    }
}
