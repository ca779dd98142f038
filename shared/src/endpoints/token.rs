//! `POST /token` (RFC 6749 3.2): parse the request once, authenticate the
//! client while the grant's record is read, then hand both to the grant.

use crate::app::App;
use crate::error::OAuthError;
use crate::grants::{TokenRequest, authorization_code, client_credentials, refresh_token, token_exchange};
use crate::http::{Request, Response, body_params};
use crate::oauth::client_auth::authenticate;
use crate::oauth::{ClientCredentials, resource};

/// `POST /token`.
pub async fn token(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let request = TokenRequest::parse(&params)?;
    let creds = ClientCredentials::from_request(req.headers(), &params)?;
    let now = app.now();
    let (client, issued) = match request {
        TokenRequest::AuthorizationCode(r) => {
            let (client, code) = tokio::join!(authenticate(app, &creds), r.load(app, now));
            let client = client?;
            let issued = authorization_code::exchange(app, &client, r, code?, now).await?;
            (client, issued)
        }
        TokenRequest::RefreshToken(r) => {
            let (client, grant) = tokio::join!(authenticate(app, &creds), r.load(app, now));
            let client = client?;
            let issued = refresh_token::refresh(app, &client, r, grant?, now).await?;
            (client, issued)
        }
        TokenRequest::ClientCredentials(r) => {
            let (client, target) =
                tokio::join!(authenticate(app, &creds), resource::lookup(app, r.resource.as_deref()));
            let client = client?;
            let issued = client_credentials::issue(app, &client, r, target?).await?;
            (client, issued)
        }
        TokenRequest::TokenExchange(r) => {
            let (client, subject) = tokio::join!(authenticate(app, &creds), r.load(app));
            let client = client?;
            let issued = token_exchange::exchange(app, &client, r, subject?).await?;
            (client, issued)
        }
    };
    Ok(issued.response(&client.dialect))
}
