//! CORS (`*`, never with credentials) for the endpoints other origins may
//! call; the router decides which those are.

use http::{Method, StatusCode};

use crate::http::{Request, Response};

/// CORS on an actual response: any origin may read it, never with
/// credentials (no cookies are set or read by these endpoints), and a
/// browser client may read `WWW-Authenticate` to learn why a token failed.
pub(super) fn allow_any_origin(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, http::HeaderValue::from_static("*"));
    h.insert(
        http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
        http::HeaderValue::from_static("WWW-Authenticate, Retry-After"),
    );
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the path's
/// methods and the request headers a client may send.
pub(super) fn preflight(methods: &[Method], req: &Request) -> Response {
    let mut methods: Vec<&str> = methods.iter().map(Method::as_str).collect();
    methods.push("OPTIONS");
    let mut res = Response::new(String::new());
    *res.status_mut() = StatusCode::NO_CONTENT;
    let asked = req
        .headers()
        .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 1024 && v.split(',').all(|h| is_token(h.trim())))
        .map(|v| v.to_owned());
    let h = res.headers_mut();
    if let Ok(v) = http::HeaderValue::from_str(&methods.join(", ")) {
        h.insert(http::header::ACCESS_CONTROL_ALLOW_METHODS, v);
    }
    let headers = asked.unwrap_or_else(|| "Authorization, Content-Type".to_owned());
    if let Ok(v) = http::HeaderValue::from_str(&headers) {
        h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    h.insert(http::header::ACCESS_CONTROL_MAX_AGE, http::HeaderValue::from_static("86400"));
    allow_any_origin(&mut res);
    res
}

/// An HTTP header name (RFC 9110 token).
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
