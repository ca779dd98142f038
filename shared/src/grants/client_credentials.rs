//! The `client_credentials` grant (RFC 6749 4.4).
//!
//! Round trips: the client is read, then the token written.

use crate::app::App;
use crate::domain::GrantType;
use crate::error::{ErrorCode, OAuthError};
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, Scope, jwt};

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
    let access = jwt::mint_access(app, client, jwt::Subject { grant: None }, &scope, now)?;
    // A JWT is not stored: the client read is this request's only round trip.
    if let Some(record) = &access.record {
        app.store.put_access_token(record).await.map_err(OAuthError::store("storing the access token"))?;
    }
    Ok(Issued {
        access_token: access.token,
        expires_in: access.expires_in,
        scope,
        refresh_token: None,
        created_at: now,
        state: req.state,
        id_token: None,
    })
}
