//! Mapping between domain records and DynamoDB items. Every record lives
//! under a partition key `pk` and sort key `sk`; see [`super::schema`].

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::{Amr, ChallengeKind, Credential, Identifier};
use crate::store::StoreError;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Key of a client item.
pub fn client_key(id: &str) -> (String, String) {
    ("CLIENT".into(), id.into())
}
/// Key of a protected resource's item.
pub fn resource_key(uri: &str) -> (String, String) {
    ("RESOURCE".into(), uri.into())
}
/// Key of an API key's item.
pub fn api_key_key(id: &str) -> (String, String) {
    ("APIKEY".into(), id.into())
}
/// Key of a person kept as an earlier release wrote them: by username,
/// the password on the same item.
pub fn legacy_user_key(username: &str) -> (String, String) {
    ("USER".into(), username.into())
}
/// Key of a person's item: one partition, so the operator can list people.
pub fn person_key(sub: &str) -> (String, String) {
    ("PERSON".into(), sub.into())
}
/// Key of an identifier's item: its own partition, pointing at a `sub`.
pub fn identifier_key(id: &Identifier) -> (String, String) {
    (format!("IDENT#{}", id.key()), "IDENT".into())
}
/// The partition of a person's credentials.
pub fn credentials_pk(sub: &str) -> String {
    format!("CRED#{sub}")
}
/// Key of one credential: its kind and id within the person's partition.
pub fn credential_key(c: &Credential) -> (String, String) {
    (credentials_pk(&c.sub), c.key())
}
/// Key of a code item.
pub fn code_key(digest: &str) -> (String, String) {
    (format!("CODE#{digest}"), "CODE".into())
}
/// Key of a grant item.
pub fn grant_key(id: &str) -> (String, String) {
    (format!("GRANT#{id}"), "GRANT".into())
}
/// Key of an access-token item.
pub fn access_key(digest: &str) -> (String, String) {
    (format!("AT#{digest}"), "AT".into())
}
/// Key of a self-service flow's item, by its handle digest.
pub fn flow_key(handle: &str) -> (String, String) {
    (format!("FLOW#{handle}"), "FLOW".into())
}
/// Key of a person's challenge of `kind`: one per person and kind.
pub fn challenge_key(sub: &str, kind: ChallengeKind) -> (String, String) {
    (format!("CHAL#{sub}"), kind.as_str().into())
}
/// Key of an upstream provider's item: one partition, so a query lists them.
pub fn provider_key(id: &str) -> (String, String) {
    ("PROVIDER".into(), id.into())
}
/// Key of a sign-in through a provider in progress, by its state digest.
pub fn upstream_state_key(state: &str) -> (String, String) {
    (format!("UPSTREAM#{state}"), "UPSTREAM".into())
}
/// Key of a second-factor ceremony in progress, by its handle digest.
pub fn ceremony_key(handle: &str) -> (String, String) {
    (format!("CEREMONY#{handle}"), "CEREMONY".into())
}
/// Key of a throttling counter.
pub fn counter_key(key: &str) -> (String, String) {
    (format!("COUNTER#{key}"), "COUNTER".into())
}

/// The key attributes as an item.
pub fn key((pk, sk): (String, String)) -> Item {
    HashMap::from([("pk".to_owned(), AttributeValue::S(pk)), ("sk".to_owned(), AttributeValue::S(sk))])
}

/// Builds an item from its key and attributes, leaving out `None`s.
pub(super) struct Builder(pub(super) Item);

impl Builder {
    pub(super) fn new(k: (String, String)) -> Self {
        Self(key(k))
    }
    pub(super) fn s(mut self, name: &str, v: &str) -> Self {
        self.0.insert(name.into(), AttributeValue::S(v.into()));
        self
    }
    pub(super) fn opt_s(self, name: &str, v: Option<&str>) -> Self {
        match v {
            Some(v) => self.s(name, v),
            None => self,
        }
    }
    pub(super) fn opt_n(self, name: &str, v: Option<i64>) -> Self {
        match v {
            Some(v) => self.n(name, v),
            None => self,
        }
    }
    pub(super) fn n(mut self, name: &str, v: i64) -> Self {
        self.0.insert(name.into(), AttributeValue::N(v.to_string()));
        self
    }
    pub(super) fn b(mut self, name: &str, v: bool) -> Self {
        self.0.insert(name.into(), AttributeValue::Bool(v));
        self
    }
    /// How the person signed in; left out when empty (an earlier release's record).
    pub(super) fn amr(self, amr: &[Amr]) -> Self {
        if amr.is_empty() { self } else { self.list("amr", Amr::names(amr)) }
    }
    pub(super) fn list(mut self, name: &str, v: impl IntoIterator<Item = String>) -> Self {
        self.0.insert(name.into(), AttributeValue::L(v.into_iter().map(AttributeValue::S).collect()));
        self
    }
}

/// Reads typed attributes out of an item, failing on a malformed one.
pub struct Reader<'a>(pub &'a Item);

pub(super) fn malformed(name: &str) -> StoreError {
    StoreError::Backend(format!("stored item has a missing or malformed attribute `{name}`"))
}

impl Reader<'_> {
    /// A string attribute, if present.
    pub fn opt_s(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(s)) => Ok(Some(s.clone())),
            Some(_) => Err(malformed(name)),
        }
    }
    /// A required string attribute.
    pub fn s(&self, name: &str) -> Result<String, StoreError> {
        self.opt_s(name)?.ok_or_else(|| malformed(name))
    }
    /// A number attribute, if present.
    pub fn opt_n(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(n)) => n.parse().map(Some).map_err(|_| malformed(name)),
            Some(_) => Err(malformed(name)),
        }
    }
    /// A required number attribute.
    pub fn n(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_n(name)?.ok_or_else(|| malformed(name))
    }
    /// A boolean attribute; absent is false.
    pub fn b(&self, name: &str) -> Result<bool, StoreError> {
        match self.0.get(name) {
            None => Ok(false),
            Some(AttributeValue::Bool(b)) => Ok(*b),
            Some(_) => Err(malformed(name)),
        }
    }
    /// A boolean attribute, if present.
    pub fn opt_b(&self, name: &str) -> Result<Option<bool>, StoreError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(AttributeValue::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(malformed(name)),
        }
    }
    /// A list (or set) of strings; absent is empty.
    pub fn strings(&self, name: &str) -> Result<Vec<String>, StoreError> {
        match self.0.get(name) {
            None => Ok(Vec::new()),
            Some(AttributeValue::Ss(v)) => Ok(v.clone()),
            Some(AttributeValue::L(v)) => {
                v.iter().map(|a| a.as_s().cloned().map_err(|_| malformed(name))).collect()
            }
            Some(_) => Err(malformed(name)),
        }
    }
    /// The `amr` list; absent is empty, an unknown value is malformed.
    pub fn amr(&self) -> Result<Vec<Amr>, StoreError> {
        self.strings("amr")?.iter().map(|v| Amr::parse(v).ok_or_else(|| malformed("amr"))).collect()
    }
    /// The sort key.
    pub fn sk(&self) -> Result<String, StoreError> {
        self.s("sk")
    }
}

/// Whether an item is live at `now` (no `expires_at`, or one in the future).
pub fn is_live(item: &Item, now: i64) -> bool {
    match Reader(item).opt_n("expires_at") {
        Ok(Some(exp)) => exp > now,
        Ok(None) => true,
        Err(_) => false,
    }
}
