//! Which handler answers which method and path. The Lambda functions each
//! mount a part of the table; the local server mounts all of it.

use http::{Method, StatusCode};

use crate::app::App;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, error_json};

/// The Lambda function that owns a route (SPEC.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `GET /authorize`.
    Authorize,
    /// `POST /callback`.
    Callback,
    /// `POST /token`, `/revoke`, `/introspect`.
    Token,
    /// `/userinfo` and the discovery documents.
    Userinfo,
}

/// Which functions' routes a process answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Every route: the local server.
    All,
    /// One function's routes: a Lambda binary.
    Only(Function),
}

impl Mount {
    fn includes(self, f: Function) -> bool {
        self == Mount::All || self == Mount::Only(f)
    }
}

/// The routes: path, owning function, allowed methods.
pub const ROUTES: &[(&str, Function, &[Method])] = &[
    ("/authorize", Function::Authorize, &[Method::GET]),
    ("/callback", Function::Callback, &[Method::POST]),
    ("/token", Function::Token, &[Method::POST]),
    ("/revoke", Function::Token, &[Method::POST]),
    ("/introspect", Function::Token, &[Method::POST]),
    ("/userinfo", Function::Userinfo, &[Method::GET, Method::POST]),
    ("/.well-known/oauth-authorization-server", Function::Userinfo, &[Method::GET]),
    ("/.well-known/openid-configuration", Function::Userinfo, &[Method::GET]),
];

/// Answers a request: 404 for unknown paths, 405 (with `Allow`) for the
/// wrong method, otherwise the handler's response.
pub async fn route(app: &App, mount: Mount, req: Request) -> Response {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let Some((_, function, methods)) = ROUTES.iter().find(|(p, f, _)| *p == path && mount.includes(*f))
    else {
        return error_json(&OAuthError::new(
            ErrorCode::NotFound,
            format!("no endpoint at {}", req.uri().path()),
        ));
    };
    let method = req.method().clone();
    let is_head = method == Method::HEAD && methods.contains(&Method::GET);
    if !methods.contains(&method) && !is_head {
        let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
        let mut res = error_json(&OAuthError::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed on {path}; use {}", allow.join(" or ")),
        ));
        if let Ok(v) = http::HeaderValue::from_str(&allow.join(", ")) {
            res.headers_mut().insert(http::header::ALLOW, v);
        }
        return res;
    }
    let mut res = match (function, path.as_str()) {
        (Function::Authorize, _) => crate::authorize::authorize(app, req).await,
        (Function::Callback, _) => crate::authorize::callback::callback(app, req).await,
        (Function::Token, "/revoke") => crate::revocation::revoke(app, req).await,
        (Function::Token, "/introspect") => crate::revocation::introspect(app, req).await,
        (Function::Token, _) => crate::grant::token(app, req).await,
        (Function::Userinfo, "/userinfo") => crate::userinfo::userinfo(app, req).await,
        (Function::Userinfo, _) => crate::discovery::metadata(app, req).await,
    };
    if is_head {
        res.body_mut().clear();
    }
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, %path, "answered 500");
    }
    res
}
