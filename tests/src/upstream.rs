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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

#[path = "upstream_keys.rs"]
mod keys;

pub use keys::Tamper;
use keys::{UpstreamKeys, at_hash, s256};

/// ZeroAuth's client id at the upstream (all three providers).
pub const CLIENT_ID: &str = "zeroauth-test";
/// ZeroAuth's client secret at the upstream.
pub const CLIENT_SECRET: &str = "upstream-secret-0123456789";
/// The Entra tenant [`UpstreamUser::new`] puts people in.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// Another Entra tenant (the issuer [`Tamper::WrongTenantIssuer`] names).
pub const OTHER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

const GITHUB_DOCS: &str = "https://docs.github.com";

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
        let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
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
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
        let ca_pem = certified.cert.pem();
        let cert: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("tls config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("https://localhost:{}", listener.local_addr().expect("address").port());
        let state = State {
            user: Some(UpstreamUser::new("upstream-user-1", "person@upstream.example")),
            ..Default::default()
        };
        let inner =
            Arc::new(Inner { base: base.clone(), keys: UpstreamKeys::generate(), state: Mutex::new(state) });
        let served = inner.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, inner) = (acceptor.clone(), served.clone());
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(tcp).await {
                        connection(tls, &inner).await;
                    }
                });
            }
        });
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

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    params: HashMap<String, String>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

enum Body {
    Bytes(Vec<u8>),
    Huge { with_length: bool },
}

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
    delay: Option<Duration>,
}

fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    let headers = vec![("Content-Type", content_type.to_owned())];
    Response { status, headers, body: Body::Bytes(body.into()), delay: None }
}

fn json_response(status: u16, v: &Value) -> Response {
    respond(status, "application/json", v.to_string())
}

fn text(status: u16, s: &str) -> Response {
    respond(status, "text/plain; charset=utf-8", s)
}

fn pairs(s: &str) -> HashMap<String, String> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

fn random(n: usize) -> String {
    let bytes = zeroauth_shared::crypto::random_bytes(n).expect("randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn has_scope(scope: &str, s: &str) -> bool {
    scope.split([' ', ',']).any(|x| x == s)
}

async fn connection<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut tls: S, inner: &Inner) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match tls.read(&mut buf).await {
            Ok(n) if n > 0 && data.len() < 64 * 1024 => data.extend_from_slice(&buf[..n]),
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (first.next().unwrap_or_default(), first.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0).min(1 << 20);
    let mut body = data[end + 4..].to_vec();
    while body.len() < length {
        match tls.read(&mut buf).await {
            Ok(n) if n > 0 => body.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    body.truncate(length);
    let mut params = pairs(query);
    params.extend(pairs(&String::from_utf8_lossy(&body)));
    let req = Request { method: method.to_owned(), path: path.to_owned(), headers, params };
    {
        let mut st = lock(&inner.state);
        *st.hits.entry(req.path.clone()).or_default() += 1;
        st.last.insert(req.path.clone(), req.params.clone());
    }
    let res = inner.route(&req);
    if let Some(d) = res.delay {
        tokio::time::sleep(d).await;
    }
    let _ = write(&mut tls, res).await;
    let _ = tls.shutdown().await;
}

async fn write<S: AsyncWriteExt + Unpin>(w: &mut S, res: Response) -> std::io::Result<()> {
    let reason = match res.status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Other",
    };
    let mut head =
        format!("HTTP/1.1 {} {reason}\r\nConnection: close\r\nCache-Control: no-store\r\n", res.status);
    for (k, v) in &res.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match res.body {
        Body::Bytes(b) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            w.write_all(head.as_bytes()).await?;
            w.write_all(&b).await
        }
        Body::Huge { with_length } => {
            let (prefix, suffix, pad) =
                (br#"{"access_token":"huge","token_type":"Bearer","padding":""#, br#""}"#, [b'x'; 65536]);
            let mut pieces: Vec<&[u8]> = vec![prefix];
            pieces.extend(std::iter::repeat_n(&pad[..], 80));
            pieces.push(suffix);
            let total: usize = pieces.iter().map(|p| p.len()).sum();
            head.push_str(&if with_length {
                format!("Content-Length: {total}\r\n\r\n")
            } else {
                "Transfer-Encoding: chunked\r\n\r\n".to_owned()
            });
            w.write_all(head.as_bytes()).await?;
            for p in pieces {
                if with_length {
                    w.write_all(p).await?;
                } else {
                    w.write_all(format!("{:x}\r\n", p.len()).as_bytes()).await?;
                    w.write_all(p).await?;
                    w.write_all(b"\r\n").await?;
                }
            }
            if with_length { Ok(()) } else { w.write_all(b"0\r\n\r\n").await }
        }
    }
}

fn now(offset: i64) -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0) + offset
}

pub(crate) fn merge(target: &mut Value, patch: &Value) {
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

/// An OAuth error answer: RFC 6749 5.2 JSON, or GitHub's HTTP 200 in the
/// format the `Accept` header asked for.
fn oauth_error(flavor: Flavor, req: &Request, code: &str, description: &str) -> Response {
    if flavor == Flavor::GitHub {
        let code = match code {
            "invalid_client" => "incorrect_client_credentials",
            "invalid_grant" => "bad_verification_code",
            c => c,
        };
        let uri = format!(
            "{GITHUB_DOCS}/apps/managing-oauth-apps/{}/#{}",
            "troubleshooting-oauth-app-access-token-request-errors",
            code.replace('_', "-")
        );
        return github_answer(
            req,
            &[("error", code), ("error_description", description), ("error_uri", &uri)],
        );
    }
    let status = if code == "invalid_client" { 401 } else { 400 };
    let mut res = json_response(status, &json!({"error": code, "error_description": description}));
    if status == 401 {
        res.headers.push(("WWW-Authenticate", "Basic realm=\"upstream\"".to_owned()));
    }
    res
}

/// GitHub's token endpoint answers JSON only when asked to.
fn github_answer(req: &Request, fields: &[(&str, &str)]) -> Response {
    if req.header("accept").is_some_and(|a| a.contains("application/json")) {
        let map: serde_json::Map<String, Value> =
            fields.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        return json_response(200, &Value::Object(map));
    }
    respond(200, "application/x-www-form-urlencoded; charset=utf-8", crate::form_encode(fields))
}

/// Client authentication: HTTP Basic (each half form-urlencoded, RFC 6749
/// 2.3.1) or `client_id` and `client_secret` in the body, not both.
fn client_auth(req: &Request) -> Result<&'static str, &'static str> {
    let decode = |s: &str| pairs(&format!("v={s}")).remove("v").unwrap_or_default();
    let basic = req.header("authorization").and_then(|h| h.strip_prefix("Basic ")).map(|b| {
        let raw = STANDARD.decode(b.trim()).ok().and_then(|d| String::from_utf8(d).ok())?;
        raw.split_once(':').map(|(id, secret)| (decode(id), decode(secret)))
    });
    let ok = |id: &str, secret: &str| id == CLIENT_ID && secret == CLIENT_SECRET;
    match (basic, req.param("client_secret")) {
        (Some(_), Some(_)) => Err("more than one client authentication method"),
        (Some(Some((id, secret))), None) if ok(&id, &secret) => Ok("client_secret_basic"),
        (None, Some(secret)) if ok(req.param("client_id").unwrap_or(""), secret) => Ok("client_secret_post"),
        (None, None) => Err("no client authentication"),
        _ => Err("wrong client credentials"),
    }
}

impl Inner {
    fn route(&self, req: &Request) -> Response {
        let (get, post) = (req.method == "GET", req.method == "POST");
        match req.path.as_str() {
            "/.well-known/openid-configuration" if get => self.discovery(Flavor::Oidc, ""),
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
                    self.discovery(Flavor::Entra, tenant)
                }
                Some((_, "discovery/v2.0/keys")) if get => json_response(200, &self.keys.jwks()),
                Some((_, "oauth2/v2.0/authorize")) if get => self.authorize(Flavor::Entra, req),
                Some((_, "oauth2/v2.0/token")) if post => self.token(Flavor::Entra, req),
                _ => text(404, "no such endpoint at the test upstream"),
            },
        }
    }

    fn discovery(&self, flavor: Flavor, tenant: &str) -> Response {
        let base = &self.base;
        let mut doc = if flavor == Flavor::Entra {
            let at = format!("{base}/entra/{tenant}");
            let tid = if tenant == "common" { "{tenantid}" } else { tenant };
            json!({
                "issuer": format!("{base}/entra/{tid}/v2.0"),
                "authorization_endpoint": format!("{at}/oauth2/v2.0/authorize"),
                "token_endpoint": format!("{at}/oauth2/v2.0/token"),
                "jwks_uri": format!("{at}/discovery/v2.0/keys"),
                "userinfo_endpoint": format!("{base}/entra/oidc/userinfo"),
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported":
                    ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce",
                    "preferred_username", "name", "tid", "ver", "at_hash", "email", "oid"],
                "tenant_region_scope": "EU",
            })
        } else {
            json!({
                "issuer": base,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "userinfo_endpoint": format!("{base}/userinfo"),
                "jwks_uri": format!("{base}/jwks"),
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile", "offline_access"],
                "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
                    "email", "email_verified", "name"],
                "authorization_response_iss_parameter_supported": true,
            })
        };
        if let Some(patch) = &lock(&self.state).metadata {
            merge(&mut doc, patch);
        }
        json_response(200, &doc)
    }

    fn authorize(&self, flavor: Flavor, req: &Request) -> Response {
        if req.param("client_id") != Some(CLIENT_ID) {
            return text(400, "client_id is missing or unknown");
        }
        let Some(redirect_uri) = req.param("redirect_uri") else {
            return text(400, "redirect_uri is missing");
        };
        let mut st = lock(&self.state);
        if !st.redirects.contains(redirect_uri) {
            return text(400, &format!("redirect_uri is not registered: {redirect_uri}"));
        }
        let missing = if flavor != Flavor::GitHub && req.param("response_type") != Some("code") {
            Some("response_type=code is missing")
        } else if req.param("state").is_none() {
            Some("state is missing")
        } else if req.param("code_challenge").is_none() {
            Some("code_challenge is missing")
        } else if req.param("code_challenge_method") != Some("S256") {
            Some("code_challenge_method=S256 is missing")
        } else {
            None
        };
        if let Some(what) = missing {
            return text(400, what);
        }
        let Ok(mut url) = reqwest::Url::parse(redirect_uri) else {
            return text(400, "redirect_uri is not a URL");
        };
        let state = req.param("state").unwrap_or_default();
        let user = st.user.clone().expect("someone is signed in");
        {
            let mut q = url.query_pairs_mut();
            if let Some((error, description)) = st.front_error.take() {
                q.append_pair("error", &error).append_pair("error_description", &description);
            } else {
                let code = random(16);
                let grant = Grant {
                    flavor,
                    challenge: req.param("code_challenge").unwrap_or_default().to_owned(),
                    nonce: req.param("nonce").map(str::to_owned),
                    scope: req.param("scope").unwrap_or_default().to_owned(),
                    redirect_uri: redirect_uri.to_owned(),
                    user,
                    auth_time: now(st.offset),
                };
                st.codes.insert(code.clone(), grant);
                q.append_pair("code", &code);
            }
            q.append_pair("state", state);
            if flavor == Flavor::Oidc {
                q.append_pair("iss", &self.base);
            }
        }
        let mut res = respond(302, "text/plain; charset=utf-8", "");
        res.headers.push(("Location", url.to_string()));
        res
    }

    fn token(&self, flavor: Flavor, req: &Request) -> Response {
        let mut st = lock(&self.state);
        let (delay, huge) = (st.slow.take(), st.huge.take());
        let mut res = self.token_answer(&mut st, flavor, req);
        if let Some(with_length) = huge {
            res.body = Body::Huge { with_length };
        }
        res.delay = delay;
        res
    }

    fn token_answer(&self, st: &mut State, flavor: Flavor, req: &Request) -> Response {
        let auth = match client_auth(req) {
            Ok(how) => how,
            Err(e) if e.starts_with("more") => return oauth_error(flavor, req, "invalid_request", e),
            Err(e) => return oauth_error(flavor, req, "invalid_client", e),
        };
        let default_grant = if flavor == Flavor::GitHub { Some("authorization_code") } else { None };
        let (issued, nonce, auth_time) = match req.param("grant_type").or(default_grant) {
            Some("authorization_code") => {
                let Some(g) = req.param("code").and_then(|c| st.codes.remove(c)) else {
                    return oauth_error(flavor, req, "invalid_grant", "the code is unknown or was used");
                };
                if g.flavor != flavor {
                    return oauth_error(flavor, req, "invalid_grant", "the code is another provider's");
                }
                if req.param("redirect_uri") != Some(g.redirect_uri.as_str()) {
                    let code =
                        if flavor == Flavor::GitHub { "redirect_uri_mismatch" } else { "invalid_grant" };
                    return oauth_error(
                        flavor,
                        req,
                        code,
                        "redirect_uri differs from the authorization request's",
                    );
                }
                if req.param("code_verifier").map(s256).as_deref() != Some(g.challenge.as_str()) {
                    return oauth_error(
                        flavor,
                        req,
                        "invalid_grant",
                        "code_verifier does not match the challenge",
                    );
                }
                (Issued { flavor, scope: g.scope, user: g.user }, g.nonce, g.auth_time)
            }
            Some("refresh_token") if flavor != Flavor::GitHub => {
                match req
                    .param("refresh_token")
                    .and_then(|r| st.refresh.get(r))
                    .filter(|i| i.flavor == flavor)
                {
                    Some(i) => (i.clone(), None, now(st.offset)),
                    None => return oauth_error(flavor, req, "invalid_grant", "the refresh token is unknown"),
                }
            }
            _ => return oauth_error(flavor, req, "unsupported_grant_type", "grant_type is not supported"),
        };
        st.client_auth = Some(auth);
        if flavor == Flavor::GitHub {
            let access = format!("gho_{}", random(18));
            let scope =
                issued.scope.split([' ', ',']).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",");
            st.access.insert(access.clone(), issued);
            return github_answer(
                req,
                &[("access_token", &access), ("token_type", "bearer"), ("scope", &scope)],
            );
        }
        let (access, refresh) =
            (random(24), req.param("refresh_token").map_or_else(|| random(24), str::to_owned));
        let mut body = json!({"access_token": access, "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": refresh, "scope": issued.scope});
        if has_scope(&issued.scope, "openid")
            && let Some(id_token) = self.id_token(st, &issued, nonce, auth_time, &access)
        {
            body["id_token"] = json!(id_token);
        }
        st.access.insert(access, issued.clone());
        st.refresh.insert(refresh, issued);
        json_response(200, &body)
    }

    fn id_token(
        &self,
        st: &mut State,
        i: &Issued,
        nonce: Option<String>,
        auth_time: i64,
        access: &str,
    ) -> Option<String> {
        let (now, u, base) = (now(st.offset), &i.user, &self.base);
        let iss =
            if i.flavor == Flavor::Entra { format!("{base}/entra/{}/v2.0", u.tid) } else { base.clone() };
        let mut c = json!({"iss": iss, "sub": u.sub, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
            "auth_time": auth_time, "at_hash": at_hash(access)});
        if let Some(n) = nonce {
            c["nonce"] = json!(n);
        }
        if i.flavor == Flavor::Entra {
            merge(
                &mut c,
                &json!({"ver": "2.0", "tid": u.tid, "oid": u.oid, "email": u.email, "name": u.name,
                "preferred_username": u.email.clone().unwrap_or_else(|| u.sub.clone()),
                "xms_edov": u.xms_edov}),
            );
        } else {
            if has_scope(&i.scope, "email") {
                merge(&mut c, &json!({"email": u.email, "email_verified": u.email_verified}));
            }
            if has_scope(&i.scope, "profile") {
                merge(&mut c, &json!({"name": u.name}));
            }
        }
        let signer = keys::tamper(st.tamper.take(), &mut c, base, now)?;
        Some(self.keys.sign(signer, &c))
    }

    fn userinfo(&self, req: &Request) -> Response {
        let mut st = lock(&self.state);
        let token = req.header("authorization").and_then(|h| h.strip_prefix("Bearer "));
        let Some(i) = token.and_then(|t| st.access.get(t)).filter(|i| i.flavor != Flavor::GitHub).cloned()
        else {
            let mut res = json_response(401, &json!({"error": "invalid_token"}));
            res.headers.push(("WWW-Authenticate", "Bearer error=\"invalid_token\"".to_owned()));
            return res;
        };
        if let Some(v) = st.userinfo.take() {
            return json_response(200, &v);
        }
        let (u, mut v) = (&i.user, json!({"sub": i.user.sub}));
        if i.flavor == Flavor::Entra {
            merge(&mut v, &json!({"email": u.email, "name": u.name}));
        } else {
            if has_scope(&i.scope, "email") {
                merge(&mut v, &json!({"email": u.email, "email_verified": u.email_verified}));
            }
            if has_scope(&i.scope, "profile") {
                merge(&mut v, &json!({"name": u.name}));
            }
        }
        json_response(200, &v)
    }

    fn github_api(&self, req: &Request, emails: bool) -> Response {
        if req.header("user-agent").is_none() {
            return text(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a \
                 User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api\
                 #user-agent-required). Check https://developer.github.com for other possible causes.",
            );
        }
        let auth = req.header("authorization").unwrap_or_default();
        let token = auth.strip_prefix("Bearer ").or_else(|| auth.strip_prefix("token "));
        let st = lock(&self.state);
        let Some(i) = token.and_then(|t| st.access.get(t)).filter(|i| i.flavor == Flavor::GitHub) else {
            return json_response(
                401,
                &json!({"message": "Bad credentials", "documentation_url": format!("{GITHUB_DOCS}/rest"),
                    "status": "401"}),
            );
        };
        let u = &i.user;
        if !emails {
            return json_response(
                200,
                &json!({"login": u.github_login, "id": u.github_id,
                "node_id": format!("U_{}", u.github_id),
                "avatar_url": format!("https://avatars.example/u/{}", u.github_id),
                "html_url": format!("https://github.com/{}", u.github_login), "type": "User",
                "site_admin": false,
                "name": u.name, "email": u.email, "created_at": "2015-01-01T00:00:00Z"}),
            );
        }
        if !has_scope(&i.scope, "user:email") && !has_scope(&i.scope, "user") {
            return json_response(
                404,
                &json!({"message": "Not Found", "status": "404", "documentation_url": format!(
                    "{GITHUB_DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user")}),
            );
        }
        let list: Vec<Value> = u
            .github_emails
            .iter()
            .map(|(email, primary, verified)| {
                let visibility = if *primary {
                    json!(if u.email.as_ref() == Some(email) { "public" } else { "private" })
                } else {
                    Value::Null
                };
                json!({"email": email, "primary": primary, "verified": verified, "visibility": visibility})
            })
            .collect();
        json_response(200, &Value::Array(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    const CB: &str = "https://zeroauth.test/callback";

    struct Run {
        up: Upstream,
        http: reqwest::Client,
    }

    impl Run {
        async fn new() -> Self {
            let up = start().await;
            up.allow_redirect(CB);
            Self { http: up.client(), up }
        }

        async fn get(&self, path: &str) -> reqwest::Response {
            self.http.get(self.up.url(path)).header("user-agent", "t").send().await.expect("answer")
        }

        async fn json(&self, path: &str) -> Value {
            self.get(path).await.json().await.expect("json")
        }

        /// Runs `authorize` at `path`; the redirect's parameters and the PKCE verifier.
        async fn authorize(&self, path: &str, scope: &str) -> (HashMap<String, String>, String) {
            let (verifier, challenge) = crate::pkce();
            let q = crate::form_encode(&[
                ("response_type", "code"),
                ("client_id", CLIENT_ID),
                ("redirect_uri", CB),
                ("state", "st"),
                ("nonce", "n-1"),
                ("scope", scope),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ]);
            let res = self.get(&format!("{path}?{q}")).await;
            assert_eq!(res.status(), 302);
            let loc = res.headers()["location"].to_str().expect("location").to_owned();
            assert!(loc.starts_with(CB), "{loc}");
            (pairs(loc.split_once('?').expect("query").1), verifier)
        }

        async fn token(&self, path: &str, form: &[(&str, &str)], basic: bool) -> reqwest::Response {
            let mut req = self
                .http
                .post(self.up.url(path))
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(crate::form_encode(form));
            if basic {
                req = req.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
            }
            req.send().await.expect("answer")
        }

        /// The whole OIDC flow at the base; the token answer.
        async fn oidc(&self, scope: &str) -> Value {
            let (p, verifier) = self.authorize("/authorize", scope).await;
            let form = [
                ("grant_type", "authorization_code"),
                ("code", &p["code"]),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ];
            let res = self.token("/token", &form, true).await;
            assert_eq!(res.status(), 200);
            res.json().await.expect("json")
        }

        async fn verify(
            &self,
            id_token: &str,
            alg: Algorithm,
            iss: &str,
        ) -> Result<Value, jsonwebtoken::errors::Error> {
            let jwks: JwkSet = serde_json::from_value(self.json("/jwks").await).expect("a JWKS");
            let kid = jsonwebtoken::decode_header(id_token)?.kid.unwrap_or_default();
            let jwk = jwks.find(&kid).ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
            let mut v = Validation::new(alg);
            v.set_audience(&[CLIENT_ID]);
            v.set_issuer(&[iss]);
            Ok(jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk)?, &v)?.claims)
        }
    }

    #[tokio::test]
    async fn openid_connect_at_the_base() {
        let r = Run::new().await;
        let meta = r.json("/.well-known/openid-configuration").await;
        assert_eq!(meta["issuer"], json!(r.up.base));
        assert_eq!(meta["token_endpoint"], json!(r.up.url("/token")));
        assert_eq!(r.json("/jwks").await["keys"].as_array().map(Vec::len), Some(2));

        let bad = r
            .get(&format!("/authorize?client_id={CLIENT_ID}&redirect_uri={CB}&response_type=code&state=s"))
            .await;
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap_or_default().contains("code_challenge"));
        let other =
            r.get(&format!("/authorize?client_id={CLIENT_ID}&redirect_uri=https://evil.example/cb")).await;
        assert_eq!(other.status(), 400);

        let mut who = UpstreamUser::new("alice-sub", "alice@upstream.example");
        who.email_verified = Some(json!("true"));
        r.up.sign_in_as(who);
        let (p, verifier) = r.authorize("/authorize", "openid email profile").await;
        assert_eq!((p["state"].as_str(), p["iss"].as_str()), ("st", r.up.base.as_str()));
        let wrong = [
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", "not-the-verifier"),
        ];
        let res = r.token("/token", &wrong, true).await;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_grant");
        // The code was spent by the failed attempt.
        let right = [
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
        ];
        assert_eq!(r.token("/token", &right, true).await.status(), 400);

        let t = r.oidc("openid email profile").await;
        assert_eq!(r.up.last_client_auth(), Some("client_secret_basic"));
        let claims = r
            .verify(t["id_token"].as_str().expect("id_token"), Algorithm::RS256, &r.up.base)
            .await
            .expect("valid");
        assert_eq!((claims["sub"].as_str(), claims["nonce"].as_str()), (Some("alice-sub"), Some("n-1")));
        assert_eq!(claims["email_verified"], json!("true"));
        assert_eq!(claims["at_hash"], json!(at_hash(t["access_token"].as_str().unwrap_or_default())));

        let ui = |token: String| r.http.get(r.up.url("/userinfo")).bearer_auth(token).send();
        let info: Value = ui(t["access_token"].as_str().unwrap_or_default().to_owned())
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        assert_eq!(
            (info["sub"].as_str(), info["email"].as_str()),
            (Some("alice-sub"), Some("alice@upstream.example"))
        );
        r.up.userinfo_override(json!({"sub": "someone-else"}));
        let info: Value = ui(t["access_token"].as_str().unwrap_or_default().to_owned())
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        assert_eq!(info["sub"], "someone-else");
        assert_eq!(ui("nope".into()).await.expect("answer").status(), 401);

        // The body's credentials, a wrong secret, a refresh.
        let (p, verifier) = r.authorize("/authorize", "openid").await;
        let post = [
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ];
        let t: Value = r.token("/token", &post, false).await.json().await.expect("json");
        assert_eq!(r.up.last_client_auth(), Some("client_secret_post"));
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap_or_default()),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ];
        assert_eq!(r.token("/token", &refresh, false).await.status(), 401);
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap_or_default()),
        ];
        assert_eq!(r.token("/token", &refresh, true).await.status(), 200);
        assert!(r.up.hits("/token") >= 6);
        assert_eq!(r.up.last_params("/authorize").expect("seen")["nonce"], "n-1");

        // Without openid it is a plain OAuth 2.0 provider.
        assert!(r.oidc("email").await.get("id_token").is_none());
    }

    #[tokio::test]
    async fn front_channel_errors_and_tampering() {
        let r = Run::new().await;
        r.up.deny_next();
        let (p, _) = r.authorize("/authorize", "openid").await;
        assert_eq!((p["error"].as_str(), p["state"].as_str()), ("access_denied", "st"));
        r.up.error_next("server_error");
        assert_eq!(r.authorize("/authorize", "openid").await.0["error"], "server_error");
        assert!(r.authorize("/authorize", "openid").await.0.contains_key("code"));

        let token = |v: &Value| v["id_token"].as_str().unwrap_or_default().to_owned();
        r.up.tamper_next(Tamper::Es256);
        let es = token(&r.oidc("openid").await);
        assert!(r.verify(&es, Algorithm::ES256, &r.up.base).await.is_ok());
        for bad in [
            Tamper::WrongAud,
            Tamper::WrongIss,
            Tamper::Expired,
            Tamper::SignedByOtherKey,
            Tamper::UnknownKid,
        ] {
            r.up.tamper_next(bad.clone());
            assert!(
                r.verify(&token(&r.oidc("openid").await), Algorithm::RS256, &r.up.base).await.is_err(),
                "{bad:?}"
            );
        }
        r.up.tamper_next(Tamper::AlgNone);
        let none = token(&r.oidc("openid").await);
        assert!(none.ends_with('.') && none.starts_with("eyJhbGciOiJub25lIn0."));
        r.up.tamper_next(Tamper::Hs256WithPublicKey);
        let hs = token(&r.oidc("openid").await);
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[CLIENT_ID]);
        let key = DecodingKey::from_secret(r.up.rsa_public_pem().as_bytes());
        assert!(jsonwebtoken::decode::<Value>(&hs, &key, &v).is_ok());
        r.up.tamper_next(Tamper::NoIdToken);
        assert!(r.oidc("openid").await.get("id_token").is_none());
        r.up.tamper_next(Tamper::MultipleAudNoAzp);
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token(&r.oidc("openid").await))
            .expect("a JWT")
            .claims;
        assert_eq!((claims["aud"].clone(), claims.get("azp")), (json!([CLIENT_ID, "other"]), None));
        r.up.now_offset(-3600);
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token(&r.oidc("openid").await))
            .expect("a JWT")
            .claims;
        assert!(claims["exp"].as_i64().unwrap_or_default() < now(0));

        r.up.slow_next(Duration::from_millis(300));
        let t0 = std::time::Instant::now();
        r.oidc("openid").await;
        assert!(t0.elapsed() >= Duration::from_millis(300));
        for with_length in [true, false] {
            r.up.huge_next(with_length);
            let (p, verifier) = r.authorize("/authorize", "openid").await;
            let form = [
                ("grant_type", "authorization_code"),
                ("code", &p["code"]),
                ("redirect_uri", CB),
                ("code_verifier", &verifier),
            ];
            let res = r.token("/token", &form, true).await;
            assert_eq!(res.content_length().is_some(), with_length);
            let body: Value = res.json().await.expect("valid JSON");
            assert!(body["padding"].as_str().unwrap_or_default().len() >= 5 * 1024 * 1024);
        }
    }

    #[tokio::test]
    async fn github_shapes() {
        let r = Run::new().await;
        let mut who = UpstreamUser::new("octo", "octo@upstream.example");
        who.email = None;
        who.github_emails =
            vec![("old@upstream.example".into(), false, true), ("octo@upstream.example".into(), true, true)];
        r.up.sign_in_as(who.clone());
        let (p, verifier) = r.authorize("/github/login/oauth/authorize", "read:user user:email").await;
        assert!(!p.contains_key("iss"));
        let mut form = vec![
            ("code", p["code"].as_str()),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ];
        let t: Value =
            r.token("/github/login/oauth/access_token", &form, false).await.json().await.expect("json");
        assert_eq!(
            (t["token_type"].as_str(), t["scope"].as_str()),
            (Some("bearer"), Some("read:user,user:email"))
        );
        let again = r.token("/github/login/oauth/access_token", &form, false).await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.json::<Value>().await.expect("json")["error"], "bad_verification_code");
        let access = t["access_token"].as_str().unwrap_or_default();
        assert!(access.starts_with("gho_"));

        let api = |path: &str, ua: bool| {
            let req = r.http.get(r.up.url(path)).header("authorization", format!("token {access}"));
            if ua { req.header("user-agent", "ZeroAuth") } else { req }.send()
        };
        assert_eq!(api("/github/api/user", false).await.expect("answer").status(), 403);
        let user: Value = api("/github/api/user", true).await.expect("answer").json().await.expect("json");
        assert_eq!((user["id"].as_u64(), &user["email"]), (Some(who.github_id), &Value::Null));
        let emails: Value =
            api("/github/api/user/emails", true).await.expect("answer").json().await.expect("json");
        assert_eq!(
            emails[1],
            json!({"email": "octo@upstream.example", "primary": true, "verified": true,
                "visibility": "private"})
        );

        // Without Accept: application/json, a form answer.
        let (p, verifier) = r.authorize("/github/login/oauth/authorize", "read:user").await;
        form[0].1 = &p["code"];
        form[2].1 = &verifier;
        let res = r
            .http
            .post(r.up.url("/github/login/oauth/access_token"))
            .body(crate::form_encode(&form))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("answer");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap_or_default()
                .starts_with("application/x-www-form-urlencoded")
        );
        assert_eq!(pairs(&res.text().await.expect("body"))["token_type"], "bearer");
    }

    #[tokio::test]
    async fn entra_shapes() {
        let r = Run::new().await;
        let common = r.json("/entra/common/v2.0/.well-known/openid-configuration").await;
        assert_eq!(common["issuer"], json!(format!("{}/entra/{{tenantid}}/v2.0", r.up.base)));
        let tenant = r.json(&format!("/entra/{TENANT}/v2.0/.well-known/openid-configuration")).await;
        let iss = format!("{}/entra/{TENANT}/v2.0", r.up.base);
        assert_eq!(tenant["issuer"], json!(iss));
        assert_eq!(r.json("/entra/common/discovery/v2.0/keys").await, r.json("/jwks").await);

        let mut who = UpstreamUser::new("entra-sub", "e@contoso.example");
        who.xms_edov = Some(true);
        r.up.sign_in_as(who.clone());
        let (p, verifier) = r.authorize("/entra/common/oauth2/v2.0/authorize", "openid profile email").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
        ];
        let t: Value =
            r.token("/entra/common/oauth2/v2.0/token", &form, true).await.json().await.expect("json");
        let c = r
            .verify(t["id_token"].as_str().unwrap_or_default(), Algorithm::RS256, &iss)
            .await
            .expect("valid");
        assert_eq!(
            (c["tid"].as_str(), c["oid"].as_str(), c["xms_edov"].as_bool()),
            (Some(TENANT), Some(who.oid.as_str()), Some(true))
        );
        assert!(c.get("email_verified").is_none());
        let info: Value = r
            .http
            .get(common["userinfo_endpoint"].as_str().unwrap_or_default())
            .bearer_auth(t["access_token"].as_str().unwrap_or_default())
            .send()
            .await
            .expect("answer")
            .json()
            .await
            .expect("json");
        assert_eq!(info["email"], "e@contoso.example");

        r.up.tamper_next(Tamper::WrongTenantIssuer);
        let (p, verifier) = r.authorize("/entra/common/oauth2/v2.0/authorize", "openid").await;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", &p["code"]),
            ("redirect_uri", CB),
            ("code_verifier", &verifier),
        ];
        let t: Value =
            r.token("/entra/common/oauth2/v2.0/token", &form, true).await.json().await.expect("json");
        let c = jsonwebtoken::dangerous::insecure_decode::<Value>(t["id_token"].as_str().unwrap_or_default())
            .expect("a JWT")
            .claims;
        assert_eq!(
            (c["iss"].clone(), c["tid"].clone()),
            (json!(format!("{}/entra/{OTHER_TENANT}/v2.0", r.up.base)), json!(TENANT))
        );
    }
}
