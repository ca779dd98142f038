//! The `refresh_token` grant with rotation (RFC 6749 6, RFC 9700 4.14.2).
//!
//! Round trips: the client and the grant are read at once; the user is read
//! while the rotation is written. Two in all.

use crate::app::App;
use crate::crypto::{self, TokenShape};
use crate::domain::{AccessTokenRecord, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response};
use crate::store::{RotateOutcome, Rotation, retire};

use super::authorization_code::user_may_sign_in;
use super::{ACCESS_PREFIX, Issued, REFRESH_PREFIX, client_credentials_of, narrow_scope, rng, verify_client};

/// Rotates a refresh token: the old one stops working, a new one and a new
/// access token are returned. A rotated-away token presented again revokes
/// the whole family.
pub async fn refresh(app: &App, req: &Request, params: &Params) -> Result<Response, OAuthError> {
    let presented = params.require("refresh_token")?;
    let creds = client_credentials_of(req, params)?;
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let Some(TokenShape::InGrant(grant_id)) = crypto::token_shape(presented, REFRESH_PREFIX) else {
        // Still authenticate the client, so a bad client hears invalid_client.
        let client = app.store.get_client(&creds.client_id).await?;
        verify_client(&creds, client)?;
        return Err(invalid());
    };
    let now = app.now();
    let (client, grant) =
        tokio::join!(app.store.get_client(&creds.client_id), app.store.get_grant(grant_id, now));
    let client = verify_client(&creds, client?)?;
    if !client.allows(GrantType::RefreshToken) {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use refresh tokens"));
    }
    let grant = grant?.filter(|g| !g.revoked && g.client_id == client.client_id).ok_or_else(invalid)?;
    let presented_digest = crypto::digest(presented);
    if grant.retired_digests.contains(&presented_digest) {
        app.store.revoke_grant(grant_id).await?;
        return Err(OAuthError::invalid_grant(
            "the refresh token was already used; every token of its grant is now revoked",
        ));
    }
    if !crypto::ct_eq(&grant.refresh_digest, &presented_digest) || grant.refresh_expires_at <= now {
        return Err(invalid());
    }
    let granted: Vec<String> = grant.scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let scope = narrow_scope(params.get("scope")?, &granted)?;

    let new_refresh = rng(crypto::new_token(REFRESH_PREFIX, grant_id))?;
    let access_token = rng(crypto::new_token(ACCESS_PREFIX, grant_id))?;
    let rotation = Rotation {
        retired: retire(&grant.retired_digests, &presented_digest),
        presented_digest,
        new_digest: crypto::digest(&new_refresh),
        new_refresh_expires_at: now + app.config.refresh_token_ttl,
        access: AccessTokenRecord {
            digest: crypto::digest(&access_token),
            grant_id: Some(grant_id.to_owned()),
            client_id: client.client_id.clone(),
            username: Some(grant.username.clone()),
            sub: Some(grant.sub.clone()),
            scope: scope.clone(),
            issued_at: now,
            expires_at: now + app.config.access_token_ttl,
        },
    };
    let (user, outcome) =
        tokio::join!(app.store.get_user(&grant.username), app.store.rotate_refresh(grant_id, &rotation, now));
    match outcome? {
        RotateOutcome::Rotated => {}
        RotateOutcome::Reused => {
            app.store.revoke_grant(grant_id).await?;
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used; every token of its grant is now revoked",
            ));
        }
        RotateOutcome::Invalid => return Err(invalid()),
    }
    if !user_may_sign_in(user?.as_ref()) {
        app.store.revoke_grant(grant_id).await?;
        return Err(OAuthError::invalid_grant("the user of this grant is disabled or deleted"));
    }
    Ok(Issued {
        access_token: &access_token,
        expires_in: app.config.access_token_ttl,
        scope: &scope,
        refresh_token: Some(&new_refresh),
        created_at: now,
        state: params.get("state")?,
    }
    .response())
}
