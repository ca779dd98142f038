//! The second-factor part of the store contract (SPEC.md section 11):
//! credentials that change as they are used (a TOTP step, a passkey's
//! counter), that are spent (a recovery code), or that change together with
//! the person's record (adding or removing a factor moves the epoch on),
//! and the ceremonies in progress.

use std::collections::HashSet;

use async_trait::async_trait;

use super::{StoreError, StoreResult};
use crate::domain::{Ceremony, Credential, Identifier, User};

/// Factors and ceremonies. Reads treat an item past its `expires_at` as
/// absent.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Replaces `before` with `after` (the same person and key) only if the
    /// stored credential still equals `before`, in one conditional write:
    /// `false` if it changed since it was read or is gone, and then nothing
    /// changes. Of concurrent calls with the same `before`, exactly one
    /// gets `true`. `before` and `after` of another person or key are a
    /// `Backend` error.
    async fn replace_credential(&self, before: &Credential, after: &Credential) -> StoreResult<bool>;
    /// Removes the person's credential with `key` (`<kind>:<id>`), in one
    /// conditional write: `true` if this call removed it, `false` if there
    /// was none. Of concurrent calls, exactly one gets `true` (spending a
    /// recovery code).
    async fn delete_credential(&self, sub: &str, key: &str) -> StoreResult<bool>;
    /// Replaces the person's record, stores the credentials `put` (the
    /// person's, replacing any under their keys) and removes those with the
    /// keys `delete`, all at once, and only if the stored epoch is still
    /// `read_epoch` (a record without one counts as epoch 0). When the
    /// record names a [`User::passkey_user`], its [`Identifier::Passkey`]
    /// is pointed at the person in the same write (the first passkey's
    /// enrolment sets it). `Conflict` if the epoch moved on, a credential
    /// to delete is gone or someone else has the passkey identifier;
    /// `NotFound` if there is no such person in the current records; then
    /// nothing changes. A credential of someone else in `put`, or a key
    /// named twice across `put` and `delete`, is a `Backend` error.
    async fn change_factors(
        &self,
        person: &User,
        read_epoch: i64,
        put: &[Credential],
        delete: &[String],
    ) -> StoreResult<()>;
    /// Stores a ceremony under its handle digest, replacing one there.
    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()>;
    /// Takes the ceremony with this handle digest: removes it and returns
    /// it, in one conditional write, unless it expired (`expires_at <=
    /// now`), when it is `None` and stays unreturned. Of concurrent calls
    /// exactly one gets it; the others, and every later call, get `None`.
    async fn take_ceremony(&self, handle: &str, now: i64) -> StoreResult<Option<Ceremony>>;
}

/// Refuses a replacement whose two credentials are not one person's one key.
pub(super) fn same_credential(before: &Credential, after: &Credential) -> StoreResult<()> {
    if before.sub == after.sub && before.key() == after.key() {
        return Ok(());
    }
    Err(StoreError::Backend("a credential can be replaced only by one of the same person and key".into()))
}

/// Refuses a factor change that writes another person's credential or
/// names one key twice (DynamoDB refuses two writes of one item in a
/// transaction; the other stores refuse it alike).
pub(super) fn well_formed_change(person: &User, put: &[Credential], delete: &[String]) -> StoreResult<()> {
    if put.iter().any(|c| c.sub != person.sub) {
        return Err(StoreError::Backend("a factor change may store only the person's credentials".into()));
    }
    let mut keys = HashSet::new();
    let all = put.iter().map(Credential::key).chain(delete.iter().cloned());
    if all.into_iter().all(|k| keys.insert(k)) {
        Ok(())
    } else {
        Err(StoreError::Backend("a factor change names one credential twice".into()))
    }
}

/// The passkey identifier the person's record names, if any.
pub(super) fn passkey_identifier(person: &User) -> Option<Identifier> {
    person.passkey_user.as_ref().map(|h| Identifier::Passkey(h.clone()))
}
