//! People, their identifiers and credentials, in memory. One mutex guards
//! the three maps, so each method is atomic as the contract asks.

use std::collections::BTreeMap;
use std::sync::MutexGuard;

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{Credential, CredentialKind, Identifier, User};
use crate::store::{PeopleStore, StoreError, StoreResult};

/// The people maps.
#[derive(Default)]
pub(super) struct People {
    /// `sub` → person.
    pub(super) people: BTreeMap<String, User>,
    /// Identifier key → `sub`.
    pub(super) identifiers: BTreeMap<String, String>,
    /// `sub` → credential key → credential.
    pub(super) credentials: BTreeMap<String, BTreeMap<String, Credential>>,
}

impl MemoryStore {
    pub(super) fn people(&self) -> MutexGuard<'_, People> {
        self.people.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl PeopleStore for MemoryStore {
    async fn create_person(&self, person: &User, credentials: &[Credential]) -> StoreResult<()> {
        let mut p = self.people();
        if p.people.contains_key(&person.sub) {
            return Err(StoreError::Conflict(format!("person {}", person.sub)));
        }
        let ids = person.identifiers();
        if let Some(taken) = ids.iter().find(|i| p.identifiers.contains_key(&i.key())) {
            return Err(StoreError::Conflict(taken.key()));
        }
        for id in ids {
            p.identifiers.insert(id.key(), person.sub.clone());
        }
        let creds = credentials.iter().map(|c| (c.key(), c.clone())).collect();
        p.credentials.insert(person.sub.clone(), creds);
        p.people.insert(person.sub.clone(), person.clone());
        Ok(())
    }

    async fn get_person(&self, sub: &str, _legacy_username: Option<&str>) -> StoreResult<Option<User>> {
        Ok(self.people().people.get(sub).cloned())
    }

    async fn find_identifier(&self, id: &Identifier) -> StoreResult<Option<String>> {
        Ok(self.people().identifiers.get(&id.key()).cloned())
    }

    async fn claim_identifier(&self, sub: &str, id: &Identifier) -> StoreResult<bool> {
        let mut p = self.people();
        let owner = p.identifiers.entry(id.key()).or_insert_with(|| sub.to_owned());
        Ok(owner == sub)
    }

    async fn sign_in_lookup(
        &self,
        id: &Identifier,
        kind: CredentialKind,
    ) -> StoreResult<Option<(User, Vec<Credential>)>> {
        let p = self.people();
        let Some(person) = p.identifiers.get(&id.key()).and_then(|sub| p.people.get(sub)) else {
            return Ok(None);
        };
        let creds = of_kind(&p, &person.sub, kind);
        Ok(Some((person.clone(), creds)))
    }

    async fn get_credentials(&self, sub: &str, kind: CredentialKind) -> StoreResult<Vec<Credential>> {
        Ok(of_kind(&self.people(), sub, kind))
    }

    async fn list_people(&self) -> StoreResult<Vec<User>> {
        Ok(self.people().people.values().cloned().collect())
    }

    async fn update_person(&self, person: &User, credential: Option<&Credential>) -> StoreResult<()> {
        let mut p = self.people();
        let Some(slot) = p.people.get_mut(&person.sub) else {
            return Err(StoreError::NotFound(format!("person {}", person.sub)));
        };
        *slot = person.clone();
        if let Some(c) = credential {
            p.credentials.entry(c.sub.clone()).or_default().insert(c.key(), c.clone());
        }
        Ok(())
    }

    async fn put_credential(&self, credential: &Credential) -> StoreResult<()> {
        let mut p = self.people();
        if !p.people.contains_key(&credential.sub) {
            return Err(StoreError::NotFound(format!("person {}", credential.sub)));
        }
        p.credentials.entry(credential.sub.clone()).or_default().insert(credential.key(), credential.clone());
        Ok(())
    }

    async fn rename_person(&self, person: &User, from: &Identifier, to: &Identifier) -> StoreResult<()> {
        let mut p = self.people();
        if p.identifiers.get(&from.key()) != Some(&person.sub) || !p.people.contains_key(&person.sub) {
            return Err(StoreError::NotFound(from.key()));
        }
        if from != to {
            if p.identifiers.get(&to.key()).is_some_and(|sub| *sub != person.sub) {
                return Err(StoreError::Conflict(to.key()));
            }
            p.identifiers.remove(&from.key());
            p.identifiers.insert(to.key(), person.sub.clone());
        }
        p.people.insert(person.sub.clone(), person.clone());
        Ok(())
    }

    async fn link_identifier(
        &self,
        person: &User,
        id: &Identifier,
        read_epoch: i64,
        drop: Option<&str>,
    ) -> StoreResult<()> {
        let mut p = self.people();
        match p.people.get(&person.sub) {
            None => return Err(StoreError::NotFound(format!("person {}", person.sub))),
            Some(stored) if stored.epoch != read_epoch => {
                return Err(StoreError::Conflict(format!("person {} changed", person.sub)));
            }
            Some(_) => {}
        }
        if p.identifiers.get(&id.key()).is_some_and(|sub| *sub != person.sub) {
            return Err(StoreError::Conflict(id.key()));
        }
        p.identifiers.insert(id.key(), person.sub.clone());
        p.people.insert(person.sub.clone(), person.clone());
        if let (Some(key), Some(creds)) = (drop, p.credentials.get_mut(&person.sub)) {
            creds.remove(key);
        }
        Ok(())
    }

    async fn delete_person(&self, person: &User) -> StoreResult<bool> {
        let mut p = self.people();
        let sub = person.sub.as_str();
        let Some(person) = p.people.remove(sub) else {
            return Ok(false);
        };
        for id in person.identifiers() {
            if p.identifiers.get(&id.key()).is_some_and(|owner| owner == sub) {
                p.identifiers.remove(&id.key());
            }
        }
        p.credentials.remove(sub);
        Ok(true)
    }
}

fn of_kind(p: &People, sub: &str, kind: CredentialKind) -> Vec<Credential> {
    p.credentials
        .get(sub)
        .map_or_else(Vec::new, |m| m.values().filter(|c| c.kind() == kind).cloned().collect())
}
