//! Redirect URIs: which may be registered (RFC 6749 3.1.2, RFC 8252 7.3),
//! which one an authorization request names (3.1.2.3), and the check at the
//! code exchange (4.1.3).

use crate::domain::{Client, CodeRecord};
use crate::error::OAuthError;

/// Why a redirect URI cannot be registered, for the operator.
pub fn check_registrable(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("redirect URI {uri:?} {why}"));
    if uri.contains('#') {
        return bad("must not have a fragment");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces");
    }
    let Ok(parsed) = uri.parse::<http::Uri>() else {
        return bad("is not a valid absolute URI");
    };
    let Some(host) = parsed.host() else {
        return bad("has no host");
    };
    match parsed.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if matches!(host, "localhost" | "127.0.0.1" | "[::1]") => Ok(()),
        Some("http") => bad("must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"),
        _ => bad("must be an https URL"),
    }
}

/// The redirect URI an authorization request is answered at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The URI.
    pub uri: String,
    /// Whether the request named it (then the token request must too).
    pub given: bool,
}

/// The redirect URI for a request that named `requested` (or none), or the
/// sentence for the error page. RFC 6749 3.1.2.3: compared as exact strings;
/// it may be left out when the client registered exactly one.
pub fn resolve(client: &Client, requested: Option<&str>) -> Result<Resolved, &'static str> {
    match requested {
        Some(uri) if client.redirect_uris.iter().any(|r| r == uri) => {
            Ok(Resolved { uri: uri.to_owned(), given: true })
        }
        Some(_) => Err("The redirect_uri is not registered for this application."),
        None => match client.redirect_uris.as_slice() {
            [only] => Ok(Resolved { uri: only.clone(), given: false }),
            _ => Err("The request has no redirect_uri and the application has several registered."),
        },
    }
}

/// RFC 6749 4.1.3: redirect_uri is REQUIRED at the token endpoint if it was
/// included in the authorization request, "and their values MUST be identical".
pub fn check_at_exchange(code: &CodeRecord, given: Option<&str>) -> Result<(), OAuthError> {
    match given {
        Some(uri) if uri != code.redirect_uri => {
            Err(OAuthError::invalid_grant("redirect_uri does not match the one the code was issued for"))
        }
        None if code.redirect_uri_given => {
            Err(OAuthError::invalid_grant("redirect_uri is required: the authorization request named one"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_loopback_http_redirect_uris_register() {
        let cases: &[(&str, &str, bool)] = &[
            ("should register https", "https://app.example/cb", true),
            ("should register http on localhost", "http://localhost:8080/cb", true),
            ("should register http on 127.0.0.1", "http://127.0.0.1/cb", true),
            ("should register http on [::1]", "http://[::1]:1/x", true),
            ("should fail because http is off loopback", "http://app.example/cb", false),
            ("should fail because of a fragment", "https://app.example/cb#x", false),
            ("should fail because the scheme is not http(s)", "ftp://x/y", false),
            ("should fail because it is relative", "/relative", false),
            ("should fail because of a space", "https://a b/", false),
        ];
        for (name, uri, ok) in cases {
            assert_eq!(check_registrable(uri).is_ok(), *ok, "{name}");
        }
    }

    fn client(uris: &[&str]) -> Client {
        Client {
            client_id: "app".into(),
            name: "App".into(),
            secret_hash: None,
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            grant_types: vec![],
            scopes: Default::default(),
            trusted: false,
            disabled: false,
            created_at: 0,
            tokens: Default::default(),
        }
    }

    #[test]
    fn requests_name_a_registered_uri_exactly() {
        let one = client(&["https://a.example/cb"]);
        let two = client(&["https://a.example/cb", "https://a.example/other"]);
        let ok = |uri: &str, given| Ok(Resolved { uri: uri.to_owned(), given });
        // name, the client, the redirect_uri asked for, the one answered at
        type Case<'a> = (&'a str, &'a Client, Option<&'a str>, Result<Resolved, ()>);
        let cases: &[Case<'_>] = &[
            (
                "should take the registered URI",
                &one,
                Some("https://a.example/cb"),
                ok("https://a.example/cb", true),
            ),
            ("should default to the only URI", &one, None, ok("https://a.example/cb", false)),
            (
                "should take either of two",
                &two,
                Some("https://a.example/other"),
                ok("https://a.example/other", true),
            ),
            ("should fail because none was named among two", &two, None, Err(())),
            ("should fail because of a trailing slash", &one, Some("https://a.example/cb/"), Err(())),
            ("should fail because of an added query", &one, Some("https://a.example/cb?x=1"), Err(())),
            ("should fail because of another case", &one, Some("https://A.example/cb"), Err(())),
        ];
        for (name, c, requested, want) in cases {
            assert_eq!(resolve(c, *requested).map_err(|_| ()), *want, "{name}");
        }
    }
}
