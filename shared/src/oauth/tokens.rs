//! ZeroAuth's opaque token formats, in one place: how codes, access tokens
//! and refresh tokens are minted, recognised and looked up.
//!
//! A token is a readable prefix, then (for tokens of a grant) the grant's
//! 22-character id, then 256 random bits as 43 base64url characters. The
//! embedded grant id lets one round trip read a token and its family. Only
//! SHA-256 digests are stored.

use crate::crypto::{self, RandomError};
use crate::error::OAuthError;
use crate::secret::{AccessToken, AuthCode, RefreshToken};

const ACCESS_PREFIX: &str = "za_at_";
const REFRESH_PREFIX: &str = "za_rt_";
const CODE_PREFIX: &str = "za_ac_";
/// Length of a grant id once encoded: 16 random bytes.
const GRANT_ID_LEN: usize = 22;
/// Length of the random part once encoded: [`crypto::TOKEN_BYTES`] bytes.
const RANDOM_LEN: usize = 43;

/// Maps a random-source failure to a server error.
pub fn rng<T>(r: Result<T, RandomError>) -> Result<T, OAuthError> {
    r.map_err(OAuthError::server)
}

fn mint(prefix: &str, grant_id: &str) -> Result<String, OAuthError> {
    Ok(format!("{prefix}{grant_id}{}", rng(crypto::random_string(crypto::TOKEN_BYTES))?))
}

/// A new grant (token family) id: 16 random bytes.
pub fn new_grant_id() -> Result<String, OAuthError> {
    rng(crypto::random_string(16))
}

/// A new authorization code (`za_ac_…`).
pub fn mint_code() -> Result<AuthCode, OAuthError> {
    mint(CODE_PREFIX, "").map(AuthCode::new)
}

/// A new access token (`za_at_…`), of the grant `grant_id` or of none
/// (`client_credentials`).
pub fn mint_access(grant_id: Option<&str>) -> Result<AccessToken, OAuthError> {
    mint(ACCESS_PREFIX, grant_id.unwrap_or("")).map(AccessToken::new)
}

/// A new refresh token (`za_rt_…`) of the grant `grant_id`.
pub fn mint_refresh(grant_id: &str) -> Result<RefreshToken, OAuthError> {
    mint(REFRESH_PREFIX, grant_id).map(RefreshToken::new)
}

/// What a well-formed token is, and where it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    /// An access token; `grant_id` is `None` for one of no family.
    Access {
        /// The grant embedded in the token.
        grant_id: Option<&'a str>,
    },
    /// A refresh token of the grant `grant_id`.
    Refresh {
        /// The grant embedded in the token.
        grant_id: &'a str,
    },
}

/// What `token` is, or `None` when it cannot be one of ZeroAuth's tokens.
pub fn recognise(token: &str) -> Option<Kind<'_>> {
    if let Some(body) = token.strip_prefix(ACCESS_PREFIX) {
        return match split(body)? {
            ("", _) => Some(Kind::Access { grant_id: None }),
            (grant_id, _) => Some(Kind::Access { grant_id: Some(grant_id) }),
        };
    }
    let body = token.strip_prefix(REFRESH_PREFIX)?;
    match split(body)? {
        ("", _) => None,
        (grant_id, _) => Some(Kind::Refresh { grant_id }),
    }
}

/// `[grant id] random`, checked for length and alphabet.
fn split(body: &str) -> Option<(&str, &str)> {
    if !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return None;
    }
    match body.len() {
        RANDOM_LEN => Some(("", body)),
        n if n == GRANT_ID_LEN + RANDOM_LEN => Some(body.split_at(GRANT_ID_LEN)),
        _ => None,
    }
}

/// The grant id a refresh token names, if it is shaped like one.
pub fn refresh_grant_id(token: &str) -> Option<&str> {
    match recognise(token)? {
        Kind::Refresh { grant_id } => Some(grant_id),
        Kind::Access { .. } => None,
    }
}

/// The storage digest of any token or code.
pub fn digest(token: &str) -> String {
    crypto::digest(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_are_recognised_as_what_they_are() {
        let gid = new_grant_id().unwrap();
        let cases: &[(&str, String, Option<Kind<'_>>)] = &[
            (
                "should see a standalone access token",
                mint_access(None).unwrap().secret().to_owned(),
                Some(Kind::Access { grant_id: None }),
            ),
            (
                "should see the grant in an access token",
                mint_access(Some(&gid)).unwrap().secret().to_owned(),
                Some(Kind::Access { grant_id: Some(&gid) }),
            ),
            (
                "should see the grant in a refresh token",
                mint_refresh(&gid).unwrap().secret().to_owned(),
                Some(Kind::Refresh { grant_id: &gid }),
            ),
            ("should fail because a code is no token", mint_code().unwrap().secret().to_owned(), None),
            ("should fail because it is too short", "za_rt_short".into(), None),
            (
                "should fail because of characters outside base64url",
                format!("za_at_{}", "é".repeat(40)),
                None,
            ),
            ("should fail because a refresh token needs a grant", format!("za_rt_{}", "a".repeat(43)), None),
            ("should fail because the prefix is unknown", format!("za_xx_{}", "a".repeat(43)), None),
        ];
        for (name, token, want) in cases {
            assert_eq!(recognise(token), *want, "{name}");
        }
    }

    #[test]
    fn tokens_carry_256_bits_and_their_prefix() {
        let t = mint_access(None).unwrap();
        assert!(t.secret().starts_with("za_at_"));
        assert_eq!(t.secret().len(), "za_at_".len() + 43);
        assert_ne!(t.secret(), mint_access(None).unwrap().secret());
        assert!(mint_code().unwrap().secret().starts_with("za_ac_"));
    }
}
