//! A token presented to ZeroAuth, whichever its format — opaque, a JWT, an
//! API key — recognised and looked up in one place (fosite's token
//! strategies), above the modules that mint each format.

use crate::app::App;
use crate::crypto;
use crate::domain::{AccessTokenKind, AccessTokenRecord, Grant};
use crate::error::OAuthError;
use crate::oauth::tokens::{Kind, digest, recognise, refresh_grant_id};
use crate::oauth::{Scope, api_keys, jwt};

/// The access token's record if it is live: stored, unexpired, and its
/// family (if any) not revoked. One round trip. A JWT access token is
/// live when its signature verifies, it has not expired, and its family
/// (a person's token) is not revoked; its record is made from its claims.
/// An API key is taken wherever an access token is.
pub async fn live_access_token(app: &App, token: &str) -> Result<Option<AccessTokenRecord>, OAuthError> {
    if let Some(claims) = jwt::read_access(app, token) {
        return live_jwt(app, claims).await;
    }
    if api_keys::id_of(token).is_some() {
        return api_keys::live(app, token).await;
    }
    let Some(Kind::Access { grant_id }) = recognise(token) else {
        return Ok(None);
    };
    app.store
        .find_access_token(&digest(token), grant_id, app.now())
        .await
        .map_err(OAuthError::store("reading the access token"))
}

/// The record of a verified JWT access token whose family, if it has one,
/// is still alive and still the same person's and client's.
async fn live_jwt(app: &App, c: jwt::AccessClaims) -> Result<Option<AccessTokenRecord>, OAuthError> {
    let record = AccessTokenRecord {
        digest: c.jti,
        grant_id: None,
        client_id: c.client_id,
        username: None,
        sub: None,
        scope: Scope::from_stored(&c.scope),
        issued_at: c.iat,
        expires_at: c.exp,
        audience: (c.aud != jwt::default_audience(app)).then(|| c.aud.clone()),
        kind: AccessTokenKind::Jwt,
    };
    let Some(grant_id) = c.za_grant else {
        return Ok(Some(record));
    };
    let grant =
        app.store.get_grant(&grant_id, app.now()).await.map_err(OAuthError::store("reading the grant"))?;
    Ok(grant.filter(|g| !g.revoked && g.client_id == record.client_id && g.sub == c.sub).map(|g| {
        AccessTokenRecord { grant_id: Some(grant_id), username: g.username, sub: Some(g.sub), ..record }
    }))
}

/// A presented token, found in the store.
#[derive(Debug)]
pub enum Found {
    /// A live access token.
    Access(AccessTokenRecord),
    /// The grant of a refresh token, current or already rotated away.
    Refresh {
        /// The token's grant.
        grant: Grant,
        /// Whether the token is the grant's current refresh token (else
        /// one rotated away).
        current: bool,
    },
}

/// Looks any token up by its kind: refresh tokens by their grant, access
/// tokens by their digest (and grant). One round trip.
pub async fn find(app: &App, token: &str) -> Result<Option<Found>, OAuthError> {
    let Some(grant_id) = refresh_grant_id(token) else {
        return Ok(live_access_token(app, token).await?.map(Found::Access));
    };
    let d = digest(token);
    let grant =
        app.store.get_grant(grant_id, app.now()).await.map_err(OAuthError::store("reading the grant"))?;
    Ok(grant.and_then(|grant| {
        let current = grant.refresh_digest.as_deref().is_some_and(|c| crypto::ct_eq(c, &d));
        (current || grant.retired_digests.contains(&d)).then_some(Found::Refresh { grant, current })
    }))
}
