//! The `refresh_token` grant with rotation (RFC 6749 6, RFC 9700 4.14.2).
//!
//! Round trips: the client and the grant are read at once; the user is read
//! while the rotation is written. Two in all.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::crypto;
use crate::domain::{Grant, GrantType, LastRotation, User};
use crate::error::{ErrorCode, OAuthError};
use crate::federation::kept;
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, Scope, jwt, resource, tokens};
use crate::secret::{AccessToken, RefreshToken};
use crate::store::{RotateOutcome, Rotation, retire};

use super::{Issued, refresh_ttl, revoke_family};

/// Why a family stops when its person cannot have it any more.
const GONE: &str = "the user of this grant is disabled or deleted, or reset their password since";
const REUSED: &str = "the refresh token was already used; every token of its grant is now revoked";

/// A `refresh_token` token request.
#[derive(Debug)]
pub struct RefreshRequest {
    /// The refresh token presented.
    pub refresh_token: RefreshToken,
    /// A narrower scope, as sent.
    pub scope: Option<String>,
    /// `state`, returned with the tokens.
    pub state: Option<String>,
    /// `resource` (RFC 8707): may only repeat the grant's.
    pub resource: Option<String>,
}

impl RefreshRequest {
    /// Reads the request's parameters.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            refresh_token: RefreshToken::new(params.require("refresh_token")?),
            scope: params.get("scope")?.map(str::to_owned),
            state: params.get("state")?.map(str::to_owned),
            resource: params.get("resource")?.map(str::to_owned),
        })
    }

    /// The grant the token names, while it is retained; `None` without a
    /// read when the token is not shaped like a refresh token.
    pub async fn load(&self, app: &App, now: i64) -> Result<Option<Grant>, OAuthError> {
        let Some(grant_id) = tokens::refresh_grant_id(self.refresh_token.secret()) else {
            return Ok(None);
        };
        app.store.get_grant(grant_id, now).await.map_err(OAuthError::store("reading the grant"))
    }
}

/// Rotates a refresh token: the old one stops working, a new one and a new
/// access token are returned. A rotated-away token presented again revokes
/// the whole family.
pub async fn refresh(
    app: &App,
    client: &AuthenticatedClient,
    req: RefreshRequest,
    grant: Option<Grant>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    if !client.allows(GrantType::RefreshToken) {
        return Err(OAuthError::new(ErrorCode::UnauthorizedClient, "this client may not use refresh tokens"));
    }
    let grant = grant.filter(|g| !g.revoked && g.client_id == client.client_id).ok_or_else(invalid)?;
    let presented = tokens::digest(req.refresh_token.secret());
    if grant.retired_digests.contains(&presented) {
        return replay_or_revoke(app, client, &grant, &req, &presented, now).await;
    }
    let current = grant.refresh_digest.as_deref().is_some_and(|d| crypto::ct_eq(d, &presented));
    if !current || grant.refresh_expires_at <= now {
        return Err(invalid());
    }
    resource::check_bound(req.resource.as_deref(), grant.resource.as_deref())?;
    let scope = Scope::narrow(req.scope.as_deref(), &grant.scope)?;
    let new_refresh = tokens::mint_refresh(&grant.grant_id)?;
    let subject = jwt::Subject {
        grant: Some((&grant.grant_id, grant.username.as_deref(), &grant.sub)),
        resource: grant.resource.as_deref(),
        sign_in: Some((grant.auth_time, &grant.amr)),
    };
    let access = jwt::mint_access(app, client, subject, &scope, now)?;
    // With the grace window off (the default), nothing is kept or copied.
    let last = if app.config.refresh_grace > 0 {
        let pair = Pair {
            access_token: access.token.secret().to_owned(),
            refresh_token: new_refresh.secret().to_owned(),
            expires_in: access.expires_in,
            scope: scope.to_string(),
        };
        Some(remember(&req, &presented, &pair, now)?)
    } else {
        None
    };
    let rotation = Rotation {
        retired: retire(&grant.retired_digests, &presented),
        presented_digest: presented.clone(),
        new_digest: tokens::digest(new_refresh.secret()),
        new_refresh_expires_at: now + refresh_ttl(app, client),
        // The kept upstream token, sealed afresh under the new pair.
        upstream: grant
            .upstream
            .as_deref()
            .and_then(|k| kept::open_with_refresh(k, req.refresh_token.secret()))
            .and_then(|t| kept::for_grant(&t, Some(new_refresh.secret()), access.token.secret())),
        access: access.record,
        last,
    };
    let (user, outcome) = tokio::join!(
        app.store.get_person(&grant.sub, grant.username.as_deref()),
        app.store.rotate_refresh(&grant.grant_id, &rotation, now)
    );
    match outcome.map_err(OAuthError::store("rotating the refresh token"))? {
        RotateOutcome::Rotated => {}
        RotateOutcome::Reused => {
            // A concurrent request rotated it first: within the grace
            // window, the client gets that request's pair.
            let now_grant = app.store.get_grant(&grant.grant_id, now).await;
            let now_grant = now_grant.map_err(OAuthError::store("reading the grant"))?;
            return match now_grant {
                Some(g) => replay_or_revoke(app, client, &g, &req, &presented, now).await,
                None => Err(invalid()),
            };
        }
        RotateOutcome::Invalid => return Err(invalid()),
    }
    let user = user.map_err(OAuthError::store("reading the person"))?.filter(User::is_active);
    let Some(user) = user.filter(|u| !u.revoked_grant(grant.created_at)) else {
        return Err(revoke_family(app, &grant.grant_id, GONE).await);
    };
    // OpenID Connect Core 12.2: a new ID token, same sub and auth_time, no nonce.
    let sign_in =
        jwt::SignIn { auth_time: grant.auth_time, amr: &grant.amr, nonce: None, idp: grant.idp.as_deref() };
    let id_token = jwt::id_token(app, client, &user, &scope, sign_in, &access.token, now)?;
    Ok(Issued {
        access_token: access.token,
        expires_in: access.expires_in,
        scope,
        refresh_token: Some(new_refresh),
        created_at: now,
        state: req.state,
        id_token,
        issued_token_type: None,
    })
}

/// The pair a rotation produced, as kept for the refresh grace window.
#[derive(Serialize, Deserialize)]
struct Pair {
    access_token: String,
    refresh_token: String,
    expires_in: i64,
    scope: String,
}

/// What the grant remembers of this rotation when the grace window is on:
/// the pair, sealed under a key derived from the refresh token presented,
/// so only its holder can open it.
fn remember(
    req: &RefreshRequest,
    presented: &str,
    pair: &Pair,
    now: i64,
) -> Result<LastRotation, OAuthError> {
    let plain = serde_json::to_vec(pair).map_err(OAuthError::server)?;
    let sealed = tokens::rng(crypto::seal_for(req.refresh_token.secret(), &plain))?;
    Ok(LastRotation { presented_digest: presented.to_owned(), at: now, sealed })
}

/// A rotated-away refresh token presented again: within the grace window,
/// while the pair its rotation produced is still the grant's current one,
/// that same pair (with a fresh ID token); otherwise the whole family is
/// revoked (RFC 9700 4.14.2).
async fn replay_or_revoke(
    app: &App,
    client: &AuthenticatedClient,
    grant: &Grant,
    req: &RefreshRequest,
    presented: &str,
    now: i64,
) -> Result<Issued, OAuthError> {
    let Some(pair) = replayable(app, grant, req, presented, now) else {
        return Err(revoke_family(app, &grant.grant_id, REUSED).await);
    };
    let user = app.store.get_person(&grant.sub, grant.username.as_deref()).await;
    let user = user.map_err(OAuthError::store("reading the person"))?.filter(User::is_active);
    let Some(user) = user.filter(|u| !u.revoked_grant(grant.created_at)) else {
        return Err(revoke_family(app, &grant.grant_id, GONE).await);
    };
    let access = AccessToken::new(pair.access_token);
    let scope = Scope::from_stored(&pair.scope);
    let sign_in =
        jwt::SignIn { auth_time: grant.auth_time, amr: &grant.amr, nonce: None, idp: grant.idp.as_deref() };
    let id_token = jwt::id_token(app, client, &user, &scope, sign_in, &access, now)?;
    Ok(Issued {
        access_token: access,
        expires_in: pair.expires_in,
        scope,
        refresh_token: Some(RefreshToken::new(pair.refresh_token)),
        created_at: now,
        state: req.state.clone(),
        id_token,
        issued_token_type: None,
    })
}

fn replayable(app: &App, grant: &Grant, req: &RefreshRequest, presented: &str, now: i64) -> Option<Pair> {
    let grace = app.config.refresh_grace;
    let last = grant.last_rotation.as_ref()?;
    if grace <= 0 || !crypto::ct_eq(&last.presented_digest, presented) || now - last.at > grace {
        return None;
    }
    let pair: Pair =
        serde_json::from_slice(&crypto::open_for(req.refresh_token.secret(), &last.sealed)?).ok()?;
    let current = tokens::digest(&pair.refresh_token);
    grant.refresh_digest.as_deref().is_some_and(|d| crypto::ct_eq(d, &current)).then_some(pair)
}
