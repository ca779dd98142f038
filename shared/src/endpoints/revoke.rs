//! `POST /revoke` (RFC 7009).

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, body_params, json as json_response};
use crate::oauth::client_auth::authenticate;
use crate::oauth::tokens::{self, Found, JWT_DIGEST_PREFIX};
use crate::oauth::{ClientCredentials, api_keys};

/// `POST /revoke`: revokes an access token, or a refresh token and with it
/// its whole family. Unknown tokens and other clients' tokens answer 200 and
/// change nothing (RFC 7009 2.2); `token_type_hint` is only a hint.
///
/// Round trips: the client and the token are read at once, then one write.
pub async fn revoke(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let creds = ClientCredentials::from_request(req.headers(), &params)?;
    let token = params.require("token")?;
    if let Some(hint) = params.get("token_type_hint")?
        && !matches!(hint, "access_token" | "refresh_token")
    {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            format!("token_type_hint `{hint}` is not one this server knows"),
        ));
    }
    let (client, found) = tokio::join!(authenticate(app, &creds), tokens::find(app, token));
    let client = client?;
    let revoked = match found? {
        Some(Found::Refresh { grant: g, .. }) if g.client_id == client.client_id => {
            app.store.revoke_grant(&g.grant_id).await
        }
        // A JWT access token is not stored: revoking it revokes its family;
        // a client's own JWT has none and lives until it expires.
        Some(Found::Access(at))
            if at.client_id == client.client_id && at.digest.starts_with(JWT_DIGEST_PREFIX) =>
        {
            match &at.grant_id {
                Some(grant_id) => app.store.revoke_grant(grant_id).await,
                None => {
                    return Err(OAuthError::new(
                        ErrorCode::UnsupportedTokenType,
                        "a client_credentials JWT access token cannot be revoked; it expires at its exp",
                    ));
                }
            }
        }
        Some(Found::Access(at)) if at.client_id == client.client_id => {
            match at.digest.strip_prefix(api_keys::DIGEST_PREFIX) {
                Some(id) => app.store.delete_api_key(id).await.map(|_| ()),
                None => app.store.revoke_access_token(&at.digest).await,
            }
        }
        _ => Ok(()),
    };
    revoked.map_err(OAuthError::store("revoking the token"))?;
    Ok(json_response(StatusCode::OK, &json!({})))
}
