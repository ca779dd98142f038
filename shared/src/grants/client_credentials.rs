//! The `client_credentials` grant (RFC 6749 4.4).
//!
//! Round trips: the client is read, then the token written.

use crate::app::App;
use crate::domain::GrantType;
use crate::domain::Resource;
use crate::error::{ErrorCode, OAuthError};
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, Scope, jwt, resource};

use super::Issued;

/// A `client_credentials` token request.
#[derive(Debug)]
pub struct CredentialsRequest {
    /// The scope asked for, as sent.
    pub scope: Option<String>,
    /// `state`, returned with the token.
    pub state: Option<String>,
    /// `resource` as sent (RFC 8707).
    pub resource: Option<String>,
}

impl CredentialsRequest {
    /// Reads the request's parameters.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            scope: params.get("scope")?.map(str::to_owned),
            state: params.get("state")?.map(str::to_owned),
            resource: params.get("resource")?.map(str::to_owned),
        })
    }
}

/// Issues an access token to the client itself, for `target` when the
/// request named a resource (looked up while the client was read).
pub async fn issue(
    app: &App,
    client: &AuthenticatedClient,
    req: CredentialsRequest,
    target: Option<Resource>,
) -> Result<Issued, OAuthError> {
    // RFC 6749 4.4: "The client credentials grant type MUST only be used by confidential clients."
    if client.is_public() || !client.allows(GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered for the client_credentials grant",
        ));
    }
    let target = target.map(|r| resource::allowed_for(client, r)).transpose()?;
    let allowed = target.as_ref().map_or_else(|| client.scopes.clone(), |r| resource::scopes_for(client, r));
    let scope = Scope::narrow(req.scope.as_deref(), &allowed)?;
    let now = app.now();
    let subject = jwt::Subject { grant: None, resource: target.as_ref().map(|r| r.uri.as_str()) };
    let access = jwt::mint_access(app, client, subject, &scope, now)?;
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
        issued_token_type: None,
    })
}
