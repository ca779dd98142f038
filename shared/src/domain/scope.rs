//! Scopes (RFC 6749 3.3): parsed once into a [`Scope`], then compared,
//! narrowed and shown without splitting strings again. The domain's own
//! error, [`ScopeError`], becomes `invalid_scope` in `oauth::scope`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a requested scope is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// A token uses characters RFC 6749 3.3 does not allow.
    #[error("scope `{0}` has characters RFC 6749 3.3 does not allow")]
    Malformed(String),
    /// A token is not among those allowed.
    #[error("scope `{0}` is not allowed for this client")]
    NotAllowed(String),
}

/// A set of scope tokens, in the order first given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(Vec<String>);

/// RFC 6749 3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_char(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)
}

impl Scope {
    /// Parses a space-delimited scope from a request: every token must use
    /// only the characters RFC 6749 3.3 allows (`invalid_scope` otherwise).
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        let tokens = raw.split(' ').filter(|t| !t.is_empty());
        if let Some(t) = tokens.clone().find(|t| !t.bytes().all(is_scope_char)) {
            return Err(ScopeError::Malformed(t.to_owned()));
        }
        Ok(Self::from_tokens(tokens))
    }

    /// A scope ZeroAuth stored itself (already checked when it was granted
    /// or registered): split on spaces, nothing refused.
    pub fn from_stored(raw: &str) -> Self {
        Self::from_tokens(raw.split(' ').filter(|t| !t.is_empty()))
    }

    /// Stored tokens, in order, without repeats.
    pub fn from_tokens<'a>(tokens: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out: Vec<String> = Vec::new();
        for t in tokens {
            if !out.iter().any(|x| x == t) {
                out.push(t.to_owned());
            }
        }
        Self(out)
    }

    /// What may be granted when `requested` is asked of `allowed`: all of
    /// `allowed` when nothing is asked, else the request if it is a subset
    /// (RFC 6749 3.3, and 6 for a refresh: never wider than the grant).
    pub fn narrow(requested: Option<&str>, allowed: &Scope) -> Result<Scope, ScopeError> {
        let Some(requested) = requested else {
            return Ok(allowed.clone());
        };
        let requested = Self::parse(requested)?;
        if let Some(t) = requested.iter().find(|t| !allowed.contains(t)) {
            return Err(ScopeError::NotAllowed(t.to_owned()));
        }
        Ok(requested)
    }

    /// Whether the scope holds `token`.
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// The tokens, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::from_stored(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Scope {
        Scope::from_stored("openid profile read:user")
    }

    #[test]
    fn narrowing_grants_what_was_asked_within_what_is_allowed() {
        let not_allowed = || ScopeError::NotAllowed("admin".into());
        let malformed = |t: &str| ScopeError::Malformed(t.into());
        let cases: &[(&str, Option<&str>, Result<&str, ScopeError>)] = &[
            ("should grant everything allowed when nothing is asked", None, Ok("openid profile read:user")),
            ("should grant a subset in the order asked", Some("read:user openid"), Ok("read:user openid")),
            ("should drop repeated tokens", Some("openid openid"), Ok("openid")),
            ("should ignore extra spaces", Some("  openid   profile "), Ok("openid profile")),
            ("should fail because a token is not allowed", Some("openid admin"), Err(not_allowed())),
            ("should fail because of a quote (RFC 6749 3.3)", Some("a\"b"), Err(malformed("a\"b"))),
            ("should fail because of a backslash", Some("a\\b"), Err(malformed("a\\b"))),
            ("should fail because of a non-ASCII token", Some("profilé"), Err(malformed("profilé"))),
        ];
        for (name, requested, want) in cases {
            let got = Scope::narrow(*requested, &allowed()).map(|s| s.to_string());
            assert_eq!(got, want.clone().map(str::to_owned), "{name}");
        }
    }

    #[test]
    fn scope_round_trips_through_its_text() {
        let s = Scope::parse("b a b").unwrap();
        assert_eq!(s.to_string(), "b a");
        assert_eq!(Scope::from_stored(&s.to_string()), s);
        assert!(s.contains("a") && !s.contains("c"));
        assert!(Scope::parse("").unwrap().is_empty());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"b a\"");
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), s);
    }
}
