//! The `client_credentials` grant (RFC 6749 4.4).
//!
//! Round trips: the client is read, then the token written.

use crate::app::App;
use crate::domain::{Client, GrantType, Resource};
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

/// Whether `client` may have tokens of its own. RFC 6749 4.4: "The client
/// credentials grant type MUST only be used by confidential clients."
fn may_use(client: &Client) -> Result<(), OAuthError> {
    if client.is_public() || !client.allows(GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered for the client_credentials grant",
        ));
    }
    Ok(())
}

/// Issues an access token to the client itself, for `target` when the
/// request named a resource (looked up while the client was read).
pub async fn issue(
    app: &App,
    client: &AuthenticatedClient,
    req: CredentialsRequest,
    target: Option<Resource>,
) -> Result<Issued, OAuthError> {
    may_use(client)?;
    let target = target.map(|r| resource::allowed_for(client, r)).transpose()?;
    let allowed = target.as_ref().map_or_else(|| client.scopes.clone(), |r| resource::scopes_for(client, r));
    let scope = Scope::narrow(req.scope.as_deref(), &allowed)?;
    let now = app.now();
    let subject =
        jwt::Subject { grant: None, resource: target.as_ref().map(|r| r.uri.as_str()), sign_in: None };
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

#[cfg(test)]
mod tests {
    use super::*;

    fn client(secret: bool, grants: &[GrantType]) -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            secret_hash: secret.then(|| "hash".into()),
            redirect_uris: vec![],
            grant_types: grants.to_vec(),
            scopes: Scope::from_stored("read"),
            trusted: false,
            disabled: false,
            created_at: 0,
            tokens: Default::default(),
            source: Default::default(),
            expires_at: None,
            dialect: Default::default(),
        }
    }

    #[test]
    fn only_a_confidential_client_registered_for_it_gets_its_own_tokens() {
        use GrantType::*;
        // name, has a secret, its grants, whether it may use the grant
        let cases: &[(&str, bool, &[GrantType], bool)] = &[
            ("should issue to a confidential client registered for it", true, &[ClientCredentials], true),
            ("should fail because the client is not registered for it", true, &[AuthorizationCode], false),
            ("should fail because a public client has no credentials", false, &[ClientCredentials], false),
        ];
        for (name, secret, grants, want) in cases {
            let got = may_use(&client(*secret, grants)).map_err(|e| e.code);
            assert_eq!(got, if *want { Ok(()) } else { Err(ErrorCode::UnauthorizedClient) }, "{name}");
        }
    }
}
