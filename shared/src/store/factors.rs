//! The second-factor part of the store contract (SPEC.md section 11):
//! credentials that change as they are used (a TOTP step, a passkey's
//! counter), that are spent (a recovery code), or that change together with
//! the person's record (adding or removing a factor moves the epoch on),
//! and the ceremonies in progress.

use async_trait::async_trait;

use super::{StoreError, StoreResult};
use crate::domain::{Ceremony, Credential, User};

/// Factors and ceremonies. Reads treat an item past its `expires_at` as
/// absent.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Replaces `before` with `after` (the same person and key) only if the
    /// stored credential still equals `before`, in one conditional write:
    /// `false` if it changed since it was read or is gone, and then nothing
    /// changes. Of concurrent calls with the same `before`, one wins.
    async fn replace_credential(&self, before: &Credential, after: &Credential) -> StoreResult<bool> {
        let _ = (before, after);
        Err(StoreError::Backend("replace_credential is not implemented by this store".into()))
    }
    /// Removes the person's credential with `key` (`<kind>:<id>`), in one
    /// conditional write: `true` if this call removed it, `false` if there
    /// was none. Of concurrent calls, one gets `true` (spending a recovery
    /// code).
    async fn delete_credential(&self, sub: &str, key: &str) -> StoreResult<bool> {
        let _ = (sub, key);
        Err(StoreError::Backend("delete_credential is not implemented by this store".into()))
    }
    /// Replaces the person's record, stores the credentials `put` and
    /// removes those with the keys `delete`, all at once, and only if the
    /// stored epoch is still `read_epoch`: `Conflict` if it moved on (or a
    /// credential to delete is gone), `NotFound` if there is no such
    /// person; then nothing changes.
    async fn change_factors(
        &self,
        person: &User,
        read_epoch: i64,
        put: &[Credential],
        delete: &[String],
    ) -> StoreResult<()> {
        let _ = (person, read_epoch, put, delete);
        Err(StoreError::Backend("change_factors is not implemented by this store".into()))
    }
    /// Stores a ceremony under its handle digest.
    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        let _ = ceremony;
        Err(StoreError::Backend("put_ceremony is not implemented by this store".into()))
    }
    /// Takes the ceremony with this handle digest: removes it and returns
    /// it, in one conditional write, unless it expired. Of concurrent calls
    /// one gets it; the others, and every later call, get `None`.
    async fn take_ceremony(&self, handle: &str, now: i64) -> StoreResult<Option<Ceremony>> {
        let _ = (handle, now);
        Err(StoreError::Backend("take_ceremony is not implemented by this store".into()))
    }
}
