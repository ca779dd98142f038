//! The grant types of the token endpoint (RFC 6749 4.1.3, 4.4, 6; RFC 8693),
//! one file each; their names and who may have them are listed once, in the
//! catalogue beside [`GrantType`]. A grant takes its typed request and an
//! already-authenticated client, never the raw HTTP request, and returns
//! what it [`Issued`].

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod token_exchange;
pub mod upstream_token;

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::domain::{Dialect, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Response};
use crate::oauth::Scope;
use crate::secret::{AccessToken, RefreshToken};

/// A token request, parsed once according to its `grant_type`.
#[derive(Debug)]
pub enum TokenRequest {
    /// `authorization_code`.
    AuthorizationCode(authorization_code::CodeRequest),
    /// `refresh_token`.
    RefreshToken(refresh_token::RefreshRequest),
    /// `client_credentials`.
    ClientCredentials(client_credentials::CredentialsRequest),
    /// RFC 8693 token exchange.
    TokenExchange(token_exchange::ExchangeRequest),
}

impl TokenRequest {
    /// Reads the grant type and its parameters. Iternio and ItsYou.online
    /// send no `grant_type` with a code (SPEC.md section 5).
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let grant = match params.get("grant_type")? {
            Some(name) => GrantType::parse(name).ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    format!("grant_type `{name}` is not supported; use {}", GrantType::wire_names_sentence()),
                )
            })?,
            None => implied(params)?
                .ok_or_else(|| OAuthError::invalid_request("parameter `grant_type` is missing"))?,
        };
        match grant {
            GrantType::AuthorizationCode => {
                authorization_code::CodeRequest::parse(params).map(Self::AuthorizationCode)
            }
            GrantType::RefreshToken => refresh_token::RefreshRequest::parse(params).map(Self::RefreshToken),
            GrantType::ClientCredentials => {
                client_credentials::CredentialsRequest::parse(params).map(Self::ClientCredentials)
            }
            GrantType::TokenExchange => {
                token_exchange::ExchangeRequest::parse(params).map(Self::TokenExchange)
            }
        }
    }
}

/// The grant a request without `grant_type` is for: the one whose telltale
/// parameter it has (see [`crate::domain::GrantSpec::implied_by`]).
fn implied(params: &Params) -> Result<Option<GrantType>, OAuthError> {
    for grant in GrantType::ALL {
        if let Some(name) = grant.spec().implied_by
            && params.get(name)?.is_some()
        {
            return Ok(Some(grant));
        }
    }
    Ok(None)
}

/// What a grant issued: the successful token response (RFC 6749 5.1, plus
/// `created_at` and `state`).
#[derive(Debug)]
pub struct Issued {
    /// The access token.
    pub access_token: AccessToken,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// Granted scope.
    pub scope: Scope,
    /// The refresh token, where issued.
    pub refresh_token: Option<RefreshToken>,
    /// When it was issued.
    pub created_at: i64,
    /// `state`: the token request's, or else the authorization request's.
    pub state: Option<String>,
    /// The ID token, when the scope includes `openid`.
    pub id_token: Option<String>,
    /// RFC 8693 2.2.1 `issued_token_type`, for a token exchange.
    pub issued_token_type: Option<&'static str>,
}

impl Issued {
    /// The JSON response with `Cache-Control: no-store`, in the client's
    /// dialect: its extra name for the access token, if it has one.
    pub fn response(&self, dialect: &Dialect) -> Response {
        let mut body = json!({
            "access_token": self.access_token.secret(),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
            "created_at": self.created_at,
        });
        // A token that is not ZeroAuth's (a kept upstream token) has no scope here.
        if self.scope.is_empty()
            && self.issued_token_type.is_some()
            && let Some(o) = body.as_object_mut()
        {
            o.remove("scope");
        }
        if let Some(field) = &dialect.access_token_field {
            body[field.as_str()] = json!(self.access_token.secret());
        }
        if let Some(t) = self.issued_token_type {
            body["issued_token_type"] = json!(t);
        }
        if let Some(rt) = &self.refresh_token {
            body["refresh_token"] = json!(rt.secret());
        }
        if let Some(state) = &self.state {
            body["state"] = json!(state);
        }
        if let Some(id_token) = &self.id_token {
            body["id_token"] = json!(id_token);
        }
        crate::http::json(StatusCode::OK, &body)
    }
}

/// How long a refresh token issued to `client` lives: its own lifetime, or
/// the deployment's.
pub fn refresh_ttl(app: &App, client: &crate::domain::Client) -> i64 {
    client.tokens.refresh_token_ttl.unwrap_or(app.config.refresh_token_ttl)
}

/// Attempts at revoking a family after a detected replay, and the pause
/// before each retry.
const REVOKE_BACKOFF_MS: [u64; 3] = [0, 50, 250];

/// Revokes a grant whose code was replayed or whose refresh token was
/// reused (RFC 6749 4.1.2, RFC 9700 4.14.2), and returns the `invalid_grant`
/// to answer with. The family must not outlive a detected replay, so a
/// failed write is tried again (the store's own retries come first); only
/// when every attempt fails is the answer a server error.
async fn revoke_family(app: &App, grant_id: &str, description: &'static str) -> OAuthError {
    let mut last = None;
    for pause in REVOKE_BACKOFF_MS {
        if pause > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        match app.store.revoke_grant(grant_id).await {
            Ok(()) => return OAuthError::invalid_grant(description),
            Err(e) => {
                tracing::warn!(error = %e, "revoking a replayed token family failed; trying again");
                last = Some(e);
            }
        }
    }
    match last {
        Some(e) => OAuthError::store("revoking a token family")(e),
        None => OAuthError::invalid_grant(description),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_form;

    fn grant_of(r: &TokenRequest) -> GrantType {
        match r {
            TokenRequest::AuthorizationCode(_) => GrantType::AuthorizationCode,
            TokenRequest::RefreshToken(_) => GrantType::RefreshToken,
            TokenRequest::ClientCredentials(_) => GrantType::ClientCredentials,
            TokenRequest::TokenExchange(_) => GrantType::TokenExchange,
        }
    }

    #[test]
    fn a_token_request_goes_to_the_grant_its_rfc_name_or_its_code_names() {
        use GrantType::*;
        let exchange = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=t\
                        &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token";
        // name, form body, the grant it goes to (Err: the error)
        let cases: &[(&str, &str, Result<GrantType, ErrorCode>)] = &[
            ("should take a code", "grant_type=authorization_code&code=c", Ok(AuthorizationCode)),
            (
                "should take a code without grant_type (Iternio)",
                "code=c&redirect_uri=x",
                Ok(AuthorizationCode),
            ),
            ("should take a refresh token", "grant_type=refresh_token&refresh_token=r", Ok(RefreshToken)),
            ("should take client_credentials", "grant_type=client_credentials", Ok(ClientCredentials)),
            ("should take a token exchange by its URN", exchange, Ok(TokenExchange)),
            ("should fail because nothing names a grant", "", Err(ErrorCode::InvalidRequest)),
            (
                "should fail because a refresh token alone names no grant",
                "refresh_token=r",
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because password is not offered",
                "grant_type=password",
                Err(ErrorCode::UnsupportedGrantType),
            ),
            (
                "should fail because /token takes only RFC names",
                "grant_type=client-credentials",
                Err(ErrorCode::UnsupportedGrantType),
            ),
            (
                "should fail because grant_type repeats",
                "grant_type=client_credentials&grant_type=client_credentials",
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because the code grant needs a code",
                "grant_type=authorization_code",
                Err(ErrorCode::InvalidRequest),
            ),
        ];
        for (name, body, want) in cases {
            let parsed = parse_form(body.as_bytes()).and_then(|p| TokenRequest::parse(&p));
            assert_eq!(parsed.as_ref().map(grant_of).map_err(|e| e.code), *want, "{name}");
        }
    }

    #[test]
    fn an_unsupported_grant_type_names_the_ones_offered() {
        let err = parse_form(b"grant_type=implicit").and_then(|p| TokenRequest::parse(&p)).unwrap_err();
        for g in GrantType::advertised() {
            assert!(err.description.contains(g.wire), "{} is offered: {}", g.wire, err.description);
        }
    }

    fn issued(refresh: bool, state: Option<&str>) -> Issued {
        Issued {
            access_token: AccessToken::new("at"),
            expires_in: 60,
            scope: Scope::from_stored("read"),
            refresh_token: refresh.then(|| RefreshToken::new("rt")),
            created_at: 7,
            state: state.map(str::to_owned),
            id_token: None,
            issued_token_type: None,
        }
    }

    #[test]
    fn the_token_response_carries_what_was_issued_in_the_clients_dialect() {
        let iternio = Dialect { access_token_field: Some("user_token".into()), ..Default::default() };
        // name, what was issued, the dialect, fields present, fields absent
        type Case<'a> = (&'a str, Issued, Dialect, &'a [&'a str], &'a [&'a str]);
        let cases: &[Case<'_>] = &[
            (
                "should send the standard fields",
                issued(false, None),
                Dialect::default(),
                &["access_token", "token_type", "expires_in", "scope", "created_at"],
                &["refresh_token", "state", "id_token", "issued_token_type", "user_token"],
            ),
            (
                "should send the refresh token and state when there are some",
                issued(true, Some("s")),
                Dialect::default(),
                &["refresh_token", "state"],
                &["user_token"],
            ),
            (
                "should also send the access token under the dialect's name",
                issued(false, None),
                iternio,
                &["access_token", "user_token"],
                &["refresh_token"],
            ),
        ];
        for (name, issued, dialect, present, absent) in cases {
            let res = issued.response(dialect);
            assert_eq!(res.headers()["cache-control"], "no-store", "{name}");
            let body: serde_json::Value = serde_json::from_str(res.body()).unwrap_or_default();
            for field in *present {
                assert!(!body[*field].is_null(), "{name}: {field} in {body}");
            }
            for field in *absent {
                assert!(body.get(*field).is_none(), "{name}: no {field} in {body}");
            }
            if let Some(alias) = &dialect.access_token_field {
                assert_eq!(body[alias.as_str()], body["access_token"], "{name}");
            }
        }
    }
}
