//! The token endpoint (RFC 6749 section 3.2): client authentication, the
//! grant dispatch, and the token response. One file per grant type.

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::crypto;
use crate::domain::Client;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response, basic_credentials, body_params, error_json};
use crate::secret::ClientSecret;

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

/// Prefix of access tokens.
pub const ACCESS_PREFIX: &str = "za_at_";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "za_rt_";
/// Prefix of authorization codes.
pub const CODE_PREFIX: &str = "za_ac_";

/// `POST /token`.
pub async fn token(app: &App, req: Request) -> Response {
    match token_inner(app, &req).await {
        Ok(res) => res,
        Err(e) => error_json(&e),
    }
}

async fn token_inner(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let params = body_params(req)?;
    // Iternio and ItsYou.online send no grant_type with a code (SPEC.md section 5).
    let grant_type = match params.get("grant_type")? {
        Some(g) => g,
        None if params.get("code")?.is_some() => "authorization_code",
        None => return Err(OAuthError::invalid_request("parameter `grant_type` is missing")),
    };
    match grant_type {
        "authorization_code" => authorization_code::exchange(app, req, &params).await,
        "refresh_token" => refresh_token::refresh(app, req, &params).await,
        "client_credentials" => client_credentials::issue(app, req, &params).await,
        other => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type `{other}` is not supported; use authorization_code, refresh_token or client_credentials"
            ),
        )),
    }
}

/// How the client presented itself, before its record is read.
#[derive(Debug)]
pub struct ClientCredentials {
    /// The claimed client id.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub secret: Option<ClientSecret>,
}

/// Reads the client's credentials from Basic or the body, one way only
/// (RFC 6749 2.3). No credentials at all is `invalid_client`.
pub fn client_credentials_of(req: &Request, params: &Params) -> Result<ClientCredentials, OAuthError> {
    let basic = basic_credentials(req.headers())?;
    let body_id = params.get("client_id")?;
    let body_secret = params.get("client_secret")?;
    match basic {
        Some((id, secret)) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "the client authenticated twice (Basic and client_secret); use one method",
                ));
            }
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            Ok(ClientCredentials { client_id: id, secret: Some(secret) })
        }
        None => match (body_id, body_secret) {
            (Some(id), secret) => {
                Ok(ClientCredentials { client_id: id.to_owned(), secret: secret.map(ClientSecret::new) })
            }
            (None, Some(_)) => Err(OAuthError::invalid_request("client_secret was sent without client_id")),
            (None, None) => Err(OAuthError::invalid_client(
                "client authentication is required: HTTP Basic, or client_id (+ client_secret) in the body",
            )),
        },
    }
}

/// Checks presented credentials against the client's record: the client must
/// exist and be enabled; a confidential client must present its secret; a
/// public client must not present one.
pub fn verify_client(creds: &ClientCredentials, client: Option<Client>) -> Result<Client, OAuthError> {
    let fail = || OAuthError::invalid_client("client authentication failed: unknown client or wrong secret");
    let client = client.filter(|c| !c.disabled).ok_or_else(fail)?;
    match (&client.secret_hash, &creds.secret) {
        (Some(hash), Some(secret)) if crypto::ct_eq(hash, &crypto::digest(secret.secret())) => Ok(client),
        (None, None) => Ok(client),
        (None, Some(_)) => {
            Err(OAuthError::invalid_client("this is a public client; it has no secret to send"))
        }
        _ => Err(fail()),
    }
}

/// Reads and verifies the client in one step.
pub async fn authenticate_client(app: &App, req: &Request, params: &Params) -> Result<Client, OAuthError> {
    let creds = client_credentials_of(req, params)?;
    let client = app.store.get_client(&creds.client_id).await?;
    verify_client(&creds, client)
}

/// Checks a requested scope against what may be granted; `None` asks for all of it.
pub fn narrow_scope(requested: Option<&str>, allowed: &[String]) -> Result<String, OAuthError> {
    let Some(requested) = requested else {
        return Ok(allowed.join(" "));
    };
    let mut out: Vec<&str> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
            return Err(OAuthError::invalid_scope(format!(
                "scope `{s}` has characters RFC 6749 3.3 does not allow"
            )));
        }
        if !allowed.iter().any(|a| a == s) {
            return Err(OAuthError::invalid_scope(format!("scope `{s}` is not allowed for this client")));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

/// The successful token response (RFC 6749 5.1, plus `created_at` and `state`).
pub struct Issued<'a> {
    /// The access token.
    pub access_token: &'a str,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// Granted scope.
    pub scope: &'a str,
    /// The refresh token, where issued.
    pub refresh_token: Option<&'a str>,
    /// When it was issued.
    pub created_at: i64,
    /// `state`: the token request's, or else the authorization request's.
    pub state: Option<&'a str>,
}

impl Issued<'_> {
    /// The JSON response with `Cache-Control: no-store`.
    pub fn response(&self) -> Response {
        let mut body = json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
            "created_at": self.created_at,
        });
        if let Some(rt) = self.refresh_token {
            body["refresh_token"] = json!(rt);
        }
        if let Some(state) = self.state {
            body["state"] = json!(state);
        }
        crate::http::json(StatusCode::OK, &body)
    }
}

/// Maps a random-source failure to a server error.
pub(crate) fn rng<T>(r: Result<T, crypto::RandomError>) -> Result<T, OAuthError> {
    r.map_err(OAuthError::server)
}
