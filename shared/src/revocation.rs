//! `POST /revoke` (RFC 7009) and `POST /introspect` (RFC 7662).

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::crypto::{self, TokenShape};
use crate::domain::{Client, Grant};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::{REFRESH_PREFIX, authenticate_client};
use crate::http::{Request, Response, body_params, error_json, json as json_response};
use crate::userinfo::live_access_token;

/// `POST /revoke`: revokes an access token, or a refresh token and with it
/// its whole family. Unknown tokens and other clients' tokens answer 200 and
/// change nothing (RFC 7009 2.2); `token_type_hint` is only a hint.
pub async fn revoke(app: &App, req: Request) -> Response {
    let result = async {
        let params = body_params(&req)?;
        let client = authenticate_client(app, &req, &params).await?;
        let token = params.require("token")?;
        if let Some(hint) = params.get("token_type_hint")?
            && !matches!(hint, "access_token" | "refresh_token")
        {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                format!("token_type_hint `{hint}` is not one this server knows"),
            ));
        }
        if let Some(grant) = live_refresh_grant(app, token, &client).await? {
            app.store.revoke_grant(&grant.grant_id).await?;
        } else if let Some(at) = live_access_token(app, token).await?
            && at.client_id == client.client_id
        {
            app.store.revoke_access_token(&at.digest).await?;
        }
        Ok(json_response(StatusCode::OK, &json!({})))
    }
    .await;
    result.unwrap_or_else(|e| error_json(&e))
}

/// The grant of a refresh token that is current (or retired) and belongs to `client`.
async fn live_refresh_grant(app: &App, token: &str, client: &Client) -> Result<Option<Grant>, OAuthError> {
    let Some(TokenShape::InGrant(gid)) = crypto::token_shape(token, REFRESH_PREFIX) else {
        return Ok(None);
    };
    let digest = crypto::digest(token);
    let grant = app.store.get_grant(gid, app.now()).await?;
    Ok(grant.filter(|g| {
        g.client_id == client.client_id && (g.refresh_digest == digest || g.retired_digests.contains(&digest))
    }))
}

/// `POST /introspect`: the token's metadata if it is active, `{"active": false}` otherwise.
/// The caller must authenticate as a client (a resource server is one).
pub async fn introspect(app: &App, req: Request) -> Response {
    let result = async {
        let params = body_params(&req)?;
        authenticate_client(app, &req, &params).await?;
        let token = params.require("token")?;
        let now = app.now();
        if let Some(at) = live_access_token(app, token).await? {
            if let Some(username) = &at.username {
                let user = app.store.get_user(username).await?;
                if !crate::grant::authorization_code::user_may_sign_in(user.as_ref()) {
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
            return Ok(json_response(StatusCode::OK, &body));
        }
        if let Some(TokenShape::InGrant(gid)) = crypto::token_shape(token, REFRESH_PREFIX) {
            let digest = crypto::digest(token);
            if let Some(g) = app.store.get_grant(gid, now).await?
                && !g.revoked
                && g.refresh_expires_at > now
                && crypto::ct_eq(&g.refresh_digest, &digest)
            {
                return Ok(json_response(
                    StatusCode::OK,
                    &json!({
                        "active": true,
                        "scope": g.scope,
                        "client_id": g.client_id,
                        "sub": g.sub,
                        "username": g.username,
                        "exp": g.refresh_expires_at,
                        "iat": g.created_at,
                        "token_type": "refresh_token",
                        "iss": app.config.issuer,
                    }),
                ));
            }
        }
        Ok(inactive())
    }
    .await;
    result.unwrap_or_else(|e: OAuthError| error_json(&e))
}

fn inactive() -> Response {
    json_response(StatusCode::OK, &json!({ "active": false }))
}
