//! The embedded store's compact form of an access token: what a
//! [`AccessTokenRecord`] holds, less its digest (the map's key holds that, as
//! 32 bytes), with the client id, scope and audience that many tokens share
//! held once per shard, and the person's part only when there is a person.
//! The record is built again on every read.

use std::sync::Arc;

use super::shards::Expires;
use crate::domain::{AccessTokenKind, AccessTokenRecord};
use crate::oauth::Scope;

/// An access token as the embedded store keeps it.
pub(super) struct StoredAccess {
    client_id: Arc<str>,
    scope: Arc<Scope>,
    audience: Option<Arc<str>>,
    issued_at: i64,
    expires_at: i64,
    kind: AccessTokenKind,
    /// `None` for a token of no grant and no person (`client_credentials`).
    person: Option<Box<Person>>,
}

/// The parts of a token issued on a person's behalf.
struct Person {
    grant_id: Option<Box<str>>,
    username: Option<Box<str>>,
    sub: Option<Box<str>>,
}

impl Expires for StoredAccess {
    fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

/// The client ids, audiences and scopes one shard's latest tokens named, so
/// that a new token naming one of them shares it. A handful of each: enough
/// for the few clients and scopes that issue most tokens, and nothing to
/// clean up, since a value pushed out lives on only in the tokens that hold it.
#[derive(Default)]
pub(super) struct Shared {
    strings: Recent<str>,
    scopes: Recent<Scope>,
}

const RECENT: usize = 8;

struct Recent<T: ?Sized> {
    slots: [Option<Arc<T>>; RECENT],
    next: usize,
}

impl<T: ?Sized> Default for Recent<T> {
    fn default() -> Self {
        Self { slots: Default::default(), next: 0 }
    }
}

impl<T: ?Sized + PartialEq> Recent<T> {
    /// The shared copy of `value`, made (and remembered) if there is none.
    fn share(&mut self, value: &T, make: impl FnOnce(&T) -> Arc<T>) -> Arc<T> {
        if let Some(found) = self.slots.iter().flatten().find(|s| &***s == value) {
            return found.clone();
        }
        let made = make(value);
        self.slots[self.next] = Some(made.clone());
        self.next = (self.next + 1) % RECENT;
        made
    }
}

impl StoredAccess {
    /// The compact form of `record`, sharing what `shared` already holds.
    pub(super) fn new(record: &AccessTokenRecord, shared: &mut Shared) -> Self {
        let boxed = |s: &Option<String>| s.as_deref().map(Box::from);
        let person =
            (record.grant_id.is_some() || record.username.is_some() || record.sub.is_some()).then(|| {
                Box::new(Person {
                    grant_id: boxed(&record.grant_id),
                    username: boxed(&record.username),
                    sub: boxed(&record.sub),
                })
            });
        Self {
            client_id: shared.strings.share(&record.client_id, |s: &str| Arc::from(s)),
            scope: shared.scopes.share(&record.scope, |s| Arc::new(s.clone())),
            audience: record.audience.as_deref().map(|a| shared.strings.share(a, |s: &str| Arc::from(s))),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            kind: record.kind,
            person,
        }
    }

    /// The record again, under `digest`, its key.
    pub(super) fn record(&self, digest: &str) -> AccessTokenRecord {
        let person = self.person.as_deref();
        let owned =
            |f: fn(&Person) -> &Option<Box<str>>| person.and_then(|p| f(p).as_deref()).map(String::from);
        AccessTokenRecord {
            digest: digest.to_owned(),
            grant_id: owned(|p| &p.grant_id),
            client_id: self.client_id.to_string(),
            username: owned(|p| &p.username),
            sub: owned(|p| &p.sub),
            scope: Scope::clone(&self.scope),
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            audience: self.audience.as_deref().map(String::from),
            kind: self.kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(client_id: &str, scope: &str, person: bool) -> AccessTokenRecord {
        let some = |s: &str| person.then(|| s.to_owned());
        AccessTokenRecord {
            digest: "d".into(),
            grant_id: some("g"),
            client_id: client_id.into(),
            username: some("alice"),
            sub: some("za_user_1"),
            scope: Scope::from_stored(scope),
            issued_at: 10,
            expires_at: 3_610,
            audience: person.then(|| "https://api.example".to_owned()),
            kind: if person { AccessTokenKind::Opaque } else { AccessTokenKind::ApiKey },
        }
    }

    #[test]
    fn the_record_read_back_is_the_record_stored() {
        let mut shared = Shared::default();
        for r in [record("c", "read write", false), record("c", "openid", true)] {
            assert_eq!(StoredAccess::new(&r, &mut shared).record("d"), r);
        }
    }

    #[test]
    fn tokens_of_one_client_and_scope_share_one_copy_of_each() {
        let mut shared = Shared::default();
        let a = StoredAccess::new(&record("c", "read", false), &mut shared);
        let b = StoredAccess::new(&record("c", "read", false), &mut shared);
        assert!(Arc::ptr_eq(&a.client_id, &b.client_id) && Arc::ptr_eq(&a.scope, &b.scope));
        let other = StoredAccess::new(&record("c2", "read", false), &mut shared);
        assert!(!Arc::ptr_eq(&a.client_id, &other.client_id));
        assert_eq!(other.record("d").client_id, "c2");
    }

    #[test]
    fn a_token_of_no_person_carries_no_person_part() {
        let mut shared = Shared::default();
        assert!(StoredAccess::new(&record("c", "read", false), &mut shared).person.is_none());
        assert!(StoredAccess::new(&record("c", "read", true), &mut shared).person.is_some());
    }
}
