//! API keys (SPEC.md section 9): long-lived, scoped, revocable opaque tokens
//! an operator issues for a client, and optionally a person. A key is
//! `za_ak_`, its 16-character public id, then 256 random bits; only its
//! SHA-256 digest is stored, under the id. `/introspect` and `/userinfo`
//! take a key wherever they take an access token.

use crate::app::App;
use crate::crypto;
use crate::domain::{AccessTokenKind, AccessTokenRecord, ApiKey};
use crate::error::OAuthError;
use crate::oauth::Scope;
use crate::secret::AccessToken;

const PREFIX: &str = "za_ak_";
/// Length of the public id: 12 random bytes, base64url.
const ID_LEN: usize = 16;
/// Length of the random part: 32 bytes, base64url.
const RANDOM_LEN: usize = 43;
/// A use is recorded at most once a minute, so a busy key costs no write per call.
const TOUCH_EVERY: i64 = 60;

/// A new key for `client_id` (and the person `user`, as username and sub),
/// carrying `scope` until `expires_at`. The key is returned once; the
/// record holds its digest.
pub fn mint(
    client_id: &str,
    user: Option<(&str, &str)>,
    scope: Scope,
    now: i64,
    expires_at: i64,
) -> Result<(AccessToken, ApiKey), crypto::RandomError> {
    let id = crypto::random_string(12)?;
    let key = format!("{PREFIX}{id}{}", crypto::random_string(crypto::TOKEN_BYTES)?);
    let record = ApiKey {
        id,
        digest: crypto::digest(&key),
        client_id: client_id.to_owned(),
        username: user.map(|u| u.0.to_owned()),
        sub: user.map(|u| u.1.to_owned()),
        scope,
        created_at: now,
        expires_at,
        last_used_at: None,
    };
    Ok((AccessToken::new(key), record))
}

/// The key's public id, when `token` is shaped like a key.
pub fn id_of(token: &str) -> Option<&str> {
    let body = token.strip_prefix(PREFIX)?;
    let well_formed = body.len() == ID_LEN + RANDOM_LEN
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed { body.get(..ID_LEN) } else { None }
}

/// The key as an access-token record, if it is live: stored, unexpired,
/// unrevoked, and the key presented is the one whose digest is kept. One
/// round trip, and a write at most once a minute to record the use.
pub async fn live(app: &App, token: &str) -> Result<Option<AccessTokenRecord>, OAuthError> {
    let Some(id) = id_of(token) else { return Ok(None) };
    let now = app.now();
    let key = app.store.get_api_key(id, now).await.map_err(OAuthError::store("reading the API key"))?;
    let Some(key) = key.filter(|k| crypto::ct_eq(&k.digest, &crypto::digest(token))) else {
        return Ok(None);
    };
    if key.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY) {
        // Recording the use is bookkeeping: a failure does not refuse the key.
        if let Err(e) = app.store.touch_api_key(id, now).await {
            tracing::warn!(error = %e, "could not record an API key's use");
        }
    }
    Ok(Some(AccessTokenRecord {
        digest: key.id,
        grant_id: None,
        client_id: key.client_id,
        username: key.username,
        sub: key.sub,
        scope: key.scope,
        issued_at: key.created_at,
        expires_at: key.expires_at,
        audience: None,
        kind: AccessTokenKind::ApiKey,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_carries_its_id_and_other_shapes_do_not() {
        let (key, record) = mint("app", None, Scope::from_stored("read"), 0, 10).unwrap();
        assert_eq!(id_of(key.secret()), Some(record.id.as_str()));
        assert_eq!(record.digest, crypto::digest(key.secret()));
        for (name, token) in [
            ("should fail because it is an access token", format!("za_at_{}", "a".repeat(59))),
            ("should fail because it is too short", format!("za_ak_{}", "a".repeat(58))),
            ("should fail because of characters outside base64url", format!("za_ak_{}", "é".repeat(30))),
        ] {
            assert_eq!(id_of(&token), None, "{name}");
        }
    }
}
