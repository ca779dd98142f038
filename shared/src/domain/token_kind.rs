//! What kind of token an access-token record stands for, and how a record
//! written before records said so is read.

use serde::{Deserialize, Serialize};

use super::AccessTokenRecord;

/// What kind of token an [`AccessTokenRecord`] stands for; it decides what
/// the record's `digest` holds and how the token is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenKind {
    /// A random `za_at_` token, stored under its SHA-256 digest. The only
    /// kind ever stored, and what a record that names no kind is.
    #[default]
    Opaque,
    /// A JWT access token (RFC 9068): its record is made from its verified
    /// claims and never stored; `digest` is its `jti`.
    Jwt,
    /// An API key seen as an access token; `digest` is the key's public id.
    ApiKey,
}

impl AccessTokenKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opaque => "opaque",
            Self::Jwt => "jwt",
            Self::ApiKey => "api_key",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Opaque, Self::Jwt, Self::ApiKey].into_iter().find(|k| k.as_str() == s)
    }
}

/// The prefixes of `digest` that said what a record was before records
/// named their kind.
const LEGACY_PREFIXES: [(&str, AccessTokenKind); 2] =
    [("jwt:", AccessTokenKind::Jwt), ("apikey:", AccessTokenKind::ApiKey)];

impl AccessTokenRecord {
    /// The record as a store reads it. One written before records named
    /// their kind reads as opaque (the default of a missing kind), unless its
    /// `digest` carries the prefix that then marked a JWT (`jwt:`) or an API
    /// key (`apikey:`): the kind comes from the prefix, which goes. A new
    /// opaque record's digest is base64url and never has a colon.
    pub fn with_legacy_kind(mut self) -> Self {
        if self.kind == AccessTokenKind::Opaque {
            for (prefix, kind) in LEGACY_PREFIXES {
                if let Some(handle) = self.digest.strip_prefix(prefix) {
                    self.digest = handle.to_owned();
                    self.kind = kind;
                    break;
                }
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Scope;

    fn record(digest: &str, kind: AccessTokenKind) -> AccessTokenRecord {
        AccessTokenRecord {
            digest: digest.into(),
            grant_id: None,
            client_id: "app".into(),
            username: None,
            sub: None,
            scope: Scope::from_stored("read"),
            issued_at: 0,
            expires_at: 10,
            audience: None,
            kind,
        }
    }

    #[test]
    fn a_record_without_a_kind_takes_it_from_its_legacy_prefix() {
        use AccessTokenKind::*;
        let digest = crate::crypto::digest("za_at_x");
        // name, digest and kind as read, the digest and kind it has
        let cases: &[(&str, &str, AccessTokenKind, &str, AccessTokenKind)] = &[
            ("should stay opaque without a prefix", &digest, Opaque, &digest, Opaque),
            ("should see a JWT by its prefix", "jwt:j1", Opaque, "j1", Jwt),
            ("should see an API key by its prefix", "apikey:k1", Opaque, "k1", ApiKey),
            ("should keep a kind the record names", "k1", ApiKey, "k1", ApiKey),
            ("should keep a named kind even with a prefix-like handle", "jwt:j1", ApiKey, "jwt:j1", ApiKey),
            ("should fail to see a kind in an unknown prefix", "other:x", Opaque, "other:x", Opaque),
        ];
        for (name, digest, kind, want_digest, want_kind) in cases {
            let read = record(digest, *kind).with_legacy_kind();
            assert_eq!((read.digest.as_str(), read.kind), (*want_digest, *want_kind), "{name}");
        }
    }

    #[test]
    fn a_stored_record_without_a_kind_field_is_opaque() {
        let mut json = serde_json::to_value(record("d", AccessTokenKind::ApiKey)).unwrap();
        assert_eq!(json["kind"], "api_key");
        json.as_object_mut().map(|o| o.remove("kind"));
        let read: AccessTokenRecord = serde_json::from_value(json).unwrap();
        assert_eq!(read.kind, AccessTokenKind::Opaque);
        for kind in [AccessTokenKind::Opaque, AccessTokenKind::Jwt, AccessTokenKind::ApiKey] {
            assert_eq!(AccessTokenKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str(), "serde and the item use one name");
        }
    }
}
