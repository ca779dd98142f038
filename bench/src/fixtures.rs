//! What every benchmark needs: clients, a user, codes and tokens, made
//! through the same `shared` code the server uses.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use zeroauth_shared::App;
use zeroauth_shared::admin::{self, NewClient, NewUser};
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::config::Config;
use zeroauth_shared::crypto;
use zeroauth_shared::domain::CodeRecord;
use zeroauth_shared::http::Request;
use zeroauth_shared::oauth::{Scope, tokens};
use zeroauth_shared::router::{Mount, route};
use zeroauth_shared::secret::SigningKey;
use zeroauth_shared::sign_in;
use zeroauth_shared::store::Store;

/// The signing key every benchmark uses (also given to the Lambda binaries).
pub const KEY: [u8; 32] = [7; 32];
/// The bench user's password.
pub const PASSWORD: &str = "bench password 123";
/// The web client's redirect URI.
pub const REDIRECT: &str = "https://bench.example/cb";
/// A protected resource (RFC 8707) the web client may ask tokens for.
pub const RESOURCE: &str = "https://mcp.bench.example/mcp";

/// Registered credentials.
#[derive(Clone)]
pub struct Fixtures {
    /// The app the fixtures live in.
    pub app: App,
    /// `Basic` header of the machine client.
    pub m2m_basic: String,
    /// `Basic` header of the machine client with JWT access tokens.
    pub m2m_jwt_basic: String,
    /// Id of the web client.
    pub web_id: String,
    /// `Basic` header of the web client.
    pub web_basic: String,
    /// An API key of the web client, for the bench user.
    pub api_key: String,
}

/// An app on `store` with the bench key.
pub fn app(store: Arc<dyn Store>, issuer: &str) -> App {
    let mut config = Config::new(issuer, SigningKey::new(KEY.to_vec()));
    config.keys = zeroauth_shared::keys::Keys::ephemeral().expect("a key set");
    config.registration.policy = zeroauth_shared::config::RegistrationPolicy::Open;
    App::new(store, config)
}

impl Fixtures {
    /// Registers a machine client, a web client and the user `bench`.
    pub async fn new(app: App) -> Self {
        let now = SystemClock.now();
        let store = app.store.as_ref();
        let (m2m, m2m_secret) =
            register(store, "Bench M2M", &[], &["client_credentials"], "reports", now).await;
        let (m2m_jwt, m2m_jwt_secret) =
            register(store, "Bench M2M JWT", &[], &["client_credentials"], "reports", now).await;
        let mut jwt_client = m2m_jwt.clone();
        jwt_client.tokens.access_token_format = zeroauth_shared::domain::AccessTokenFormat::Jwt;
        store.update_client(&jwt_client).await.expect("make the client's access tokens JWTs");
        let (web, web_secret) = register(
            store,
            "Bench Web",
            &[REDIRECT],
            &["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange"],
            "openid profile email mcp:tools",
            now,
        )
        .await;
        let resource =
            admin::NewResource { uri: RESOURCE.into(), scope: Some("mcp:tools".into()), clients: vec![] };
        admin::create_resource(store, resource, now)
            .await
            .unwrap_or_else(|e| panic!("register the resource: {e}"));
        admin::create_user(
            store,
            NewUser {
                username: "bench".into(),
                email: Some("b@example.com".into()),
                name: None,
                password: PASSWORD.into(),
            },
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("register the user: {e}"));
        let key = admin::NewApiKey {
            client_id: web.client_id.clone(),
            username: Some("bench".into()),
            scope: Some("openid profile".into()),
            expires: Some("30d".into()),
        };
        let (api_key, _) =
            admin::create_api_key(store, key, now).await.unwrap_or_else(|e| panic!("issue an API key: {e}"));
        let basic = |id: &str, secret: Option<zeroauth_shared::secret::ClientSecret>| {
            let s = secret.map(|s| s.secret().to_owned()).unwrap_or_default();
            format!("Basic {}", STANDARD.encode(format!("{id}:{s}")))
        };
        Self {
            m2m_basic: basic(&m2m.client_id, m2m_secret),
            m2m_jwt_basic: basic(&m2m_jwt.client_id, m2m_jwt_secret),
            web_basic: basic(&web.client_id, web_secret),
            web_id: web.client_id,
            api_key: api_key.secret().to_owned(),
            app,
        }
    }

    /// Stores `n` fresh codes for the web client (valid for an hour, so a
    /// long run does not outlive them) and returns them.
    pub async fn codes(&self, n: usize) -> Vec<String> {
        let now = SystemClock.now();
        let user =
            admin::find_user(self.app.store.as_ref(), "bench").await.ok().flatten().expect("the bench user");
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let code = tokens::mint_code().expect("randomness").secret().to_owned();
            let mut record = sample_code(0);
            record.digest = tokens::digest(&code);
            record.client_id = self.web_id.clone();
            record.username = user.username.clone();
            record.sub = user.sub.clone();
            record.issued_at = now;
            record.valid_until = now + 3600;
            record.expires_at = now + 7200;
            self.app.store.put_code(&record).await.expect("store a code");
            out.push(code);
        }
        out
    }

    /// Exchanges a fresh code: (access token, refresh token).
    pub async fn tokens(&self) -> (String, String) {
        let code = self.codes(1).await.remove(0);
        let res = route(&self.app, Mount::All, self.exchange(&code)).await;
        let v: serde_json::Value = serde_json::from_str(res.body()).expect("a token response");
        let field = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v}")).to_owned();
        (field("access_token"), field("refresh_token"))
    }

    /// `POST /token` client_credentials.
    pub fn client_credentials(&self) -> Request {
        form("/token", &self.m2m_basic, "grant_type=client_credentials".into())
    }

    /// `POST /token` client_credentials for the client with JWT access tokens.
    pub fn client_credentials_jwt(&self) -> Request {
        form("/token", &self.m2m_jwt_basic, "grant_type=client_credentials".into())
    }

    /// `POST /token` code exchange.
    pub fn exchange(&self, code: &str) -> Request {
        let body = format!(
            "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Fbench.example%2Fcb"
        );
        form("/token", &self.web_basic, body)
    }

    /// `POST /token` refresh.
    pub fn refresh(&self, rt: &str) -> Request {
        form("/token", &self.web_basic, format!("grant_type=refresh_token&refresh_token={rt}"))
    }

    /// `POST /introspect`.
    pub fn introspect(&self, token: &str) -> Request {
        // A client is told only of its own tokens: the web client asks.
        form("/introspect", &self.web_basic, format!("token={token}"))
    }

    /// `POST /token` token exchange (RFC 8693) of the web client's access token.
    pub fn token_exchange(&self, access_token: &str) -> Request {
        let body = format!(
            "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&subject_token={access_token}\
             &subject_token_type=urn:ietf:params:oauth:token-type:access_token"
        );
        form("/token", &self.web_basic, body)
    }

    /// `POST /revoke` by the web client.
    pub fn revoke(&self, token: &str) -> Request {
        form("/revoke", &self.web_basic, format!("token={token}"))
    }

    /// `GET /authorize` for the web client.
    pub fn authorize(&self) -> Request {
        get(&format!("/authorize?client_id={}&state=bench", self.web_id), None)
    }

    /// `GET /authorize` for the web client, for the protected resource.
    pub fn authorize_with_resource(&self) -> Request {
        get(
            &format!(
                "/authorize?client_id={}&state=bench&scope=openid+mcp%3Atools&resource=https%3A%2F%2Fmcp.bench.example%2Fmcp",
                self.web_id
            ),
            None,
        )
    }

    /// `POST /register`: an MCP host registering a public client, from an address.
    pub fn register_client(&self) -> Request {
        let body = r#"{"client_name":"Bench MCP host","redirect_uris":["http://127.0.0.1/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}"#;
        let mut req = http::Request::builder()
            .method("POST")
            .uri("/register")
            .header("content-type", "application/json")
            .body(Bytes::from(body))
            .expect("a request");
        req.extensions_mut().insert(zeroauth_shared::http::ClientIp(std::net::IpAddr::from([192, 0, 2, 7])));
        req
    }

    /// `POST /callback`: signs in as `bench` and approves, with a request
    /// blob and CSRF cookie made as `/authorize` would.
    pub fn callback(&self) -> Request {
        let csrf = crypto::random_string(32).expect("randomness");
        let pending = zeroauth_shared::sign_in::PendingRequest {
            client_id: self.web_id.clone(),
            redirect_uri: REDIRECT.into(),
            redirect_uri_given: false,
            scope: Scope::from_stored("openid"),
            state: Some("bench".into()),
            code_challenge: None,
            nonce: None,
            force_login: false,
            max_age: None,
            acr: None,
            login_hint: None,
            csrf: crypto::digest(&csrf),
            form: crypto::random_string(16).expect("randomness"),
            exp: SystemClock.now() + 600,
            resource: None,
            upstream: None,
        };
        let sealed = zeroauth_shared::sign_in::sealed::seal(
            &self.app.config.signing_key,
            zeroauth_shared::sign_in::LOGIN_PURPOSE,
            &pending,
        );
        let body = format!(
            "request={sealed}&username=bench&password={}&decision=approve",
            PASSWORD.replace(' ', "+")
        );
        http::Request::builder()
            .method("POST")
            .uri("/callback")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", format!("{}={csrf}", sign_in::cookie_name(&self.app, sign_in::CSRF_COOKIE)))
            .body(Bytes::from(body))
            .expect("a request")
    }

    /// `GET /userinfo`.
    pub fn userinfo(&self, token: &str) -> Request {
        get("/userinfo", Some(&format!("Bearer {token}")))
    }
}

/// Registers a confidential client, or panics saying which.
async fn register(
    store: &dyn Store,
    name: &str,
    redirect_uris: &[&str],
    grants: &[&str],
    scope: &str,
    now: i64,
) -> (zeroauth_shared::domain::Client, Option<zeroauth_shared::secret::ClientSecret>) {
    let new = NewClient {
        name: name.into(),
        redirect_uris: redirect_uris.iter().map(|u| (*u).to_owned()).collect(),
        grants: grants.iter().map(|g| (*g).to_owned()).collect(),
        scope: Some(scope.into()),
        public: false,
        trusted: false,
        client_id: None,
        client_secret: None,
        ..Default::default()
    };
    admin::create_client(store, new, now).await.unwrap_or_else(|e| panic!("register {name}: {e}"))
}

fn form(path: &str, authorization: &str, body: String) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", authorization)
        .body(Bytes::from(body))
        .expect("a request")
}

fn get(path: &str, authorization: Option<&str>) -> Request {
    let mut b = http::Request::builder().method("GET").uri(path);
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    b.body(Bytes::new()).expect("a request")
}

/// A code record to store (the `i`th, for a distinct key), as the sign-in writes one.
pub fn sample_code(i: i32) -> CodeRecord {
    let now = SystemClock.now();
    CodeRecord {
        digest: format!("bench-code-{i}-{}", crypto::random_string(8).expect("randomness")),
        client_id: "bench-web".into(),
        redirect_uri: REDIRECT.into(),
        redirect_uri_given: true,
        scope: Scope::from_stored("openid profile email"),
        username: Some("bench".into()),
        sub: "bench".into(),
        code_challenge: None,
        nonce: None,
        state: None,
        issued_at: now,
        valid_until: now + 3600,
        expires_at: now + 7200,
        redeemed: None,
        auth_time: 0,
        amr: vec![],
        idp: None,
        upstream: None,
        resource: None,
    }
}
