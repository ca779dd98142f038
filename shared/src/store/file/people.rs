//! People on the file store: `people` by `sub`, `identifiers` by key
//! pointing at a `sub`, `credentials` by `<sub>|<kind>:<id>`. Each write is
//! one transaction.
//!
//! A file written by an earlier release kept people in `users`, by
//! username, with the password; [`move_legacy`] moves them when the file is
//! opened, all in one transaction, so this store never reads that shape.

use async_trait::async_trait;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::Deserialize;

use super::{
    CREDENTIALS, FileStore, IDENTIFIERS, PEOPLE, Put, USERS, atomically, backend, delete, get, list, put,
};
use crate::domain::{Credential, CredentialKind, Identifier, User};
use crate::store::{PeopleStore, StoreError, StoreResult};

/// A person as an earlier release stored them.
#[derive(Deserialize)]
struct LegacyUser {
    username: String,
    sub: String,
    email: Option<String>,
    name: Option<String>,
    password_hash: String,
    disabled: bool,
    created_at: i64,
    #[serde(default)]
    sign_outs: i64,
}

/// Moves every person of the `users` table to the new tables, at once.
/// Each claims their username only: two people of an earlier release may
/// share an address, which their records keep.
pub(super) fn move_legacy(conn: &Connection) -> StoreResult<()> {
    let legacy: Vec<LegacyUser> = list(conn, USERS)?;
    if legacy.is_empty() {
        return Ok(());
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(backend)?;
    for old in legacy {
        let person = User {
            sub: old.sub,
            username: Some(old.username.clone()),
            email: old.email,
            name: old.name,
            disabled: old.disabled,
            created_at: old.created_at,
            epoch: old.sign_outs,
            email_verified: true,
            tokens_revoked_at: 0,
            upstream: vec![],
            passkey_user: None,
        };
        let password = Credential::password(&person.sub, old.password_hash, old.created_at);
        let username = Identifier::Username(old.username.clone());
        insert(&tx, &person, &[username], std::slice::from_ref(&password))?;
        delete(&tx, USERS, &old.username)?;
    }
    tx.commit().map_err(backend)
}

fn credential_id(c: &Credential) -> String {
    credential_row(&c.sub, &c.key())
}

/// The row id of the person's credential with `key` (`<kind>:<id>`).
pub(super) fn credential_row(sub: &str, key: &str) -> String {
    format!("{sub}|{key}")
}

/// Writes a new person, the identifiers `ids` pointing at them and their
/// credentials (inside the caller's transaction, which a `Conflict` rolls back).
fn insert(c: &Connection, person: &User, ids: &[Identifier], credentials: &[Credential]) -> StoreResult<()> {
    if get::<User>(c, PEOPLE, &person.sub, None)?.is_some() {
        return Err(StoreError::Conflict(format!("person {}", person.sub)));
    }
    for id in ids {
        claim(c, id, &person.sub)?;
    }
    for cred in credentials {
        put(c, CREDENTIALS, &credential_id(cred), None, cred, Put::Any)?;
    }
    put(c, PEOPLE, &person.sub, None, person, Put::New)
}

/// Points the free identifier `id` at `sub`; `Conflict` if it is taken.
pub(super) fn claim(c: &Connection, id: &Identifier, sub: &str) -> StoreResult<()> {
    put(c, IDENTIFIERS, &id.key(), None, &sub, Put::New).map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(id.key()),
        other => other,
    })
}

/// Whether the identifier `id` points at `sub`.
pub(super) fn owns(c: &Connection, id: &Identifier, sub: &str) -> StoreResult<bool> {
    Ok(get::<String>(c, IDENTIFIERS, &id.key(), None)?.as_deref() == Some(sub))
}

fn credentials_of(c: &Connection, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>> {
    let mut stmt = c
        .prepare(&format!("SELECT body FROM {CREDENTIALS} WHERE id >= ?1 AND id < ?2 ORDER BY id"))
        .map_err(backend)?;
    // Every id of the person's starts with `<sub>|`; `}` sorts right after `|`.
    let rows = stmt.query_map(params![format!("{sub}|"), format!("{sub}}}")], |r| r.get::<_, String>(0));
    let mut out = Vec::new();
    for body in rows.map_err(backend)? {
        let cred: Credential = serde_json::from_str(&body.map_err(backend)?)
            .map_err(|e| StoreError::Backend(format!("a credentials row is malformed: {e}")))?;
        if cred.kind() == kind {
            out.push(cred);
        }
    }
    Ok(out)
}

#[async_trait]
impl PeopleStore for FileStore {
    async fn create_person(&self, person: &User, credentials: &[Credential]) -> StoreResult<()> {
        let ids = person.identifiers();
        atomically(self, person.created_at, |c| insert(c, person, &ids, credentials).map(|()| ((), true)))
    }

    async fn get_person(&self, sub: &str, _legacy_username: Option<&str>) -> StoreResult<Option<User>> {
        get(&self.lock(), PEOPLE, sub, None)
    }

    async fn find_identifier(&self, id: &Identifier) -> StoreResult<Option<String>> {
        get(&self.lock(), IDENTIFIERS, &id.key(), None)
    }

    async fn claim_identifier(&self, sub: &str, id: &Identifier) -> StoreResult<bool> {
        let conn = self.lock();
        if let Some(owner) = get::<String>(&conn, IDENTIFIERS, &id.key(), None)? {
            return Ok(owner == sub);
        }
        match put(&conn, IDENTIFIERS, &id.key(), None, &sub.to_owned(), Put::New) {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn sign_in_lookup(
        &self,
        id: &Identifier,
        kind: CredentialKind,
    ) -> StoreResult<Option<(User, Vec<Credential>)>> {
        let conn = self.lock();
        let Some(sub) = get::<String>(&conn, IDENTIFIERS, &id.key(), None)? else { return Ok(None) };
        let Some(person) = get::<User>(&conn, PEOPLE, &sub, None)? else { return Ok(None) };
        let creds = credentials_of(&conn, &sub, kind)?;
        Ok(Some((person, creds)))
    }

    async fn get_credentials(&self, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>> {
        credentials_of(&self.lock(), sub, kind)
    }

    async fn list_people(&self) -> StoreResult<Vec<User>> {
        list(&self.lock(), PEOPLE)
    }

    async fn update_person(&self, person: &User, credential: Option<&Credential>) -> StoreResult<()> {
        atomically(self, person.created_at, |c| {
            put(c, PEOPLE, &person.sub, None, person, Put::Existing)
                .map_err(|_| StoreError::NotFound(format!("person {}", person.sub)))?;
            if let Some(cred) = credential {
                put(c, CREDENTIALS, &credential_id(cred), None, cred, Put::Any)?;
            }
            Ok(((), true))
        })
    }

    async fn put_credential(&self, credential: &Credential) -> StoreResult<()> {
        atomically(self, credential.created_at, |c| {
            if get::<User>(c, PEOPLE, &credential.sub, None)?.is_none() {
                return Err(StoreError::NotFound(format!("person {}", credential.sub)));
            }
            put(c, CREDENTIALS, &credential_id(credential), None, credential, Put::Any)?;
            Ok(((), true))
        })
    }

    async fn rename_person(&self, person: &User, from: &Identifier, to: &Identifier) -> StoreResult<()> {
        atomically(self, person.created_at, |c| {
            if !owns(c, from, &person.sub)? {
                return Err(StoreError::NotFound(from.key()));
            }
            if from != to {
                delete(c, IDENTIFIERS, &from.key())?;
                if !owns(c, to, &person.sub)? {
                    claim(c, to, &person.sub)?;
                }
            }
            put(c, PEOPLE, &person.sub, None, person, Put::Existing)?;
            Ok(((), true))
        })
    }

    async fn link_identifier(
        &self,
        person: &User,
        id: &Identifier,
        read_epoch: i64,
        drop: Option<&str>,
    ) -> StoreResult<()> {
        atomically(self, person.created_at, |c| {
            match get::<User>(c, PEOPLE, &person.sub, None)? {
                None => return Err(StoreError::NotFound(format!("person {}", person.sub))),
                Some(stored) if stored.epoch != read_epoch => {
                    return Err(StoreError::Conflict(format!("person {} changed", person.sub)));
                }
                Some(_) => {}
            }
            if !owns(c, id, &person.sub)? {
                claim(c, id, &person.sub)?;
            }
            put(c, PEOPLE, &person.sub, None, person, Put::Existing)?;
            if let Some(key) = drop {
                delete(c, CREDENTIALS, &credential_row(&person.sub, key))?;
            }
            Ok(((), true))
        })
    }

    async fn delete_person(&self, person: &User) -> StoreResult<bool> {
        atomically(self, person.created_at, |c| {
            let Some(stored) = get::<User>(c, PEOPLE, &person.sub, None)? else { return Ok((false, false)) };
            for id in stored.identifiers() {
                if owns(c, &id, &stored.sub)? {
                    delete(c, IDENTIFIERS, &id.key())?;
                }
            }
            c.execute(
                &format!("DELETE FROM {CREDENTIALS} WHERE id >= ?1 AND id < ?2"),
                params![format!("{}|", stored.sub), format!("{}}}", stored.sub)],
            )
            .map_err(backend)?;
            Ok((delete(c, PEOPLE, &stored.sub)?, true))
        })
    }
}
