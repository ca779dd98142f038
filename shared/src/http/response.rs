//! The response builders every handler uses: JSON, HTML pages with their
//! security headers, redirects, cookies and the RFC error shapes.

use http::StatusCode;
use http::header::{self, HeaderValue};

use super::Response;
use crate::error::{ErrorCode, OAuthError};

fn build(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut res = http::Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// A JSON response with `Cache-Control: no-store`.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    build(status, "application/json", value.to_string())
}

/// An HTML page with the security headers: no caching, no framing, no referrer.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut res = build(status, "text/html; charset=utf-8", body);
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            // No form-action: browsers apply it to the redirect that follows the
            // form post, which would block the 303 to the client's redirect URI.
            "default-src 'none'; style-src 'unsafe-inline'; img-src https:; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// A redirect to `location` with the given status (302 or 303).
pub fn redirect(status: StatusCode, location: &str) -> Response {
    let mut res = build(status, "text/plain; charset=utf-8", String::new());
    match HeaderValue::from_str(location) {
        Ok(v) => {
            res.headers_mut().insert(header::LOCATION, v);
            res.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            res
        }
        Err(_) => {
            let e = OAuthError::server("a redirect location is not a valid header value");
            e.log();
            error_json(&e)
        }
    }
}

/// Appends a `Set-Cookie` header.
pub fn set_cookie(res: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The RFC 6749 5.2 JSON error response; `invalid_client` is a 401 with
/// `WWW-Authenticate: Basic`, which RFC 6749 5.2 requires when the client
/// used Basic and permits otherwise.
pub fn error_json(err: &OAuthError) -> Response {
    let mut res = json(
        err.status(),
        &serde_json::json!({ "error": err.code.as_str(), "error_description": err.description }),
    );
    if err.status() == StatusCode::UNAUTHORIZED && err.code == ErrorCode::InvalidClient {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"zeroauth\""));
    }
    res
}

/// RFC 6750 3: an error at a protected resource, with `WWW-Authenticate:
/// Bearer`. An error with no description means no token was sent: a 401
/// whose challenge carries no error code (RFC 6750 3.1).
pub fn bearer_error(e: &OAuthError) -> Response {
    let mut challenge = String::from("Bearer realm=\"zeroauth\"");
    if !e.description.is_empty() {
        // A header value is visible ASCII: anything else would drop the header.
        let desc: String = e
            .description
            .chars()
            .map(|c| if c == '"' || c == '\\' { '\'' } else { c })
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .collect();
        challenge.push_str(&format!(", error=\"{}\", error_description=\"{desc}\"", e.code.as_str()));
    }
    let mut res = if e.description.is_empty() {
        json(
            StatusCode::UNAUTHORIZED,
            &serde_json::json!({ "error": "invalid_token", "error_description": "an access token is required" }),
        )
    } else {
        error_json(e)
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Appends `name=value` pairs to a URI's query, keeping any it has.
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    let q = ser.finish();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}
