//! A test upstream identity provider to federate to, on `https://localhost`
//! with a certificate made at start (trust [`Upstream::ca_pem`]). Three
//! providers in one server, each with its own quirks:
//!
//! - OpenID Connect at the base: `/.well-known/openid-configuration`,
//!   `/authorize`, `/token`, `/userinfo`, `/jwks`. Without `openid` in the
//!   scope it is a plain OAuth 2.0 provider (no ID token; use `/userinfo`).
//! - GitHub under `/github`: `/github/login/oauth/authorize`,
//!   `/github/login/oauth/access_token`, `/github/api/user`,
//!   `/github/api/user/emails`.
//! - Microsoft Entra (v2.0, multi-tenant) under `/entra`: discovery at
//!   `/entra/common/v2.0/.well-known/openid-configuration` (issuer
//!   `{base}/entra/{tenantid}/v2.0`, the literal placeholder), and per
//!   tenant at `/entra/<tid>/v2.0/.well-known/openid-configuration`;
//!   `/entra/<tenant>/oauth2/v2.0/{authorize,token}`,
//!   `/entra/<tenant>/discovery/v2.0/keys`, `/entra/oidc/userinfo`.
//!
//! Nobody logs in: the person the test [`sign_in_as`](Upstream::sign_in_as)
//! is already signed in and consent is skipped, so `authorize` answers 302
//! straight away. The `*_next` switches apply to the next answer of their
//! kind only, whichever of the three providers gives it.
//!
//! Here: the public API, the state and the routing. `server` has the TLS
//! and HTTP/1.1; `oauth` the authorization and token endpoints the three
//! share; `oidc`, `github` and `entra` each provider's own answers; `keys`
//! the keys, the JWTs and [`Tamper`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

mod entra;
mod github;
mod keys;
mod oauth;
mod oidc;
mod server;
#[cfg(test)]
mod tests;

pub use keys::Tamper;
use keys::UpstreamKeys;
use server::{Request, Response, json_response, text};

/// ZeroAuth's client id at the upstream (all three providers).
pub const CLIENT_ID: &str = "zeroauth-test";
/// ZeroAuth's client secret at the upstream.
pub const CLIENT_SECRET: &str = "upstream-secret-0123456789";
/// The Entra tenant [`UpstreamUser::new`] puts people in.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// Another Entra tenant (the issuer [`Tamper::WrongTenantIssuer`] names).
pub const OTHER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// The person signed in at the upstream.
#[derive(Clone, Debug, PartialEq)]
pub struct UpstreamUser {
    /// OIDC and Entra `sub`.
    pub sub: String,
    /// `email` (GitHub: the public profile address of `/user`).
    pub email: Option<String>,
    /// `email_verified`, sent as given (`true`, `false`, `"true"`); never by Entra.
    pub email_verified: Option<Value>,
    /// `name`.
    pub name: Option<String>,
    /// GitHub's numeric `id`.
    pub github_id: u64,
    /// GitHub's `login`.
    pub github_login: String,
    /// GitHub's `/user/emails`: (address, primary, verified).
    pub github_emails: Vec<(String, bool, bool)>,
    /// Entra `tid` (a tenant GUID).
    pub tid: String,
    /// Entra `oid`.
    pub oid: String,
    /// Entra `xms_edov` (the domain owner verified the address), sent only when set.
    pub xms_edov: Option<bool>,
}

impl UpstreamUser {
    /// `sub` with a verified `email`, a name, a GitHub id, login and primary
    /// verified address, all derived from `sub` (the same `sub` gives the
    /// same person), in tenant [`TENANT`]. Set `email` to `None` afterwards
    /// for a person without one.
    pub fn new(sub: &str, email: &str) -> Self {
        let h = Sha256::digest(sub.as_bytes());
        let hex = hex(&h);
        let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let login: String = sub.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        Self {
            sub: sub.to_owned(),
            email: Some(email.to_owned()),
            email_verified: Some(Value::Bool(true)),
            name: Some(format!("{} Upstream", email.split('@').next().unwrap_or(sub))),
            github_id: 1_000_000 + u64::from(n),
            github_login: login,
            github_emails: vec![(email.to_owned(), true, true)],
            tid: TENANT.to_owned(),
            oid: format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32]),
            xms_edov: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    Oidc,
    GitHub,
    Entra,
}

struct Grant {
    flavor: Flavor,
    challenge: String,
    nonce: Option<String>,
    scope: String,
    redirect_uri: String,
    user: UpstreamUser,
    auth_time: i64,
}

#[derive(Clone)]
struct Issued {
    flavor: Flavor,
    scope: String,
    user: UpstreamUser,
}

#[derive(Default)]
struct State {
    redirects: HashSet<String>,
    user: Option<UpstreamUser>,
    front_error: Option<(String, String)>,
    codes: HashMap<String, Grant>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    tamper: Option<Tamper>,
    slow: Option<Duration>,
    huge: Option<bool>,
    userinfo: Option<Value>,
    metadata: Option<Value>,
    hits: HashMap<String, usize>,
    last: HashMap<String, HashMap<String, String>>,
    client_auth: Option<&'static str>,
    offset: i64,
}

impl State {
    /// What the access token `token` was issued for, if it is GitHub's
    /// (`github`) or else the OpenID provider's or Entra's.
    fn access_token(&self, token: Option<&str>, github: bool) -> Option<&Issued> {
        token.and_then(|t| self.access.get(t)).filter(|i| (i.flavor == Flavor::GitHub) == github)
    }
}

struct Inner {
    base: String,
    keys: UpstreamKeys,
    state: Mutex<State>,
}

/// The running upstream provider; it stops when the test's runtime does.
pub struct Upstream {
    /// `https://localhost:<port>`, also the OIDC issuer.
    pub base: String,
    /// The certificate to trust (PEM).
    pub ca_pem: String,
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts a provider on a free port of 127.0.0.1, with new keys, and
/// `UpstreamUser::new("upstream-user-1", "person@upstream.example")` signed in.
pub async fn start() -> Upstream {
    Upstream::start().await
}

impl Upstream {
    /// See [`start`].
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("https://localhost:{}", listener.local_addr().expect("address").port());
        let state = State {
            user: Some(UpstreamUser::new("upstream-user-1", "person@upstream.example")),
            ..Default::default()
        };
        let inner =
            Arc::new(Inner { base: base.clone(), keys: UpstreamKeys::generate(), state: Mutex::new(state) });
        let ca_pem = server::serve(listener, inner.clone());
        Self { base, ca_pem, inner }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The Entra issuer to configure (multi-tenant): `{base}/entra/common/v2.0`.
    pub fn entra_issuer(&self) -> String {
        self.url("/entra/common/v2.0")
    }

    /// Lets `authorize` (all three providers) send people back to `uri`.
    pub fn allow_redirect(&self, uri: &str) {
        self.state().redirects.insert(uri.to_owned());
    }

    /// Who is signed in from now on (each code remembers who it was issued to).
    pub fn sign_in_as(&self, who: UpstreamUser) {
        self.state().user = Some(who);
    }

    /// The next authorization answers `error=access_denied`.
    pub fn deny_next(&self) {
        self.error_next("access_denied");
    }

    /// The next authorization answers `error=<code>` (`server_error`, say).
    pub fn error_next(&self, code: &str) {
        self.state().front_error = Some((code.to_owned(), format!("the upstream answered {code} (test)")));
    }

    /// The next ID token minted is tampered with.
    pub fn tamper_next(&self, t: Tamper) {
        self.state().tamper = Some(t);
    }

    /// The next token endpoint answer waits `d` first.
    pub fn slow_next(&self, d: Duration) {
        self.state().slow = Some(d);
    }

    /// The next token endpoint answer is a 5 MiB JSON body, with a truthful
    /// `Content-Length` or else chunked.
    pub fn huge_next(&self, with_length: bool) {
        self.state().huge = Some(with_length);
    }

    /// The next successful user-info answer (OIDC or Entra) is `v` instead.
    pub fn userinfo_override(&self, v: Value) {
        self.state().userinfo = Some(v);
    }

    /// Merges `v` into every discovery document from now on (a `null` removes a field).
    pub fn metadata_patch(&self, v: Value) {
        self.state().metadata = Some(v);
    }

    /// How many requests `path` (without the query) got.
    pub fn hits(&self, path: &str) -> usize {
        self.state().hits.get(path).copied().unwrap_or(0)
    }

    /// The query or form parameters of the last request to `path`.
    pub fn last_params(&self, path: &str) -> Option<HashMap<String, String>> {
        self.state().last.get(path).cloned()
    }

    /// How the last successful token request authenticated the client:
    /// `client_secret_basic` or `client_secret_post`.
    pub fn last_client_auth(&self) -> Option<&'static str> {
        self.state().client_auth
    }

    /// Sets the provider's clock to system time plus `seconds` (`iat`, `exp`, `auth_time`).
    pub fn now_offset(&self, seconds: i64) {
        self.state().offset = seconds;
    }

    /// The published RSA key as a PEM `PUBLIC KEY`.
    pub fn rsa_public_pem(&self) -> String {
        self.inner.keys.rsa_public_pem()
    }

    /// An HTTP client that trusts the provider and follows no redirects.
    pub fn client(&self) -> reqwest::Client {
        let cert = reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).expect("the CA");
        reqwest::Client::builder()
            .tls_certs_merge([cert])
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client")
    }
}

impl Inner {
    /// The answer to `req`: which provider's endpoint it is for.
    fn route(&self, req: &Request) -> Response {
        let (get, post) = (req.method == "GET", req.method == "POST");
        match req.path.as_str() {
            "/.well-known/openid-configuration" if get => self.discovery(oidc::metadata(&self.base)),
            "/jwks" if get => json_response(200, &self.keys.jwks()),
            "/authorize" if get => self.authorize(Flavor::Oidc, req),
            "/token" if post => self.token(Flavor::Oidc, req),
            "/userinfo" | "/entra/oidc/userinfo" if get || post => self.userinfo(req),
            "/github/login/oauth/authorize" if get => self.authorize(Flavor::GitHub, req),
            "/github/login/oauth/access_token" if post => self.token(Flavor::GitHub, req),
            "/github/api/user" if get => self.github_api(req, false),
            "/github/api/user/emails" if get => self.github_api(req, true),
            path => match path.strip_prefix("/entra/").and_then(|p| p.split_once('/')) {
                Some((tenant, "v2.0/.well-known/openid-configuration")) if get => {
                    self.discovery(entra::metadata(&self.base, tenant))
                }
                Some((_, "discovery/v2.0/keys")) if get => json_response(200, &self.keys.jwks()),
                Some((_, "oauth2/v2.0/authorize")) if get => self.authorize(Flavor::Entra, req),
                Some((_, "oauth2/v2.0/token")) if post => self.token(Flavor::Entra, req),
                _ => text(404, "no such endpoint at the test upstream"),
            },
        }
    }

    /// A discovery document, with the test's [`Upstream::metadata_patch`] merged in.
    fn discovery(&self, mut doc: Value) -> Response {
        if let Some(patch) = &lock(&self.state).metadata {
            merge(&mut doc, patch);
        }
        json_response(200, &doc)
    }
}

/// Seconds since the epoch, plus the provider's `offset`.
fn now(offset: i64) -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0) + offset
}

/// Merges the fields of `patch` into `target` (a `null` removes the field).
fn merge(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes, in hex.
fn random(n: usize) -> String {
    hex(&zeroauth_shared::crypto::random_bytes(n).expect("randomness"))
}

/// Whether the space- or comma-separated `scope` holds `s`.
fn has_scope(scope: &str, s: &str) -> bool {
    scope.split([' ', ',']).any(|x| x == s)
}
