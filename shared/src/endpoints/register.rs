//! `POST /register`: dynamic client registration (RFC 7591), for clients
//! nobody can register by hand, such as MCP hosts.
//!
//! Registered clients are never trusted (consent always shows), expire after
//! a period without use (renewed as they are used), and one address may
//! register only so many per hour.

use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::admin::{self, AdminError, NewClient};
use crate::app::App;
use crate::config::RegistrationPolicy;
use crate::crypto;
use crate::domain::{Client, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{
    Request, Response, bearer_error, bearer_token, bounded_body, client_ip, json as json_response, media_type,
};
use crate::oauth::{clients, redirect_uri};

/// The longest client name kept.
const MAX_NAME_CHARS: usize = 100;
/// The most redirect URIs one client may register.
const MAX_REDIRECT_URIS: usize = 10;
/// The rate-limit window for registrations per address.
const WINDOW: i64 = 3600;

/// The client metadata ZeroAuth reads (RFC 7591 2); other members are ignored.
#[derive(Debug, Deserialize)]
struct Metadata {
    #[serde(default)]
    redirect_uris: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

fn invalid_metadata(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// `POST /register`.
pub async fn register(app: &App, req: Request) -> Result<Response, OAuthError> {
    let registration = &app.config.registration;
    match &registration.policy {
        RegistrationPolicy::Off => {
            return Err(OAuthError::new(
                ErrorCode::NotFound,
                "dynamic client registration is turned off on this server",
            ));
        }
        RegistrationPolicy::Open => {}
        RegistrationPolicy::InitialAccessToken { digest } => {
            let presented = bearer_token(req.headers())?;
            if !presented.is_some_and(|t| crypto::ct_eq(digest, &crypto::digest(&t))) {
                return Ok(bearer_error(&OAuthError::new(
                    ErrorCode::InvalidToken,
                    "registration needs the initial access token as `Authorization: Bearer <token>`",
                )));
            }
        }
    }
    let metadata = read_metadata(&req)?;
    let now = app.now();
    let method = metadata.token_endpoint_auth_method.clone().unwrap_or_else(|| "client_secret_basic".into());
    let asked_scope = metadata.scope.clone();
    let mut new = to_new_client(app, metadata)?;
    // The address's count and the deployment's scopes are read at once.
    let count = async {
        match client_ip(&req) {
            Some(ip) => app.store.hit(&format!("register:ip:{ip}"), now + WINDOW, now).await.map(Some),
            None => Ok(None),
        }
    };
    let (hits, scope) = tokio::join!(count, clients::registrable_scope(app, asked_scope.as_deref()));
    if hits
        .map_err(OAuthError::store("counting registrations"))?
        .is_some_and(|h| h > registration.per_ip_per_hour)
    {
        return Err(OAuthError::new(
            ErrorCode::TooManyRequests,
            "too many clients registered from this address; try again later",
        ));
    }
    new.scope = Some(scope?);
    let (client, secret) = admin::create_client(app.store.as_ref(), new, now).await.map_err(|e| match e {
        AdminError::Invalid(m) => invalid_metadata(m),
        AdminError::Store(s) => OAuthError::store("storing the client")(s),
    })?;
    let mut body = response_body(&client, &method);
    if let Some(secret) = secret {
        body["client_secret"] = json!(secret.secret());
        body["client_secret_expires_at"] = json!(0);
    }
    Ok(json_response(StatusCode::CREATED, &body))
}

fn read_metadata(req: &Request) -> Result<Metadata, OAuthError> {
    let body = bounded_body(req)?;
    if media_type(req.headers()).as_deref() != Some("application/json") {
        return Err(OAuthError::invalid_request("send the client metadata as Content-Type application/json"));
    }
    serde_json::from_slice(body)
        .map_err(|e| invalid_metadata(format!("the client metadata is not valid: {e}")))
}

/// Checks the metadata and turns it into a client to register: RFC 7591's
/// defaults, ZeroAuth's rules, and never trusted. Its scope is set after.
fn to_new_client(app: &App, m: Metadata) -> Result<NewClient, OAuthError> {
    let method = m.token_endpoint_auth_method.as_deref().unwrap_or("client_secret_basic");
    let public = match method {
        "none" => true,
        "client_secret_basic" | "client_secret_post" => false,
        other => {
            return Err(invalid_metadata(format!(
                "token_endpoint_auth_method {other:?} is not supported; use none, client_secret_basic or client_secret_post"
            )));
        }
    };
    let grants = registrable_grants(m.grant_types, public)?;
    let code_flow = grants.iter().any(|g| g.spec().redirects);
    let response_types = m.response_types.unwrap_or_else(|| vec!["code".into()]);
    if response_types.iter().any(|r| r != "code") || (code_flow && response_types.is_empty()) {
        return Err(invalid_metadata("only the response type \"code\" is supported"));
    }
    let redirect_uris = m.redirect_uris.unwrap_or_default();
    if code_flow && redirect_uris.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            "redirect_uris is required for the authorization_code grant",
        ));
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::new(
            ErrorCode::InvalidRedirectUri,
            format!("at most {MAX_REDIRECT_URIS} redirect_uris may be registered"),
        ));
    }
    for uri in &redirect_uris {
        redirect_uri::check_registrable(uri, public)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidRedirectUri, e))?;
    }
    let name = match m.client_name.as_deref().map(str::trim) {
        Some(n) if n.chars().any(char::is_control) => {
            return Err(invalid_metadata("client_name must not contain control characters"));
        }
        Some(n) if !n.is_empty() => n.chars().take(MAX_NAME_CHARS).collect(),
        _ => "Unnamed application".to_owned(),
    };
    Ok(NewClient {
        name,
        redirect_uris,
        grants: grants.iter().map(|g| g.as_str().to_owned()).collect(),
        scope: None,
        public,
        trusted: false,
        registered_until: Some(app.now() + app.config.registration.client_ttl),
        ..Default::default()
    })
}

/// The grant types a client registering itself asked for (RFC 7591 2:
/// `authorization_code` when it names none), if it may have them all.
fn registrable_grants(asked: Option<Vec<String>>, public: bool) -> Result<Vec<GrantType>, OAuthError> {
    let Some(asked) = asked else {
        return Ok(vec![GrantType::AuthorizationCode]);
    };
    asked
        .iter()
        .map(|name| {
            GrantType::from_name(name).filter(|g| g.self_registrable(public)).ok_or_else(|| {
                invalid_metadata(format!(
                    "grant type {name:?} cannot be registered{}",
                    if public { " by a public client" } else { "" }
                ))
            })
        })
        .collect()
}

/// The registration response (RFC 7591 3.2.1): the client's id and the
/// metadata as registered.
fn response_body(client: &Client, method: &str) -> serde_json::Value {
    json!({
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.name,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types": ["code"],
        "token_endpoint_auth_method": method,
        "scope": client.scopes.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::secret::SigningKey;
    use crate::store::memory::MemoryStore;

    #[test]
    fn metadata_becomes_a_never_trusted_client_or_says_what_is_wrong() {
        let app = App::new(
            Arc::new(MemoryStore::new()),
            Config::new("https://a.example", SigningKey::new(vec![1; 32])),
        );
        let web = json!(["https://app.example/cb"]);
        let eleven: Vec<String> = (0..11).map(|i| format!("https://app.example/{i}")).collect();
        // name, the metadata, (public, name) of the client to register, or the error
        type Case<'a> = (&'a str, serde_json::Value, Result<(bool, String), ErrorCode>);
        let cases: Vec<Case<'_>> = vec![
            (
                "should register a public client",
                json!({"redirect_uris": web, "token_endpoint_auth_method": "none", "client_name": "Inspector"}),
                Ok((true, "Inspector".into())),
            ),
            (
                "should default to a confidential client with a placeholder name",
                json!({"redirect_uris": web}),
                Ok((false, "Unnamed application".into())),
            ),
            (
                "should keep the first 100 characters of a name",
                json!({"redirect_uris": web, "client_name": "n".repeat(150)}),
                Ok((false, "n".repeat(100))),
            ),
            (
                "should need no redirect URI without the code flow",
                json!({"grant_types": ["client_credentials"]}),
                Ok((false, "Unnamed application".into())),
            ),
            (
                "should fail because the auth method is not offered",
                json!({"redirect_uris": web, "token_endpoint_auth_method": "private_key_jwt"}),
                Err(ErrorCode::InvalidClientMetadata),
            ),
            (
                "should fail because the implicit flow is not offered",
                json!({"redirect_uris": web, "response_types": ["token"]}),
                Err(ErrorCode::InvalidClientMetadata),
            ),
            (
                "should fail because the code flow needs a redirect URI",
                json!({"token_endpoint_auth_method": "none"}),
                Err(ErrorCode::InvalidRedirectUri),
            ),
            (
                "should fail because of too many redirect URIs",
                json!({"redirect_uris": eleven}),
                Err(ErrorCode::InvalidRedirectUri),
            ),
            (
                "should fail because a redirect URI has a fragment",
                json!({"redirect_uris": ["https://app.example/cb#x"]}),
                Err(ErrorCode::InvalidRedirectUri),
            ),
            (
                "should fail because the name has a control character",
                json!({"redirect_uris": web, "client_name": "a\u{7}b"}),
                Err(ErrorCode::InvalidClientMetadata),
            ),
        ];
        for (name, metadata, want) in cases {
            let metadata: Metadata =
                serde_json::from_value(metadata).unwrap_or_else(|e| panic!("{name}: {e}"));
            let got = to_new_client(&app, metadata);
            if let Ok(new) = &got {
                assert!(!new.trusted && new.registered_until.is_some(), "{name}: never trusted, and expires");
            }
            assert_eq!(got.map(|n| (n.public, n.name)).map_err(|e| e.code), want, "{name}");
        }
    }

    #[test]
    fn a_registering_client_gets_the_grants_the_catalogue_lets_it_have() {
        use GrantType::*;
        let names = |n: &[&str]| Some(n.iter().map(|s| (*s).to_owned()).collect());
        // name, grant_types asked for, public client, the grants registered
        type Case<'a> = (&'a str, Option<Vec<String>>, bool, Option<Vec<GrantType>>);
        let cases: &[Case<'_>] = &[
            ("should default to the code flow (RFC 7591 2)", None, true, Some(vec![AuthorizationCode])),
            (
                "should take RFC names",
                names(&["authorization_code", "refresh_token"]),
                true,
                Some(vec![AuthorizationCode, RefreshToken]),
            ),
            (
                "should take the names --grant and the seed file take",
                names(&["authorization-code", "refresh-token"]),
                true,
                Some(vec![AuthorizationCode, RefreshToken]),
            ),
            (
                "should take client_credentials from a confidential client",
                names(&["client_credentials"]),
                false,
                Some(vec![ClientCredentials]),
            ),
            (
                "should fail because a public client has no credentials",
                names(&["client_credentials"]),
                true,
                None,
            ),
            (
                "should fail because only the operator grants token exchange",
                names(&["urn:ietf:params:oauth:grant-type:token-exchange"]),
                false,
                None,
            ),
            ("should fail because implicit is not offered", names(&["implicit"]), false, None),
        ];
        for (name, asked, public, want) in cases {
            assert_eq!(registrable_grants(asked.clone(), *public).ok(), *want, "{name}");
        }
    }
}
