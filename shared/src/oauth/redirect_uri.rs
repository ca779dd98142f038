//! Redirect URIs: which may be registered (RFC 6749 3.1.2, RFC 8252 7.3),
//! which one an authorization request names (3.1.2.3), and the check at the
//! code exchange (4.1.3).

use crate::domain::{Client, CodeRecord};
use crate::error::OAuthError;

/// Why a redirect URI cannot be registered, for the operator. `https`
/// anywhere, `http` on a loopback host (RFC 8252 7.3), and for public
/// clients a private-use scheme in reverse-domain form (RFC 8252 7.1).
pub fn check_registrable(uri: &str, public: bool) -> Result<(), String> {
    let bad = |why: &str| Err(format!("redirect URI {uri:?} {why}"));
    if uri.contains('#') {
        return bad("must not have a fragment");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces");
    }
    let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
    if scheme != "http" && scheme != "https" {
        return match private_use_scheme(uri) {
            Some(_) if public => Ok(()),
            Some(_) => bad("uses a private-use scheme, which only public (native) clients may register"),
            None => bad(
                "must be an https URL (or, for a native app, a reverse-domain scheme such as com.example.app:/cb)",
            ),
        };
    }
    let Some(parsed) = parse_web(uri) else {
        return bad("is not a valid absolute URI");
    };
    match parsed.scheme.as_str() {
        "https" => Ok(()),
        _ if is_loopback(&parsed.host) => Ok(()),
        _ => bad("must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])"),
    }
}

/// The scheme of a private-use redirect URI such as `com.example.app:/cb`:
/// a reverse domain name (at least one dot), then a path with one slash
/// (RFC 8252 7.1), never one of the schemes a browser would run or read.
fn private_use_scheme(uri: &str) -> Option<&str> {
    let (scheme, rest) = uri.split_once(':')?;
    let valid = scheme.contains('.')
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && !scheme.starts_with('.')
        && !scheme.ends_with('.')
        && !scheme.contains("..")
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    let lower = scheme.to_ascii_lowercase();
    let dangerous = matches!(lower.as_str(), "javascript" | "data" | "file" | "vbscript" | "about" | "blob");
    (valid && !dangerous && rest.starts_with('/') && !rest.starts_with("//")).then_some(scheme)
}

/// The parts of an `http(s)` URI that matter for matching.
struct WebUri {
    scheme: String,
    host: String,
    port: Option<u16>,
    path_and_query: String,
}

fn parse_web(uri: &str) -> Option<WebUri> {
    let parsed = uri.parse::<http::Uri>().ok()?;
    let authority = parsed.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    Some(WebUri {
        scheme: parsed.scheme_str()?.to_ascii_lowercase(),
        host: authority.host().to_owned(),
        port: authority.port_u16(),
        path_and_query: parsed.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default(),
    })
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether `requested` is the registered URI: the same string, or for a
/// loopback `http` URI the same with any port (RFC 8252 7.3: native apps
/// listen on an ephemeral port). Nothing else is compared loosely, and a
/// URI with a fragment never matches (RFC 6749 3.1.2: "The endpoint URI
/// MUST NOT include a fragment component"): the parsed comparison below
/// drops it, and the code would then travel inside it.
pub fn matches(registered: &str, requested: &str) -> bool {
    if requested.contains('#') {
        return false;
    }
    if registered == requested {
        return true;
    }
    let (Some(reg), Some(req)) = (parse_web(registered), parse_web(requested)) else {
        return false;
    };
    reg.scheme == "http"
        && req.scheme == "http"
        && is_loopback(&reg.host)
        && reg.host == req.host
        && reg.path_and_query == req.path_and_query
        && req.port.is_none_or(|p| p != 0)
        && requested.starts_with(&format!("http://{}", req.host))
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
/// sentence for the error page. RFC 6749 3.1.2.3: compared as exact strings
/// (but for loopback ports, see [`matches`]); it may be left out when the
/// client registered exactly one.
pub fn resolve(client: &Client, requested: Option<&str>) -> Result<Resolved, &'static str> {
    match requested {
        Some(uri) if client.redirect_uris.iter().any(|r| matches(r, uri)) => {
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
    fn only_https_loopback_http_and_native_schemes_register() {
        // name, URI, public client, registrable
        let cases: &[(&str, &str, bool, bool)] = &[
            ("should register https", "https://app.example/cb", false, true),
            ("should register http on localhost", "http://localhost:8080/cb", false, true),
            ("should register http on 127.0.0.1", "http://127.0.0.1/cb", false, true),
            ("should register http on [::1]", "http://[::1]:1/x", false, true),
            (
                "should register a reverse-domain scheme for a public client",
                "com.example.app:/cb",
                true,
                true,
            ),
            (
                "should fail because a confidential client named a native scheme",
                "com.example.app:/cb",
                false,
                false,
            ),
            ("should fail because a native scheme has no dot", "myapp:/cb", true, false),
            ("should fail because a native scheme has an authority", "com.example.app://cb", true, false),
            ("should fail because javascript is not a redirect", "javascript:alert(1)", true, false),
            ("should fail because data is not a redirect", "data:text/html,x", true, false),
            ("should fail because file is not a redirect", "file:///etc/passwd", true, false),
            ("should fail because http is off loopback", "http://app.example/cb", false, false),
            (
                "should fail because of userinfo before a loopback host",
                "http://127.0.0.1@evil.example/",
                false,
                false,
            ),
            ("should fail because of a fragment", "https://app.example/cb#x", false, false),
            ("should fail because the scheme is not http(s)", "ftp://x/y", false, false),
            ("should fail because it is relative", "/relative", false, false),
            ("should fail because of a space", "https://a b/", false, false),
        ];
        for (name, uri, public, ok) in cases {
            assert_eq!(check_registrable(uri, *public).is_ok(), *ok, "{name}");
        }
    }

    #[test]
    fn loopback_uris_match_on_any_port_and_nothing_else_does() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("should match the same string", "https://a.example/cb", "https://a.example/cb", true),
            (
                "should match 127.0.0.1 on another port",
                "http://127.0.0.1/cb",
                "http://127.0.0.1:53121/cb",
                true,
            ),
            ("should match [::1] registered with a port", "http://[::1]:8080/cb", "http://[::1]:9/cb", true),
            (
                "should match localhost without a port",
                "http://localhost:3000/callback",
                "http://localhost/callback",
                true,
            ),
            (
                "should fail because the path differs",
                "http://127.0.0.1/cb",
                "http://127.0.0.1:5/other",
                false,
            ),
            (
                "should fail because the query differs",
                "http://127.0.0.1/cb",
                "http://127.0.0.1:5/cb?x=1",
                false,
            ),
            (
                "should fail because the loopback host differs",
                "http://127.0.0.1/cb",
                "http://localhost:5/cb",
                false,
            ),
            (
                "should fail because https ports are exact",
                "https://a.example/cb",
                "https://a.example:444/cb",
                false,
            ),
            (
                "should fail because https on loopback is exact",
                "https://127.0.0.1/cb",
                "https://127.0.0.1:5/cb",
                false,
            ),
            (
                "should fail because of userinfo",
                "http://127.0.0.1/cb",
                "http://127.0.0.1@evil.example/cb",
                false,
            ),
            (
                "should fail because the host is not loopback",
                "http://127.0.0.1/cb",
                "http://127.0.0.2:5/cb",
                false,
            ),
            (
                "should fail because of a fragment on the same port",
                "http://127.0.0.1:9/cb",
                "http://127.0.0.1:9/cb#f",
                false,
            ),
            (
                "should fail because of a fragment on another port",
                "http://127.0.0.1:9/cb",
                "http://127.0.0.1:5/cb#f",
                false,
            ),
            (
                "should fail because of a fragment without a port",
                "http://127.0.0.1/cb",
                "http://127.0.0.1/cb#f",
                false,
            ),
            (
                "should fail because of an empty fragment",
                "http://127.0.0.1:9/cb",
                "http://127.0.0.1:9/cb#",
                false,
            ),
            (
                "should fail because of a fragment on localhost",
                "http://localhost/cb",
                "http://localhost:3000/cb#f",
                false,
            ),
            (
                "should fail because of a fragment on [::1]",
                "http://[::1]:8080/cb",
                "http://[::1]:9/cb#f",
                false,
            ),
            (
                "should fail because of a fragment after a query",
                "http://127.0.0.1/cb?x=1",
                "http://127.0.0.1:5/cb?x=1#f",
                false,
            ),
            (
                "should fail because of a fragment even when registered with one",
                "https://a.example/cb#f",
                "https://a.example/cb#f",
                false,
            ),
        ];
        for (name, registered, requested, want) in cases {
            assert_eq!(matches(registered, requested), *want, "{name}");
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
            source: Default::default(),
            expires_at: None,
            dialect: Default::default(),
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
            ("should fail because of a fragment", &one, Some("https://a.example/cb#f"), Err(())),
        ];
        for (name, c, requested, want) in cases {
            assert_eq!(resolve(c, *requested).map_err(|_| ()), *want, "{name}");
        }
    }
}
