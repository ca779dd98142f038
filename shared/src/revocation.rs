//! `POST /revoke` (RFC 7009) and `POST /introspect` (RFC 7662).

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::crypto::{self, TokenShape};
use crate::domain::{AccessTokenRecord, Grant};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::authorization_code::user_may_sign_in;
use crate::grant::{REFRESH_PREFIX, client_credentials_of, verify_client};
use crate::http::{Request, Response, body_params, error_json, json as json_response};
use crate::userinfo::live_access_token;

/// `POST /revoke`: revokes an access token, or a refresh token and with it
/// its whole family. Unknown tokens and other clients' tokens answer 200 and
/// change nothing (RFC 7009 2.2); `token_type_hint` is only a hint.
///
/// Round trips: the client and the token are read at once, then one write.
pub async fn revoke(app: &App, req: Request) -> Response {
    let result = async {
        let params = body_params(&req)?;
        let creds = client_credentials_of(&req, &params)?;
        let token = params.require("token")?;
        if let Some(hint) = params.get("token_type_hint")?
            && !matches!(hint, "access_token" | "refresh_token")
        {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                format!("token_type_hint `{hint}` is not one this server knows"),
            ));
        }
        let (client, found) = tokio::join!(app.store.get_client(&creds.client_id), find_token(app, token));
        let client = verify_client(&creds, client?)?;
        match found? {
            Some(Found::Refresh(g)) if g.client_id == client.client_id => {
                app.store.revoke_grant(&g.grant_id).await?
            }
            Some(Found::Access(at)) if at.client_id == client.client_id => {
                app.store.revoke_access_token(&at.digest).await?
            }
            _ => {}
        }
        Ok(json_response(StatusCode::OK, &json!({})))
    }
    .await;
    result.unwrap_or_else(|e| error_json(&e))
}

/// A presented token, found in the store.
enum Found {
    /// A live access token.
    Access(AccessTokenRecord),
    /// The grant of a refresh token, current or already rotated away.
    Refresh(Grant),
}

/// Looks a token up by its shape: refresh tokens by their grant, access
/// tokens by their digest (and grant).
async fn find_token(app: &App, token: &str) -> Result<Option<Found>, OAuthError> {
    if let Some(TokenShape::InGrant(gid)) = crypto::token_shape(token, REFRESH_PREFIX) {
        let digest = crypto::digest(token);
        let grant = app.store.get_grant(gid, app.now()).await?;
        return Ok(grant
            .filter(|g| g.refresh_digest == digest || g.retired_digests.contains(&digest))
            .map(Found::Refresh));
    }
    Ok(live_access_token(app, token).await?.map(Found::Access))
}

/// `POST /introspect`: the token's metadata if it is active, `{"active": false}` otherwise.
/// The caller must authenticate as a client (a resource server is one).
///
/// Round trips: the client and the token are read at once, then the user.
pub async fn introspect(app: &App, req: Request) -> Response {
    let result = async {
        let params = body_params(&req)?;
        let creds = client_credentials_of(&req, &params)?;
        let token = params.require("token")?;
        let now = app.now();
        let (client, found) = tokio::join!(app.store.get_client(&creds.client_id), find_token(app, token));
        verify_client(&creds, client?)?;
        let body = match found? {
            Some(Found::Access(at)) => {
                if let Some(username) = &at.username {
                    let user = app.store.get_user(username).await?;
                    if !user_may_sign_in(user.as_ref()) {
                        return Ok(inactive());
                    }
                }
                let mut body = json!({
                    "active": true,
                    "scope": at.scope,
                    "client_id": at.client_id,
                    "exp": at.expires_at,
                    "iat": at.issued_at,
                    "token_type": "Bearer",
                    "iss": app.config.issuer,
                });
                if let Some(sub) = &at.sub {
                    body["sub"] = json!(sub);
                }
                if let Some(u) = &at.username {
                    body["username"] = json!(u);
                }
                body
            }
            Some(Found::Refresh(g))
                if !g.revoked
                    && g.refresh_expires_at > now
                    && crypto::ct_eq(&g.refresh_digest, &crypto::digest(token)) =>
            {
                json!({
                    "active": true,
                    "scope": g.scope,
                    "client_id": g.client_id,
                    "sub": g.sub,
                    "username": g.username,
                    "exp": g.refresh_expires_at,
                    "iat": g.created_at,
                    "token_type": "refresh_token",
                    "iss": app.config.issuer,
                })
            }
            _ => return Ok(inactive()),
        };
        Ok(json_response(StatusCode::OK, &body))
    }
    .await;
    result.unwrap_or_else(|e: OAuthError| error_json(&e))
}

fn inactive() -> Response {
    json_response(StatusCode::OK, &json!({ "active": false }))
}
