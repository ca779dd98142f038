//! Second factors on the file store: credentials in `credentials` (by
//! `<sub>|<kind>:<id>`, as in `people.rs`), ceremonies in `ceremonies` (by
//! handle digest, with their `expires_at`). A replacement and a factor
//! change read, check and write in one `BEGIN IMMEDIATE` transaction; a
//! credential is spent and a ceremony taken by one `DELETE`, so of
//! concurrent attempts exactly one removes the row.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::people::{claim, credential_row, owns};
use super::{CEREMONIES, CREDENTIALS, FileStore, PEOPLE, Put, atomically, backend, delete, get, put};
use crate::domain::{Ceremony, Credential, User};
use crate::store::factors::{passkey_identifier, same_credential, well_formed_change};
use crate::store::{FactorStore, StoreError, StoreResult};

#[async_trait]
impl FactorStore for FileStore {
    async fn replace_credential(&self, before: &Credential, after: &Credential) -> StoreResult<bool> {
        same_credential(before, after)?;
        let id = credential_row(&before.sub, &before.key());
        atomically(self, after.created_at, |c| {
            if get::<Credential>(c, CREDENTIALS, &id, None)?.as_ref() != Some(before) {
                return Ok((false, false));
            }
            put(c, CREDENTIALS, &id, None, after, Put::Existing)?;
            Ok((true, true))
        })
    }

    async fn delete_credential(&self, sub: &str, key: &str) -> StoreResult<bool> {
        delete(&self.lock(), CREDENTIALS, &credential_row(sub, key))
    }

    async fn change_factors(
        &self,
        person: &User,
        read_epoch: i64,
        put_creds: &[Credential],
        delete_keys: &[String],
    ) -> StoreResult<()> {
        well_formed_change(person, put_creds, delete_keys)?;
        let sub = person.sub.as_str();
        // Any error below returns before the commit: nothing is written.
        atomically(self, person.created_at, |c| {
            match get::<User>(c, PEOPLE, sub, None)? {
                None => return Err(StoreError::NotFound(format!("person {sub}"))),
                Some(stored) if stored.epoch != read_epoch => {
                    return Err(StoreError::Conflict(format!("person {sub} changed")));
                }
                Some(_) => {}
            }
            for key in delete_keys {
                if !delete(c, CREDENTIALS, &credential_row(sub, key))? {
                    return Err(StoreError::Conflict(format!("credential {key} is gone")));
                }
            }
            if let Some(id) = passkey_identifier(person)
                && !owns(c, &id, sub)?
            {
                claim(c, &id, sub)?;
            }
            for cred in put_creds {
                put(c, CREDENTIALS, &credential_row(sub, &cred.key()), None, cred, Put::Any)?;
            }
            put(c, PEOPLE, sub, None, person, Put::Existing)?;
            Ok(((), true))
        })
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        // No creation time to sweep by: the sweep runs at the ceremony's
        // expiry less an hour, never later than now for a ceremony of minutes.
        let swept_at = ceremony.expires_at.saturating_sub(3_600);
        atomically(self, swept_at, |c| {
            put(c, CEREMONIES, &ceremony.handle, Some(ceremony.expires_at), ceremony, Put::Any)
                .map(|()| ((), true))
        })
    }

    async fn take_ceremony(&self, handle: &str, now: i64) -> StoreResult<Option<Ceremony>> {
        let sql = format!("DELETE FROM {CEREMONIES} WHERE id = ?1 AND expires_at > ?2 RETURNING body");
        let body: Option<String> =
            self.lock().query_row(&sql, params![handle, now], |r| r.get(0)).optional().map_err(backend)?;
        body.map(|b| {
            serde_json::from_str(&b)
                .map_err(|e| StoreError::Backend(format!("a {CEREMONIES} row is malformed: {e}")))
        })
        .transpose()
    }
}
