//! People on DynamoDB. A person is `PERSON / <sub>` (one partition, so the
//! operator can list people), each identifier `IDENT#<kind>:<value> / IDENT`
//! pointing at the `sub`, each credential `CRED#<sub> / <kind>:<id>`.
//! Writes that touch several items are one transaction; the items' mapping
//! is in `person_items.rs`.
//!
//! An earlier release kept a person as `USER / <username>` with the password
//! on the same item. Such a *legacy* person is found through the username a
//! record names them by, moved to the new items at their next sign-in (or by
//! `zeroauth table migrate`), and counts as taken when a new person would
//! take their username. A move claims the username only: that release let
//! two people share an address, which their records keep.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{CancellationReason, ConditionCheck, Delete, Put, TransactWriteItem};

use super::item::{self, Builder, Item, Reader};
use super::person_items::legacy;
use super::{DynamoStore, s};
use crate::domain::{Credential, CredentialKind, Identifier, User};
use crate::store::{PeopleStore, StoreError, StoreResult};

const NOT_EXISTS: &str = "attribute_not_exists(pk)";
const EXISTS: &str = "attribute_exists(pk)";

/// The index of the first item whose condition failed.
fn failed_at(reasons: &[CancellationReason]) -> Option<usize> {
    reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed"))
}

pub(super) fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A transaction cancelled by a concurrent write, not by its conditions.
fn concurrent(what: &str) -> StoreError {
    StoreError::Unavailable(format!("{what} met a concurrent write; try again"))
}

impl DynamoStore {
    fn check(&self, key: (String, String), condition: &str) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(item::key(key)))
            .condition_expression(condition)
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// A check that the item at `key` points at `sub`.
    fn check_owned(&self, key: (String, String), sub: &str) -> StoreResult<TransactWriteItem> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(item::key(key)))
            .condition_expression("#sub = :sub")
            .expression_attribute_names("#sub", "sub")
            .expression_attribute_values(":sub", s(sub))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn remove(
        &self,
        key: (String, String),
        condition: Option<(&str, &str)>,
    ) -> StoreResult<TransactWriteItem> {
        let mut delete = Delete::builder().table_name(&self.table).set_key(Some(item::key(key)));
        if let Some((expr, sub)) = condition {
            delete = delete
                .condition_expression(expr)
                .expression_attribute_names("#sub", "sub")
                .expression_attribute_values(":sub", s(sub));
        }
        Ok(TransactWriteItem::builder().delete(delete.build().map_err(build_err)?).build())
    }

    /// The writes that point the identifier `id` at `sub`, labelled with
    /// the identifier for a `Conflict`: it must be free (or, with `own`,
    /// already `sub`'s), and a username must not be a legacy person's.
    pub(super) fn claim(
        &self,
        sub: &str,
        id: &Identifier,
        own: bool,
    ) -> StoreResult<Vec<(TransactWriteItem, String)>> {
        let pointer = Builder::new(item::identifier_key(id)).s("sub", sub).0;
        let put = match own {
            false => self.put(pointer, Some(NOT_EXISTS))?,
            true => self.put_owned(pointer, sub)?,
        };
        let mut writes = vec![(put, id.key())];
        if let Some(name) = id.username() {
            writes.push((self.check(item::legacy_user_key(name), NOT_EXISTS)?, id.key()));
        }
        Ok(writes)
    }

    /// A put of `item` whose key must be free or already point at `sub`.
    fn put_owned(&self, item: Item, sub: &str) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #sub = :sub")
            .expression_attribute_names("#sub", "sub")
            .expression_attribute_values(":sub", s(sub))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs labelled writes; a failed condition is `Conflict` with its label.
    pub(super) async fn transact_labelled(
        &self,
        writes: Vec<(TransactWriteItem, String)>,
        what: &str,
    ) -> StoreResult<()> {
        let (items, labels): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(reasons) => match failed_at(&reasons).and_then(|i| labels.get(i)) {
                Some(label) => Err(StoreError::Conflict(label.clone())),
                None => Err(concurrent(what)),
            },
        }
    }

    /// The legacy person `username`, if the table still holds one.
    async fn get_legacy(&self, username: &str) -> StoreResult<Option<(User, Credential)>> {
        match self.get(item::legacy_user_key(username)).await? {
            Some(i) => legacy(&i).map(Some),
            None => Ok(None),
        }
    }

    /// Moves a legacy person to the new items (with `person` and `password`
    /// as they should now be), removing the legacy item, at once. Only the
    /// username is claimed: two legacy people may share an address, which
    /// their records keep.
    async fn move_legacy(&self, person: &User, password: &Credential) -> StoreResult<()> {
        let username = person.username.as_deref().unwrap_or_default();
        let mut writes = vec![(self.put(person.into(), Some(NOT_EXISTS))?, format!("person {}", person.sub))];
        if let Some(name) = &person.username {
            let id = Identifier::Username(name.clone());
            let pointer = Builder::new(item::identifier_key(&id)).s("sub", &person.sub).0;
            writes.push((self.put(pointer, Some(NOT_EXISTS))?, id.key()));
        }
        writes.push((self.put(password.into(), None)?, "password".into()));
        let gone = Some(("#sub = :sub", person.sub.as_str()));
        writes.push((self.remove(item::legacy_user_key(username), gone)?, format!("legacy user {username}")));
        self.transact_labelled(writes, "moving a person to the new records").await
    }

    async fn credentials_of(&self, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>> {
        let items = self.query_partition(&item::credentials_pk(sub)).await?;
        let all: Result<Vec<Credential>, _> = items.iter().map(Credential::try_from).collect();
        Ok(all?.into_iter().filter(|c| c.kind() == kind).collect())
    }

    /// The new-shape person behind a `sub`, with their credentials of `kind`,
    /// in one round trip.
    async fn person_with(
        &self,
        sub: &str,
        kind: CredentialKind,
    ) -> StoreResult<Option<(User, Vec<Credential>)>> {
        let (person, creds) = tokio::join!(self.get(item::person_key(sub)), self.credentials_of(sub, kind));
        match person? {
            Some(p) => Ok(Some((User::try_from(&p)?, creds?))),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl PeopleStore for DynamoStore {
    async fn create_person(&self, person: &User, credentials: &[Credential]) -> StoreResult<()> {
        let mut writes = vec![(self.put(person.into(), Some(NOT_EXISTS))?, format!("person {}", person.sub))];
        for id in person.identifiers() {
            writes.extend(self.claim(&person.sub, &id, false)?);
        }
        for c in credentials {
            writes.push((self.put(c.into(), None)?, c.key()));
        }
        self.transact_labelled(writes, "creating the person").await
    }

    async fn get_person(&self, sub: &str, legacy_username: Option<&str>) -> StoreResult<Option<User>> {
        if let Some(found) = self.get(item::person_key(sub)).await? {
            return User::try_from(&found).map(Some);
        }
        let Some(username) = legacy_username else { return Ok(None) };
        Ok(self.get_legacy(username).await?.map(|(p, _)| p).filter(|p| p.sub == sub))
    }

    async fn find_identifier(&self, id: &Identifier) -> StoreResult<Option<String>> {
        if let Some(found) = self.get(item::identifier_key(id)).await? {
            return Reader(&found).s("sub").map(Some);
        }
        match id.username() {
            Some(name) => Ok(self.get_legacy(name).await?.map(|(p, _)| p.sub)),
            None => Ok(None),
        }
    }

    async fn claim_identifier(&self, sub: &str, id: &Identifier) -> StoreResult<bool> {
        let pointer = Builder::new(item::identifier_key(id)).s("sub", sub).0;
        match self.put_new(pointer, id.key()).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(self.find_identifier(id).await?.as_deref() == Some(sub)),
            Err(e) => Err(e),
        }
    }

    async fn sign_in_lookup(
        &self,
        id: &Identifier,
        kind: CredentialKind,
    ) -> StoreResult<Option<(User, Vec<Credential>)>> {
        if let Some(found) = self.get(item::identifier_key(id)).await? {
            return self.person_with(&Reader(&found).s("sub")?, kind).await;
        }
        let Some(name) = id.username() else { return Ok(None) };
        let Some((person, password)) = self.get_legacy(name).await? else { return Ok(None) };
        if let Err(e) = self.move_legacy(&person, &password).await {
            tracing::warn!(error = %e, "could not move a person to the new records; they stay as they are");
        }
        let creds = if kind == CredentialKind::Password { vec![password] } else { Vec::new() };
        Ok(Some((person, creds)))
    }

    async fn get_credentials(&self, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>> {
        self.credentials_of(sub, kind).await
    }

    async fn list_people(&self) -> StoreResult<Vec<User>> {
        let (people, legacy_items) =
            tokio::join!(self.query_partition("PERSON"), self.query_partition("USER"));
        let mut all: Vec<User> = people?.iter().map(User::try_from).collect::<Result<_, _>>()?;
        for i in legacy_items? {
            all.push(legacy(&i)?.0);
        }
        all.sort_by(|a, b| a.sub.cmp(&b.sub));
        Ok(all)
    }

    async fn update_person(&self, person: &User, credential: Option<&Credential>) -> StoreResult<()> {
        let what = format!("person {}", person.sub);
        let written = match credential {
            // The person alone (a sign-out, disabling): one conditional put,
            // not a transaction, which AWS bills at twice the write units.
            None => self.put_existing(person.into(), what.clone()).await,
            Some(c) => {
                let writes = vec![
                    (self.put(person.into(), Some(EXISTS))?, what.clone()),
                    (self.put(c.into(), None)?, c.key()),
                ];
                match self.transact_labelled(writes, "updating the person").await {
                    Err(StoreError::Conflict(label)) if label == what => {
                        Err(StoreError::NotFound(what.clone()))
                    }
                    other => other,
                }
            }
        };
        match written {
            Err(StoreError::NotFound(_)) => {}
            other => return other,
        }
        // Not in the new records: a legacy person is moved with the change.
        let legacy = match &person.username {
            Some(name) => self.get_legacy(name).await?.filter(|(p, _)| p.sub == person.sub),
            None => None,
        };
        let Some((_, old_password)) = legacy else { return Err(StoreError::NotFound(what)) };
        self.move_legacy(person, credential.unwrap_or(&old_password)).await
    }

    async fn put_credential(&self, credential: &Credential) -> StoreResult<()> {
        let what = format!("person {}", credential.sub);
        let writes = vec![
            (self.check(item::person_key(&credential.sub), EXISTS)?, what.clone()),
            (self.put(credential.into(), None)?, credential.key()),
        ];
        match self.transact_labelled(writes, "storing the credential").await {
            Err(StoreError::Conflict(label)) if label == what => Err(StoreError::NotFound(what)),
            other => other,
        }
    }

    async fn rename_person(&self, person: &User, from: &Identifier, to: &Identifier) -> StoreResult<()> {
        if self.get(item::person_key(&person.sub)).await?.is_none() {
            // A legacy person is moved first, under their old username.
            let old = from.username().or(person.username.as_deref()).unwrap_or_default();
            let Some((moved, password)) = self.get_legacy(old).await? else {
                return Err(StoreError::NotFound(from.key()));
            };
            if moved.sub != person.sub {
                return Err(StoreError::NotFound(from.key()));
            }
            self.move_legacy(&moved, &password).await?;
        }
        let mut writes = vec![(self.put(person.into(), Some(EXISTS))?, format!("person {}", person.sub))];
        let owned = Some(("#sub = :sub", person.sub.as_str()));
        let from_label = format!("from {}", from.key());
        if from == to {
            writes.push((self.check_owned(item::identifier_key(from), &person.sub)?, from_label));
        } else {
            writes.push((self.remove(item::identifier_key(from), owned)?, from_label));
            writes.extend(self.claim(&person.sub, to, true)?);
        }
        match self.transact_labelled(writes, "renaming the person").await {
            Err(StoreError::Conflict(label))
                if label.starts_with("from ") || label.starts_with("person ") =>
            {
                Err(StoreError::NotFound(from.key()))
            }
            other => other,
        }
    }

    async fn link_identifier(
        &self,
        person: &User,
        id: &Identifier,
        read_epoch: i64,
        drop: Option<&str>,
    ) -> StoreResult<()> {
        let what = format!("person {}", person.sub);
        let mut writes = vec![(self.put_at_epoch(person, read_epoch)?, what.clone())];
        writes.extend(self.claim(&person.sub, id, true)?);
        if let Some(key) = drop {
            let key = (item::credentials_pk(&person.sub), key.to_owned());
            writes.push((self.remove(key, None)?, "credential".into()));
        }
        match self.transact_labelled(writes, "linking the identity").await {
            Err(StoreError::Conflict(label)) if label == what => {
                match self.get(item::person_key(&person.sub)).await? {
                    Some(_) => Err(StoreError::Conflict(format!("{what} changed"))),
                    None => Err(StoreError::NotFound(what)),
                }
            }
            other => other,
        }
    }

    async fn delete_person(&self, person: &User) -> StoreResult<bool> {
        let Some(found) = self.get(item::person_key(&person.sub)).await? else {
            let Some(name) = &person.username else { return Ok(false) };
            let gone = self.transact(vec![
                self.remove(item::legacy_user_key(name), Some(("#sub = :sub", person.sub.as_str())))?,
            ]);
            return Ok(gone.await?.is_ok());
        };
        let stored = User::try_from(&found)?;
        let creds = self.query_partition(&item::credentials_pk(&stored.sub)).await?;
        let owned = Some(("#sub = :sub", stored.sub.as_str()));
        let mut writes = vec![self.remove(item::person_key(&stored.sub), None)?];
        // Only the identifiers that are theirs: an address an earlier
        // release set has no item, and one may point at someone else.
        for id in stored.identifiers() {
            let key = item::identifier_key(&id);
            let Some(pointer) = self.get(key.clone()).await? else { continue };
            if Reader(&pointer).opt_s("sub")?.as_deref() == Some(stored.sub.as_str()) {
                writes.push(self.remove(key, owned)?);
            }
        }
        for c in &creds {
            let key = (Reader(c).s("pk")?, Reader(c).sk()?);
            writes.push(self.remove(key, None)?);
        }
        match self.transact(writes).await? {
            Ok(()) => Ok(true),
            Err(_) => Err(concurrent("deleting the person")),
        }
    }

    async fn migrate_legacy(&self) -> StoreResult<usize> {
        let mut moved = 0;
        let mut refused = Vec::new();
        for i in self.query_partition("USER").await? {
            let (person, password) = legacy(&i)?;
            match self.move_legacy(&person, &password).await {
                Ok(()) => moved += 1,
                Err(StoreError::Conflict(what)) => refused.push(format!("{} ({what} is taken)", person.sub)),
                Err(e) => return Err(e),
            }
        }
        match refused.is_empty() {
            true => Ok(moved),
            false => {
                Err(StoreError::Conflict(format!("moved {moved}; could not move {}", refused.join(", "))))
            }
        }
    }
}
