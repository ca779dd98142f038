//! Authorization server metadata (RFC 8414), also served as an OpenID
//! configuration document.

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::config::RegistrationPolicy;
use crate::domain::{Acr, GrantType};
use crate::error::OAuthError;
use crate::http::{Request, Response, json as json_response};
use crate::oauth::scope::KNOWN_SCOPES;
use crate::oauth::{claims, jwt};
use crate::paths::Endpoint;

/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`.
pub async fn metadata(app: &App, _req: Request) -> Result<Response, OAuthError> {
    let known: Vec<String> = KNOWN_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    let mut body = json!({
        "issuer": app.config.issuer,
        "authorization_endpoint": app.url(Endpoint::Authorize.path()),
        "token_endpoint": app.url(Endpoint::Token.path()),
        "userinfo_endpoint": app.url(Endpoint::Userinfo.path()),
        "revocation_endpoint": app.url(Endpoint::Revoke.path()),
        "introspection_endpoint": app.url(Endpoint::Introspect.path()),
        "end_session_endpoint": app.url(Endpoint::Logout.path()),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::advertised().map(|g| g.wire).collect::<Vec<_>>(),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "jwks_uri": app.url(Endpoint::Jwks.path()),
        "id_token_signing_alg_values_supported": jwt::signing_algs(app),
        "scopes_supported": app.config.scopes_supported.as_deref().unwrap_or(&known),
        "subject_types_supported": ["public"],
        "claims_supported": claims::SUPPORTED,
        "authorization_response_iss_parameter_supported": true,
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": Acr::ALL.map(Acr::as_str),
        "client_id_metadata_document_supported": app.config.client_metadata.enabled,
    });
    if app.config.registration.policy != RegistrationPolicy::Off {
        body["registration_endpoint"] = json!(app.url(Endpoint::Register.path()));
    }
    let mut res = json_response(StatusCode::OK, &body);
    res.headers_mut()
        .insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, max-age=300"));
    res.headers_mut().remove(http::header::PRAGMA);
    Ok(res)
}

/// `GET /jwks`: the published signing keys (RFC 7517), cacheable for five
/// minutes — a next key is published well before it signs.
pub async fn jwks(app: &App, _req: Request) -> Result<Response, OAuthError> {
    let mut res = crate::http::Response::new(app.config.keys.jwks().to_owned());
    res.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    res.headers_mut()
        .insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, max-age=300"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::secret::SigningKey;
    use crate::store::memory::MemoryStore;

    async fn document(policy: RegistrationPolicy) -> serde_json::Value {
        let mut config = Config::new("https://auth.example", SigningKey::new(vec![1; 32]));
        config.registration.policy = policy;
        let app = App::new(Arc::new(MemoryStore::new()), config);
        let req = http::Request::builder().uri("/.well-known/openid-configuration").body(Default::default());
        let res = metadata(&app, req.unwrap_or_default()).await.map(|r| r.into_body()).unwrap_or_default();
        serde_json::from_str(&res).unwrap_or_default()
    }

    #[tokio::test]
    async fn the_document_offers_the_catalogues_grants_and_registration_only_when_served() {
        let initial = RegistrationPolicy::InitialAccessToken { digest: "d".into() };
        // name, registration policy, whether registration_endpoint is listed
        let cases = [
            ("should not list registration that is off", RegistrationPolicy::Off, false),
            ("should list open registration", RegistrationPolicy::Open, true),
            ("should list registration behind an initial access token", initial, true),
        ];
        let grants: Vec<&str> = GrantType::advertised().map(|g| g.wire).collect();
        for (name, policy, listed) in cases {
            let doc = document(policy).await;
            assert_eq!(doc["issuer"], "https://auth.example", "{name}: {doc}");
            assert_eq!(doc["grant_types_supported"], json!(grants), "{name}");
            assert_eq!(
                doc.get("registration_endpoint").and_then(|v| v.as_str()),
                listed.then_some("https://auth.example/register"),
                "{name}"
            );
        }
    }
}
