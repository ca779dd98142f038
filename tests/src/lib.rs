//! The end-to-end harness: a ZeroAuth server in this process on a fresh
//! DynamoDB Local table, with a clock the test moves, and a small "browser"
//! that keeps cookies and follows the sign-in form.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;
use zeroauth_shared::App;
use zeroauth_shared::admin::{self, NewClient, NewUser};
use zeroauth_shared::clock::{Clock, ManualClock, SystemClock};
use zeroauth_shared::config::Config;
use zeroauth_shared::secret::SigningKey;
use zeroauth_shared::store::Store;
use zeroauth_shared::store::memory::MemoryStore;
use zeroauth_shared::testing::fresh_dynamo_store;

pub mod authenticator;
pub mod factors;
pub mod faults;
pub mod federated;
pub mod https;
pub mod mailbox;
pub mod seeds;
pub mod upstream;

/// The SMTP transport to the test SMTP server `scripts/test` starts
/// (`scripts/smtp-sink`, at `ZEROAUTH_TEST_SMTP`).
fn test_mailer() -> (Arc<dyn zeroauth_shared::mail::Mailer>, zeroauth_shared::mail::MailSettings) {
    let smtp = std::env::var("ZEROAUTH_TEST_SMTP").unwrap_or_else(|_| {
        panic!(
            "ZEROAUTH_TEST_SMTP is not set: run the tests with scripts/test, which starts scripts/smtp-sink"
        )
    });
    let vars: HashMap<&str, String> = HashMap::from([
        ("ZEROAUTH_MAIL", "smtp".to_owned()),
        ("ZEROAUTH_MAIL_FROM", "ZeroAuth Tests <no-reply@zeroauth.test>".to_owned()),
        ("ZEROAUTH_SMTP_URL", format!("smtp://{smtp}?tls=none")),
    ]);
    zeroauth_mail::from_vars(zeroauth_shared::mail::Transport::Off, &|n| vars.get(n).cloned())
        .expect("the SMTP transport")
}

/// A running server.
pub struct Server {
    /// `http://127.0.0.1:<port>`, also the issuer.
    pub base: String,
    /// The clock the server reads; move it with `advance`.
    pub clock: ManualClock,
    /// The store behind the server.
    pub store: Arc<dyn Store>,
    /// The issuer the server was configured with (the base unless a test
    /// set another, as a deployment behind a proxy would).
    pub issuer: String,
    /// An HTTP client that does not follow redirects.
    pub http: reqwest::Client,
    /// The app the server runs.
    pub app: App,
    _stop: oneshot::Sender<()>,
}

/// A registered client.
#[derive(Clone, Debug)]
pub struct TestClient {
    /// Its id.
    pub id: String,
    /// Its secret (confidential clients).
    pub secret: Option<String>,
    /// Its first redirect URI.
    pub redirect_uri: String,
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

impl Server {
    /// A server on a fresh DynamoDB Local table.
    pub async fn dynamodb() -> Self {
        Self::start(Arc::new(fresh_dynamo_store().await), |_| {}).await
    }

    /// A server on DynamoDB Local with a confidential client and the user `alice`.
    pub async fn with_alice() -> (Self, TestClient) {
        let s = Self::dynamodb().await;
        let client = s.confidential_client().await;
        s.user("alice").await;
        (s, client)
    }

    /// A server on the embedded store.
    pub async fn memory() -> Self {
        Self::start(Arc::new(MemoryStore::new()), |_| {}).await
    }

    /// A server on a fresh DynamoDB Local table with adjusted configuration.
    pub async fn dynamodb_with(configure: impl FnOnce(&mut Config)) -> Self {
        Self::start(Arc::new(fresh_dynamo_store().await), configure).await
    }

    /// A server on a store the test built (one with injected faults, say).
    pub async fn on_store(store: Arc<dyn Store>) -> Self {
        Self::start(store, |_| {}).await
    }

    /// A server on a fresh DynamoDB Local table that sends its mail through
    /// the SMTP transport to the test SMTP server `scripts/test` starts
    /// (`scripts/smtp-sink`, at `ZEROAUTH_TEST_SMTP`); read it back with
    /// [`mailbox`].
    pub async fn dynamodb_with_mail(configure: impl FnOnce(&mut Config)) -> Self {
        let mail = test_mailer();
        Self::start_with(Arc::new(fresh_dynamo_store().await), configure, |app| {
            app.with_mailer(mail.0, mail.1)
        })
        .await
    }

    /// A server on a fresh DynamoDB Local table that may reach a loopback
    /// upstream provider whose certificate is `ca_pem`, holding the
    /// providers' client `secrets` (by provider id); with `mail`, mailing
    /// through the test SMTP server as [`Server::dynamodb_with_mail`] does.
    pub async fn federated(
        ca_pem: &str,
        secrets: &[(&str, &str)],
        mail: bool,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let secrets = zeroauth_shared::federation::StaticSecrets(
            secrets.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        );
        let ca = ca_pem.as_bytes().to_vec();
        let configure = move |c: &mut Config| {
            c.federation.test_hosts = vec!["localhost".into()];
            c.federation.extra_root_pem = Some(ca);
            configure(c);
        };
        let mailer = mail.then(test_mailer);
        Self::start_with(Arc::new(fresh_dynamo_store().await), configure, |app| {
            let app = app.with_secrets(Arc::new(secrets));
            match mailer {
                Some((m, settings)) => app.with_mailer(m, settings),
                None => app,
            }
        })
        .await
    }

    /// Invites `email` as `zeroauth user invite` does.
    pub async fn invite(&self, email: &str) {
        zeroauth_shared::sign_in::self_service::account::invite(&self.app, email, None)
            .await
            .expect("the invitation is sent");
    }

    async fn start(store: Arc<dyn Store>, configure: impl FnOnce(&mut Config)) -> Self {
        Self::start_with(store, configure, |app| app).await
    }

    async fn start_with(
        store: Arc<dyn Store>,
        configure: impl FnOnce(&mut Config),
        extend: impl FnOnce(App) -> App,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let mut config = Config::new(base.clone(), SigningKey::new(vec![42; 32]));
        config.keys = zeroauth_shared::keys::Keys::ephemeral().expect("a key set");
        configure(&mut config);
        let issuer = config.issuer.clone();
        let clock = ManualClock::new(SystemClock.now());
        let app = extend(App::new(store.clone(), config).with_clock(Arc::new(clock.clone())));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(zeroauth_shared::server::serve(
            app.clone(),
            listener,
            None,
            Default::default(),
            async move {
                let _ = stopped.await;
            },
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Self { base, clock, store, issuer, http, app, _stop: stop }
    }

    /// The URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, seconds: i64) {
        self.clock.advance(seconds);
    }

    /// Moves the server's clock up to the system's, for tests that meet
    /// something else telling the time (an upstream provider's tokens).
    pub fn catch_up(&self) {
        let lag = SystemClock.now() - self.clock.now();
        if lag > 0 {
            self.clock.advance(lag);
        }
    }

    /// Registers a client.
    pub async fn client(&self, configure: impl FnOnce(&mut NewClient)) -> TestClient {
        let mut new = NewClient {
            name: "Test App".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            grants: vec!["authorization_code".into(), "refresh_token".into()],
            scope: Some("openid profile email read:user read:projects".into()),
            public: false,
            trusted: false,
            client_id: None,
            client_secret: None,
            ..Default::default()
        };
        configure(&mut new);
        let (c, secret) = admin::create_client(self.store.as_ref(), new, self.clock.now())
            .await
            .expect("register a client");
        TestClient {
            id: c.client_id,
            secret: secret.map(|s| s.secret().to_owned()),
            redirect_uri: c.redirect_uris.first().cloned().unwrap_or_default(),
        }
    }

    /// A confidential client with the default settings.
    pub async fn confidential_client(&self) -> TestClient {
        self.client(|_| {}).await
    }

    /// A public client (PKCE required).
    pub async fn public_client(&self) -> TestClient {
        self.client(|c| c.public = true).await
    }

    /// Registers a user with [`PASSWORD`].
    pub async fn user(&self, username: &str) {
        let new = NewUser {
            username: username.into(),
            email: Some(format!("{username}@example.com")),
            name: Some(format!("{username} Example")),
            password: PASSWORD.into(),
        };
        admin::create_user(self.store.as_ref(), new, self.clock.now()).await.expect("register a user");
    }

    /// A browser with an empty cookie jar.
    pub fn browser(&self) -> Browser<'_> {
        Browser { server: self, cookies: HashMap::new(), form_action: None }
    }

    /// POSTs a form to `path`, with Basic credentials when `basic` is given.
    pub async fn post_form(&self, path: &str, basic: Option<&TestClient>, form: &[(&str, &str)]) -> Reply {
        let body = form_encode(form);
        let mut req = self
            .http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = basic {
            req = req.basic_auth(&c.id, c.secret.as_deref());
        }
        Reply::from(req.send().await.expect("the server answers")).await
    }

    /// POSTs a JSON body to `path`.
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> Reply {
        let req =
            self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_string());
        Reply::from(req.send().await.expect("the server answers")).await
    }

    /// Exchanges a code for tokens with Basic client authentication.
    pub async fn exchange(&self, client: &TestClient, code: &str, extra: &[(&str, &str)]) -> Reply {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
        ];
        form.extend_from_slice(extra);
        if client.secret.is_some() {
            self.post_form("/token", Some(client), &form).await
        } else {
            form.push(("client_id", &client.id));
            self.post_form("/token", None, &form).await
        }
    }

    /// GET /userinfo with a Bearer token.
    pub async fn userinfo(&self, token: &str) -> Reply {
        let res =
            self.http.get(self.url("/userinfo")).bearer_auth(token).send().await.expect("the server answers");
        Reply::from(res).await
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub text: String,
}

impl Reply {
    async fn from(res: reqwest::Response) -> Self {
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        Self { status, headers, text }
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// A string field of the JSON body.
    pub fn field(&self, name: &str) -> String {
        self.json()[name].as_str().unwrap_or_else(|| panic!("no string `{name}` in {}", self.text)).to_owned()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// The `Location` header's query parameters.
    pub fn location_params(&self) -> HashMap<String, String> {
        let loc = self.header(LOCATION.as_str()).unwrap_or_else(|| panic!("no Location in {self:?}"));
        let query = loc.split_once('?').map(|(_, q)| q).unwrap_or("");
        url_decode_pairs(query).into_iter().collect()
    }
}

/// Form-encodes pairs.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = URL_SAFE_NO_PAD.encode(rand_bytes());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn rand_bytes() -> [u8; 32] {
    let s = zeroauth_shared::crypto::random_bytes(32).expect("randomness");
    let mut out = [0u8; 32];
    out.copy_from_slice(&s);
    out
}

/// A cookie-keeping user agent.
pub struct Browser<'a> {
    server: &'a Server,
    /// Cookies by name.
    pub cookies: HashMap<String, String>,
    /// Where the last page's form posts, resolved against that page's URL
    /// as a browser resolves it.
    form_action: Option<String>,
}

/// The sign-in page as the browser got it.
#[derive(Debug)]
pub struct Page {
    /// The response.
    pub reply: Reply,
    /// The signed request blob in the form.
    pub request: String,
}

impl<'a> Browser<'a> {
    /// The server this browser talks to.
    pub fn server(&self) -> &'a Server {
        self.server
    }

    /// The cookies this browser holds, as `name=value` pairs.
    pub fn cookie_pairs(&self) -> Vec<String> {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, reply: &Reply) {
        for v in reply.headers.get_all(SET_COOKIE) {
            if let Some((pair, _)) = v.to_str().unwrap_or("").split_once(';')
                && let Some((k, val)) = pair.split_once('=')
            {
                if val.trim().is_empty() {
                    // A cleared cookie.
                    self.cookies.remove(k.trim());
                } else {
                    self.cookies.insert(k.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
    }

    /// GET /authorize with these query parameters.
    pub async fn authorize(&mut self, params: &[(&str, &str)]) -> Reply {
        self.open(&format!("{}?{}", self.server.url("/authorize"), form_encode(params))).await
    }

    /// GET a URL (such as an authorization URL a client library built), keeping cookies.
    pub async fn open(&mut self, url: &str) -> Reply {
        let res =
            self.server.http.get(url).header("cookie", self.cookie_header()).send().await.expect("answer");
        let reply = Reply::from(res).await;
        self.keep_cookies(&reply);
        if let Some(action) = form_action(&reply.text, url) {
            self.form_action = Some(action);
        }
        reply
    }

    /// GET /authorize and read the sign-in form (panics if there is none).
    pub async fn login_page(&mut self, params: &[(&str, &str)]) -> Page {
        let reply = self.authorize(params).await;
        let request = hidden_request(&reply.text).unwrap_or_else(|| panic!("no sign-in form: {reply:?}"));
        Page { reply, request }
    }

    /// POST the sign-in form to where the last page's form posts (panics
    /// if no page with a form was opened).
    pub async fn submit(&mut self, form: &[(&str, &str)]) -> Reply {
        let action = self.form_action.clone().expect("a page with a form was opened before submitting it");
        // Under another issuer this server stands where a proxy would send
        // the issuer's requests.
        let action = match action.strip_prefix(self.server.issuer.trim_end_matches('/')) {
            Some(path) if self.server.issuer != self.server.base => self.server.url(path),
            _ => action,
        };
        let form_action = self.form_action.clone();
        let reply = self.post(&action, form).await;
        // The page it answers with does not move where the next submit goes.
        self.form_action = form_action;
        reply
    }

    /// POSTs a form body to `url`, keeping cookies (and, when the answer is
    /// a page with a form, where that form posts).
    pub async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Reply {
        let res = self
            .server
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", self.cookie_header())
            .body(form_encode(form))
            .send()
            .await
            .expect("answer");
        let reply = Reply::from(res).await;
        self.keep_cookies(&reply);
        if let Some(action) = form_action(&reply.text, url) {
            self.form_action = Some(action);
        }
        reply
    }

    /// Signs in as `username` with the right password and approves.
    pub async fn approve(&mut self, page: &Page, username: &str) -> Reply {
        self.submit(&[
            ("request", &page.request),
            ("username", username),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await
    }

    /// The whole front channel for a confidential client: returns the code.
    pub async fn code_for(&mut self, client: &TestClient, username: &str, extra: &[(&str, &str)]) -> String {
        let mut params =
            vec![("client_id", client.id.as_str()), ("redirect_uri", client.redirect_uri.as_str())];
        params.extend_from_slice(extra);
        let page = self.login_page(&params).await;
        let reply = self.approve(&page, username).await;
        assert_eq!(reply.status, 303, "{reply:?}");
        reply.location_params().remove("code").unwrap_or_else(|| panic!("no code in {reply:?}"))
    }
}

/// The `action` of a page's `<form method="post">`, resolved against the
/// page's URL (an absent or empty action posts to the page itself).
pub fn form_action(html: &str, page_url: &str) -> Option<String> {
    let form = html.find("<form method=\"post\"")?;
    let tag = html.get(form..)?.split('>').next()?;
    let action = match tag.find("action=\"") {
        Some(i) => tag.get(i + "action=\"".len()..)?.split('"').next()?.replace("&amp;", "&"),
        None => String::new(),
    };
    reqwest::Url::parse(page_url).ok()?.join(&action).ok().map(String::from)
}

/// The value of the hidden `request` field of a sign-in page.
pub fn hidden_request(html: &str) -> Option<String> {
    let start = html.find("name=\"request\" value=\"")? + "name=\"request\" value=\"".len();
    let end = html.get(start..)?.find('"')? + start;
    html.get(start..end).map(str::to_owned)
}

impl Server {
    /// The server clock's current time.
    pub fn clock_now(&self) -> i64 {
        self.clock.now()
    }
}
