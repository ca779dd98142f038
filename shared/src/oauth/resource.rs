//! Resource indicators (RFC 8707): which registered protected resource a
//! token is for. The resource becomes the token's audience (`aud`).

use crate::app::App;
use crate::domain::{Client, Resource};
use crate::error::OAuthError;
use crate::oauth::Scope;

/// Scopes that are ZeroAuth's own (OpenID Connect): valid with any resource.
pub const OWN_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Why a URI cannot name a resource (RFC 8707 2: "an absolute URI ... MUST
/// NOT include a fragment component"); `https`, or `http` on loopback.
pub fn check_uri(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("resource {uri:?} {why}"));
    if uri.contains('#') {
        return bad("must not have a fragment");
    }
    if uri.len() > 1024 || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must be a URI of at most 1024 characters without spaces");
    }
    let Ok(parsed) = uri.parse::<http::Uri>() else {
        return bad("is not an absolute URI");
    };
    let (Some(scheme), Some(authority)) = (parsed.scheme_str(), parsed.authority()) else {
        return bad("is not an absolute URI");
    };
    if authority.as_str().contains('@') {
        return bad("must not contain user information");
    }
    match scheme {
        "https" => Ok(()),
        "http" if matches!(authority.host(), "localhost" | "127.0.0.1" | "[::1]") => Ok(()),
        _ => bad("must be an https URL (or http on localhost)"),
    }
}

/// Whether `client` may ask for tokens for `resource`: it must be allowed
/// at least one of the scopes the resource accepts (or the resource names
/// none).
pub fn allowed(client: &Client, resource: &Resource) -> bool {
    resource.scopes.is_empty() || resource.scopes.iter().any(|s| client.scopes.contains(s))
}

/// The scopes `client` may be granted for `resource`: ZeroAuth's own and
/// those the resource accepts, among the client's.
pub fn scopes_for(client: &Client, resource: &Resource) -> Scope {
    Scope::from_tokens(client.scopes.iter().filter(|s| OWN_SCOPES.contains(s) || resource.scopes.contains(s)))
}

/// The registered resource at `uri` (none asked for: `None`); unknown or
/// malformed: `invalid_target`. A repeated `resource` is `invalid_request`
/// like any repeated parameter: ZeroAuth binds a token to one audience.
pub async fn lookup(app: &App, uri: Option<&str>) -> Result<Option<Resource>, OAuthError> {
    let Some(uri) = uri else {
        return Ok(None);
    };
    check_uri(uri).map_err(OAuthError::invalid_target)?;
    let resource = app.store.get_resource(uri).await.map_err(OAuthError::store("reading the resource"))?;
    resource
        .ok_or_else(|| {
            OAuthError::invalid_target(format!("resource {uri:?} is not registered with this server"))
        })
        .map(Some)
}

/// `resource`, if `client` may ask for it; else `invalid_target`.
pub fn allowed_for(client: &Client, resource: Resource) -> Result<Resource, OAuthError> {
    if allowed(client, &resource) {
        Ok(resource)
    } else {
        Err(OAuthError::invalid_target(format!(
            "this client may not ask for tokens for resource {:?}: it is allowed none of its scopes",
            resource.uri
        )))
    }
}

/// At the token endpoint, `resource` may repeat the one the grant is bound
/// to or be left out; anything else would widen or change the audience.
pub fn check_bound(asked: Option<&str>, bound: Option<&str>) -> Result<(), OAuthError> {
    match (asked, bound) {
        (None, _) => Ok(()),
        (Some(asked), Some(b)) if asked == b => Ok(()),
        (Some(asked), Some(b)) => Err(OAuthError::invalid_target(format!(
            "resource {asked:?} was not granted; this grant is for {b:?}"
        ))),
        (Some(asked), None) => Err(OAuthError::invalid_target(format!(
            "resource {asked:?} was not granted; the authorization request named no resource"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_absolute_uris_without_fragments() {
        let cases: &[(&str, &str, bool)] = &[
            ("should accept https", "https://mcp.example.com/mcp", true),
            ("should accept http on localhost", "http://localhost:3000/mcp", true),
            ("should fail because of a fragment", "https://mcp.example.com/mcp#x", false),
            ("should fail because it is relative", "/mcp", false),
            ("should fail because it is a URN", "urn:example:api", false),
            ("should fail because http is off loopback", "http://mcp.example.com/", false),
            ("should fail because of userinfo", "https://u@mcp.example.com/", false),
            ("should fail because of a space", "https://mcp.example.com/a b", false),
        ];
        for (name, uri, ok) in cases {
            assert_eq!(check_uri(uri).is_ok(), *ok, "{name}");
        }
    }
}
