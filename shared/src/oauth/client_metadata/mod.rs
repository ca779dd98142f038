//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
//! MCP "Client Registration"): a `client_id` that is an `https` URL names a
//! JSON document describing the client, fetched from that URL.
//!
//! The fetch is guarded against server-side request forgery: `https` only,
//! no redirects, a few seconds, at most [`MAX_DOCUMENT_BYTES`], and the host
//! must resolve to public addresses only (the resolver refuses loopback,
//! private, link-local and metadata addresses, and the connection goes to
//! the address it checked). A valid document is cached in the store for its
//! `Cache-Control` max-age, clamped to [[`MIN_CACHE`], [`MAX_CACHE`]];
//! failures are never cached. Such clients are public and never trusted.

pub(crate) mod fetch;

use serde::Deserialize;

use crate::app::App;
use crate::config::ClientMetadataDocuments;
use crate::domain::{Client, ClientSource, GrantType};
use crate::error::OAuthError;
use crate::oauth::{Scope, redirect_uri, registered};
use crate::store::StoreError;

pub use fetch::{MAX_DOCUMENT_BYTES, is_public};

/// The shortest time a document is cached.
pub const MIN_CACHE: i64 = 300;
/// The longest time a document is cached.
pub const MAX_CACHE: i64 = 86_400;

/// Whether `client_id` names a metadata document (an `https` URL).
pub fn is_document_url(client_id: &str) -> bool {
    client_id.starts_with("https://")
}

/// Why a document could not be used, as `invalid_client` with the reason.
fn refused(url: &str, why: impl std::fmt::Display) -> OAuthError {
    OAuthError::invalid_client(format!("the client metadata document at {url} cannot be used: {why}"))
}

/// Checks the URL itself: `https`, a path, no query, fragment, userinfo or
/// dot segments, and a host the operator allows.
pub fn check_url(url: &str, cfg: &ClientMetadataDocuments) -> Result<(), String> {
    if url.contains('#') {
        return Err("the URL has a fragment".into());
    }
    let parsed: http::Uri = url.parse().map_err(|_| "it is not a valid URL".to_owned())?;
    if parsed.scheme_str() != Some("https") {
        return Err("it is not an https URL".into());
    }
    let authority = parsed.authority().ok_or("it has no host")?;
    if authority.as_str().contains('@') {
        return Err("the URL has user information".into());
    }
    if parsed.query().is_some() {
        return Err("the URL has a query".into());
    }
    let path = parsed.path();
    if path.is_empty() || path == "/" {
        return Err("the URL has no path".into());
    }
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err("the URL has dot segments".into());
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    if !cfg.domains.is_empty() && !cfg.domains.iter().any(|d| host == *d || host.ends_with(&format!(".{d}")))
    {
        return Err(format!("{host} is not among the domains this server accepts client metadata from"));
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>()
        && !is_public(ip)
        && !cfg.test_hosts.contains(&host)
    {
        return Err(format!("{ip} is not a public address"));
    }
    Ok(())
}

/// What ZeroAuth reads from a document; other members are ignored.
#[derive(Debug, Deserialize)]
struct Document {
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    /// Some clients (ChatGPT) send the server-metadata name instead.
    #[serde(default)]
    token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    response_types: Option<Vec<String>>,
    #[serde(default)]
    scope: Option<String>,
}

/// The client a metadata-document URL names: from the cache while it is
/// fresh, else fetched, validated and cached.
pub async fn resolve(app: &App, url: &str) -> Result<Option<Client>, OAuthError> {
    let cfg = &app.config.client_metadata;
    if !cfg.enabled {
        return Ok(None);
    }
    if let Some(cached) = registered::find(app, url).await? {
        return Ok(Some(cached));
    }
    check_url(url, cfg).map_err(|why| refused(url, why))?;
    let (body, max_age) = fetch::fetch(cfg, url).await.map_err(|why| refused(url, why))?;
    let now = app.now();
    let ttl = max_age.unwrap_or(MIN_CACHE).clamp(MIN_CACHE, MAX_CACHE);
    let client = validate(app, url, &body, now + ttl).await?;
    cache(app, &client).await;
    Ok(Some(client))
}

/// Checks a fetched document and makes the client it describes.
async fn validate(app: &App, url: &str, body: &[u8], expires_at: i64) -> Result<Client, OAuthError> {
    let doc: Document =
        serde_json::from_slice(body).map_err(|e| refused(url, format!("it is not a valid document: {e}")))?;
    if doc.client_id != url {
        return Err(refused(
            url,
            format!("its client_id is {:?}, not the URL it was fetched from", doc.client_id),
        ));
    }
    let method = doc.token_endpoint_auth_method.as_deref().or_else(|| {
        doc.token_endpoint_auth_methods_supported
            .as_ref()
            .map(|m| if m.iter().any(|x| x == "none") { "none" } else { "unsupported" })
    });
    if method.is_some_and(|m| m != "none") {
        return Err(refused(url, "its token_endpoint_auth_method must be none (no shared secrets)"));
    }
    if doc.redirect_uris.is_empty() {
        return Err(refused(url, "it names no redirect_uris"));
    }
    for uri in &doc.redirect_uris {
        redirect_uri::check_registrable(uri, true).map_err(|e| refused(url, e))?;
    }
    let mut grant_types = Vec::new();
    let asked = doc.grant_types.unwrap_or_else(|| {
        [GrantType::AuthorizationCode, GrantType::RefreshToken].map(|g| g.as_str().to_owned()).into()
    });
    for g in asked {
        match GrantType::parse(&g) {
            // Such a client is public: it has no secret.
            Some(t) if t.self_registrable(true) => grant_types.push(t),
            _ => return Err(refused(url, format!("grant type {g:?} is not available to such clients"))),
        }
    }
    if doc.response_types.is_some_and(|r| r.iter().any(|t| t != "code")) {
        return Err(refused(url, "only the response type \"code\" is supported"));
    }
    let host = url.parse::<http::Uri>().ok().and_then(|u| u.host().map(str::to_owned)).unwrap_or_default();
    let name = doc
        .client_name
        .map(|n| n.trim().chars().filter(|c| !c.is_control()).take(100).collect::<String>())
        .filter(|n| !n.is_empty())
        .unwrap_or(host);
    let scope = registered::registrable_scope(app, doc.scope.as_deref()).await?;
    Ok(Client {
        client_id: url.to_owned(),
        name,
        secret_hash: None,
        redirect_uris: doc.redirect_uris,
        grant_types,
        scopes: Scope::from_stored(&scope),
        trusted: false,
        disabled: false,
        created_at: app.now(),
        tokens: Default::default(),
        source: ClientSource::MetadataDocument,
        expires_at: Some(expires_at),
        dialect: Default::default(),
    })
}

/// Keeps a validated document's client until it expires. Losing this write
/// only means the next request fetches the document again.
async fn cache(app: &App, client: &Client) {
    let result = match app.store.update_client(client).await {
        Err(StoreError::NotFound(_)) => app.store.create_client(client).await,
        other => other,
    };
    match result {
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => tracing::warn!(error = %e, "could not cache a client metadata document"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(domains: &[&str], test_hosts: &[&str]) -> ClientMetadataDocuments {
        ClientMetadataDocuments {
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            test_hosts: test_hosts.iter().map(|d| (*d).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn document_urls_are_https_with_a_plain_path() {
        let any = cfg(&[], &[]);
        let cases: &[(&str, &str, bool)] = &[
            ("should accept an https URL with a path", "https://app.example/oauth/client.json", true),
            ("should accept a port", "https://app.example:8443/c", true),
            ("should fail because it is http", "http://app.example/c", false),
            ("should fail because it has no path", "https://app.example", false),
            ("should fail because the path is /", "https://app.example/", false),
            ("should fail because of a query", "https://app.example/c?x=1", false),
            ("should fail because of a fragment", "https://app.example/c#x", false),
            ("should fail because of userinfo", "https://u:p@app.example/c", false),
            ("should fail because of a dot segment", "https://app.example/a/../c", false),
            ("should fail because of a private address", "https://10.0.0.1/c", false),
            ("should fail because of the metadata address", "https://169.254.169.254/latest", false),
            ("should fail because of loopback", "https://127.0.0.1/c", false),
            ("should fail because of IPv6 loopback", "https://[::1]/c", false),
        ];
        for (name, url, ok) in cases {
            assert_eq!(check_url(url, &any).is_ok(), *ok, "{name}");
        }
        let listed = cfg(&["example.com"], &[]);
        assert!(
            check_url("https://mcp.example.com/c", &listed).is_ok(),
            "should accept a listed domain's subdomain"
        );
        assert!(
            check_url("https://evil-example.com/c", &listed).is_err(),
            "should fail because it is not listed"
        );
        let test = cfg(&[], &["127.0.0.1"]);
        assert!(check_url("https://127.0.0.1/c", &test).is_ok(), "should accept a named test host");
    }
}
