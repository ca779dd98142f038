//! Which endpoint answers which method and path. The Lambda functions each
//! mount the endpoints they own; the local server mounts all of them.

mod cors;

use http::{Method, StatusCode};

use crate::app::App;
use crate::endpoints;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, bearer_error, error_json};
pub use crate::paths::{Endpoint, Function, aliases};
use crate::sign_in::finish::error_page;
use cors::{allow_any_origin, preflight};

/// Seconds a client is told to wait (`Retry-After`) when the store is briefly
/// unavailable.
pub const RETRY_AFTER: &str = "1";

/// Which functions' endpoints a process answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mount {
    /// Every endpoint: the local server.
    All,
    /// One function's endpoints: a Lambda binary.
    Only(Function),
}

/// How an endpoint answers an error.
enum Speaks {
    /// An HTML page: the browser-facing endpoints.
    Html,
    /// RFC 6749 5.2 JSON.
    Json,
    /// RFC 6750 3: JSON with `WWW-Authenticate: Bearer`.
    Bearer,
}

impl Endpoint {
    fn speaks(self) -> Speaks {
        match self {
            Self::Authorize
            | Self::Callback
            | Self::Logout
            | Self::SignUp
            | Self::Verify
            | Self::Reset
            | Self::AccountEmail
            | Self::FederationCallback
            | Self::FederationLink
            | Self::SignInFactor
            | Self::SignInEmail
            | Self::AccountSecurity => Speaks::Html,
            Self::Userinfo => Speaks::Bearer,
            _ => Speaks::Json,
        }
    }

    async fn handle(self, app: &App, req: Request) -> Result<Response, OAuthError> {
        match self {
            Self::Authorize => endpoints::authorize::authorize(app, req).await,
            Self::Callback => endpoints::callback::callback(app, req).await,
            Self::Token => endpoints::token::token(app, req).await,
            Self::Revoke => endpoints::revoke::revoke(app, req).await,
            Self::Introspect => endpoints::introspect::introspect(app, req).await,
            Self::Logout => endpoints::logout::logout(app, req).await,
            Self::Jwks => endpoints::discovery::jwks(app, req).await,
            Self::Register => endpoints::register::register(app, req).await,
            Self::Userinfo => endpoints::userinfo::userinfo(app, req).await,
            Self::SignUp => endpoints::signup::signup(app, req).await,
            Self::Verify => endpoints::verify::verify(app, req).await,
            Self::Reset => endpoints::reset::reset(app, req).await,
            Self::AccountEmail => endpoints::email::email(app, req).await,
            Self::FederationCallback => endpoints::federation::callback(app, req).await,
            Self::FederationLink => endpoints::federation::link(app, req).await,
            Self::SignInFactor => endpoints::factor::factor(app, req).await,
            Self::SignInEmail => endpoints::email_code::email_code(app, req).await,
            Self::PasskeyOptions => endpoints::passkey::options(app, req).await,
            Self::AccountSecurity => endpoints::security::security(app, req).await,
            Self::AuthorizationServerMetadata | Self::OpenIdConfiguration => {
                endpoints::discovery::metadata(app, req).await
            }
        }
    }

    /// The response for an error, in the form this endpoint speaks; the
    /// one place an [`OAuthError`] becomes a response (and is logged).
    fn render(self, e: &OAuthError) -> Response {
        e.log();
        let mut res = match self.speaks() {
            Speaks::Html => error_page(e),
            Speaks::Json => error_json(e),
            Speaks::Bearer => bearer_error(e),
        };
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static(RETRY_AFTER));
        }
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            res.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("3600"));
        }
        res
    }
}

impl Mount {
    fn includes(self, f: Function) -> bool {
        self == Mount::All || self == Mount::Only(f)
    }
}

/// What a path reaches: an endpoint at its canonical path (every method
/// it answers), or the endpoints route aliases map there, one per method.
enum Target {
    Canonical(Endpoint),
    Aliased(Vec<(Method, Endpoint)>),
}

impl Target {
    fn find(app: &App, mount: Mount, path: &str) -> Option<Self> {
        if let Some(e) = Endpoint::at(path) {
            return mount.includes(e.function()).then_some(Self::Canonical(e));
        }
        let aliased: Vec<(Method, Endpoint)> = app
            .config
            .route_aliases
            .at(path)
            .filter(|a| mount.includes(a.endpoint.function()))
            .map(|a| (a.method.clone(), a.endpoint))
            .collect();
        (!aliased.is_empty()).then_some(Self::Aliased(aliased))
    }

    /// The methods answered here (HEAD implied by GET).
    fn methods(&self) -> Vec<Method> {
        match self {
            Self::Canonical(e) => e.methods().to_vec(),
            Self::Aliased(v) => v.iter().map(|(m, _)| m.clone()).collect(),
        }
    }

    /// The endpoint that answers `method` (GET's for HEAD).
    fn endpoint_for(&self, method: &Method) -> Option<Endpoint> {
        let method = if method == Method::HEAD { &Method::GET } else { method };
        match self {
            Self::Canonical(e) => e.methods().contains(method).then_some(*e),
            Self::Aliased(v) => v.iter().find(|(m, _)| m == method).map(|(_, e)| *e),
        }
    }

    /// Whether a preflight is answered: other origins may call an
    /// endpoint here.
    fn allows_cors(&self) -> bool {
        match self {
            Self::Canonical(e) => e.cors(),
            Self::Aliased(v) => v.iter().any(|(_, e)| e.cors()),
        }
    }
}

/// Answers a request: 404 for unknown paths, 405 (with `Allow`) for the
/// wrong method, otherwise the endpoint's response. A route alias reaches
/// only the endpoint it maps its own method to.
pub async fn route(app: &App, mount: Mount, req: Request) -> Response {
    let Some(target) = Target::find(app, mount, req.uri().path()) else {
        return error_json(&OAuthError::new(
            ErrorCode::NotFound,
            format!("no endpoint at {}", req.uri().path()),
        ));
    };
    let method = req.method().clone();
    if method == Method::OPTIONS && target.allows_cors() {
        return preflight(&target.methods(), &req);
    }
    let Some(endpoint) = target.endpoint_for(&method) else {
        return method_not_allowed(req.uri().path(), &target.methods(), &method);
    };
    let is_head = method == Method::HEAD;
    let mut res = match crate::aws_calls::serving(endpoint.function(), endpoint.handle(app, req)).await {
        Ok(res) => res,
        Err(e) => endpoint.render(&e),
    };
    if is_head {
        res.body_mut().clear();
    }
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::warn!(%method, path = endpoint.path(), "answered 500");
    }
    if endpoint.cors() {
        allow_any_origin(&mut res);
    }
    res
}

fn method_not_allowed(path: &str, methods: &[Method], method: &Method) -> Response {
    let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
    let mut res = error_json(&OAuthError::new(
        ErrorCode::MethodNotAllowed,
        format!("{method} is not allowed on {path}; use {}", allow.join(" or ")),
    ));
    if let Ok(v) = http::HeaderValue::from_str(&allow.join(", ")) {
        res.headers_mut().insert(http::header::ALLOW, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_found_at_its_own_path() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::at(e.path()), Some(e), "{e:?}");
            assert_eq!(Endpoint::at(&format!("{}/", e.path())), Some(e), "{e:?} with a trailing slash");
        }
        assert_eq!(Endpoint::at("/nope"), None);
    }

    #[test]
    fn every_endpoint_is_found_by_its_alias_name() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::named(e.name()), Some(e), "{e:?}");
        }
    }

    /// A function's binary answers an alias only for the endpoints it owns,
    /// and only for the method the alias maps.
    #[tokio::test]
    async fn an_alias_reaches_only_its_endpoint_in_the_function_that_owns_it() {
        let mut config =
            crate::config::Config::new("https://issuer.example", crate::secret::SigningKey::new(vec![7; 32]));
        config.route_aliases =
            aliases::RouteAliases::parse("POST /oauth2/token token; GET /oauth2/token jwks").unwrap();
        let app = App::new(std::sync::Arc::new(crate::store::memory::MemoryStore::new()), config);
        let status = |mount: Mount, method: Method| {
            let req = http::Request::builder()
                .method(method)
                .uri("/oauth2/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(bytes::Bytes::new())
                .unwrap();
            let app = &app;
            async move { route(app, mount, req).await.status().as_u16() }
        };
        // The token function: its POST alias is the token endpoint (400:
        // no grant_type), and the GET alias belongs to another function.
        assert_eq!(status(Mount::Only(Function::Token), Method::POST).await, 400);
        assert_eq!(status(Mount::Only(Function::Token), Method::GET).await, 405);
        assert_eq!(status(Mount::Only(Function::Userinfo), Method::GET).await, 200, "jwks");
        assert_eq!(status(Mount::Only(Function::Userinfo), Method::POST).await, 405);
        assert_eq!(status(Mount::Only(Function::Authorize), Method::GET).await, 404);
        assert_eq!(status(Mount::All, Method::DELETE).await, 405);
    }
}
