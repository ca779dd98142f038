//! The `client_credentials` grant (RFC 6749 4.4).

use crate::app::App;
use crate::crypto;
use crate::domain::{AccessTokenRecord, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response};

use super::{ACCESS_PREFIX, Issued, authenticate_client, narrow_scope, rng};

/// Issues an access token to the client itself. Round trips: read the client, write the token.
pub async fn issue(app: &App, req: &Request, params: &Params) -> Result<Response, OAuthError> {
    let client = authenticate_client(app, req, params).await?;
    // RFC 6749 4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() || !client.allows(GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered for the client_credentials grant",
        ));
    }
    let scope = narrow_scope(params.get("scope")?, &client.scopes)?;
    let now = app.now();
    let token = rng(crypto::new_token(ACCESS_PREFIX, ""))?;
    let record = AccessTokenRecord {
        digest: crypto::digest(&token),
        grant_id: None,
        client_id: client.client_id.clone(),
        username: None,
        sub: None,
        scope: scope.clone(),
        issued_at: now,
        expires_at: now + app.config.access_token_ttl,
    };
    app.store.put_access_token(&record).await?;
    Ok(Issued {
        access_token: &token,
        expires_in: app.config.access_token_ttl,
        scope: &scope,
        refresh_token: None,
        created_at: now,
        state: params.get("state")?,
    }
    .response())
}
