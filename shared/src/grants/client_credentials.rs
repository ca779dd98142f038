//! The `client_credentials` grant (RFC 6749 4.4).
//!
//! Round trips: the client is read, then the token written.

use crate::app::App;
use crate::domain::{AccessTokenRecord, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, Scope, tokens};

use super::Issued;

/// A `client_credentials` token request.
#[derive(Debug)]
pub struct CredentialsRequest {
    /// The scope asked for, as sent.
    pub scope: Option<String>,
    /// `state`, returned with the token.
    pub state: Option<String>,
}

impl CredentialsRequest {
    /// Reads the request's parameters.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: params.get("scope")?.map(str::to_owned),
            state: params.get("state")?.map(str::to_owned),
        })
    }
}

/// Issues an access token to the client itself.
pub async fn issue(
    app: &App,
    client: &AuthenticatedClient,
    req: CredentialsRequest,
) -> Result<Issued, OAuthError> {
    // RFC 6749 4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() || !client.allows(GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered for the client_credentials grant",
        ));
    }
    let scope = Scope::narrow(req.scope.as_deref(), &client.scopes)?;
    let now = app.now();
    let token = tokens::mint_access(None)?;
    let record = AccessTokenRecord {
        digest: tokens::digest(token.secret()),
        grant_id: None,
        client_id: client.client_id.clone(),
        username: None,
        sub: None,
        scope: scope.clone(),
        issued_at: now,
        expires_at: now + app.config.access_token_ttl,
    };
    app.store.put_access_token(&record).await.map_err(OAuthError::store("storing the access token"))?;
    Ok(Issued {
        access_token: token,
        expires_in: app.config.access_token_ttl,
        scope,
        refresh_token: None,
        created_at: now,
        state: req.state,
    })
}
