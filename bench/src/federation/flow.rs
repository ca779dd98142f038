//! Driving a federated sign-in: the benchmark's app and test upstream,
//! requests through the router with cookies carried by hand, and each
//! request's recorded DynamoDB calls and calls to the provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroauth_e2e::upstream::{self, Upstream};
use zeroauth_e2e::{form_action, hidden_request};
use zeroauth_shared::App;
use zeroauth_shared::admin::{self, NewProvider};
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::domain::Provider;
use zeroauth_shared::federation::{CALLBACK_PATH, StaticSecrets};
use zeroauth_shared::http::{Request, Response};
use zeroauth_shared::router::{Mount, route};
use zeroauth_shared::sign_in::self_service::SignUp;

use super::{FedStep, GITHUB, OIDC};
use crate::ddb;
use crate::fixtures::{self, Fixtures};
use crate::flows::Step;
use crate::jar::{Jar, enc, get, post};

/// The app under test, the test upstream it signs in through, the
/// benchmark's clients and the recorder of the app's DynamoDB calls.
pub(super) struct Bench {
    pub(super) app: App,
    pub(super) up: Upstream,
    fx: Fixtures,
    recorder: ddb::Recorder,
}

/// A request recorded: its DynamoDB calls and the provider's endpoints it
/// called, in order.
pub(super) type Recorded = (Vec<ddb::Call>, Vec<&'static str>);

fn location(res: &Response) -> String {
    res.headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location: {} {}", res.status(), res.body()))
        .to_owned()
}

/// The `code` in `url`'s query, if it has one.
fn code_in(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
}

/// The test upstream's endpoints, as the tables name them, in the order a
/// sign-in calls them.
const PROVIDER_PATHS: [(&str, &str); 7] = [
    ("/.well-known/openid-configuration", "discovery"),
    ("/token", "token"),
    ("/jwks", "key set"),
    ("/userinfo", "user info"),
    ("/github/login/oauth/access_token", "token"),
    ("/github/api/user", "/user"),
    ("/github/api/user/emails", "/user/emails"),
];

fn step(name: &'static str, res: &Response, (calls, provider): Recorded) -> FedStep {
    let calls = &calls;
    let step = Step {
        name,
        status: res.status().as_u16(),
        calls: calls.iter().map(|c| c.op.clone()).collect(),
        round_trips: ddb::round_trips(calls),
        reads: calls.iter().filter(|c| c.is_read()).map(|c| c.units).sum(),
        writes: calls
            .iter()
            .filter(|c| !c.is_read())
            .map(|c| if c.is_transaction() { 2.0 * c.units } else { c.units })
            .sum(),
        mails: 0,
        hashes: 0,
    };
    FedStep { step, provider }
}

impl Bench {
    pub(super) async fn new(ddb_url: &str) -> Self {
        let up = upstream::start().await;
        let recorder = ddb::Recorder::default();
        let store = crate::fresh_table(ddb_url, Some(&recorder)).await;
        let base = fixtures::app(Arc::new(store), "https://bench.example");
        let mut config = (*base.config).clone();
        config.federation.test_hosts = vec!["localhost".into()];
        config.federation.extra_root_pem = Some(up.ca_pem.as_bytes().to_vec());
        config.self_service.sign_up = SignUp::Open;
        let mut app = base.with_secrets(Arc::new(StaticSecrets(
            [(OIDC, upstream::CLIENT_SECRET), (GITHUB, upstream::CLIENT_SECRET)]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )));
        app.config = Arc::new(config);
        let fx = Fixtures::new(app.clone()).await;
        up.allow_redirect(&app.url(CALLBACK_PATH));
        let now = SystemClock.now();
        for p in [
            NewProvider {
                id: OIDC.into(),
                kind: "oidc".into(),
                name: Some("Upstream".into()),
                issuer: Some(up.base.clone()),
                client_id: upstream::CLIENT_ID.into(),
                ..Default::default()
            },
            NewProvider {
                id: GITHUB.into(),
                kind: "github".into(),
                client_id: upstream::CLIENT_ID.into(),
                authorization_endpoint: Some(up.url("/github/login/oauth/authorize")),
                token_endpoint: Some(up.url("/github/login/oauth/access_token")),
                userinfo_endpoint: Some(up.url("/github/api/user")),
                ..Default::default()
            },
        ] {
            admin::create_provider(app.store.as_ref(), &p, now)
                .await
                .unwrap_or_else(|e| panic!("create the provider {}: {e}", p.id));
        }
        recorder.take();
        Self { app, up, fx, recorder }
    }

    pub(super) async fn provider(&self, id: &str) -> Provider {
        self.app.store.get_provider(id).await.ok().flatten().expect("the provider")
    }

    /// How many requests each of the provider's endpoints has had.
    fn hits(&self) -> Vec<usize> {
        PROVIDER_PATHS.iter().map(|(path, _)| self.up.hits(path)).collect()
    }

    /// A request through the router: its answer, its DynamoDB calls with
    /// the provider's endpoints it called, and its time.
    pub(super) async fn run(&self, app: &App, jar: &mut Jar, req: Request) -> (Response, Recorded, Duration) {
        let before = self.hits();
        self.recorder.take();
        let t = Instant::now();
        let res = route(app, Mount::All, req).await;
        let took = t.elapsed();
        jar.keep(&res);
        let calls = self.recorder.take();
        let mut provider = Vec::new();
        for ((_, name), (after, before)) in PROVIDER_PATHS.iter().zip(self.hits().into_iter().zip(before)) {
            provider.extend(std::iter::repeat_n(*name, after - before));
        }
        (res, (calls, provider), took)
    }

    /// A request of the sign-in through the benchmark's app, answered with
    /// `status`, recorded in `steps` as `name`.
    async fn step(
        &self,
        jar: &mut Jar,
        req: Request,
        status: u16,
        name: &'static str,
        steps: &mut Vec<FedStep>,
    ) -> Response {
        let (res, calls, _) = self.run(&self.app, jar, req).await;
        assert_eq!(res.status(), status, "{}", res.body());
        steps.push(step(name, &res, calls));
        res
    }

    /// The provider's answer to the browser at `url` (its authorization
    /// endpoint): where it sends the browser back to.
    async fn provider_answer(&self, url: &str) -> String {
        let r = self.up.client().get(url).send().await.expect("the provider answers");
        assert_eq!(r.status(), 302, "{:?}", r.text().await);
        r.headers().get("location").and_then(|l| l.to_str().ok()).expect("back").to_owned()
    }

    /// The sign-in page and "Continue with" `provider`, then the provider's
    /// answer: the callback path and query the browser comes back with.
    pub(super) async fn to_provider(
        &self,
        jar: &mut Jar,
        provider: &str,
        steps: &mut Vec<FedStep>,
    ) -> String {
        let q = format!(
            "/authorize?client_id={}&scope=openid+email+profile&state=bench&nonce=n-bench",
            self.fx.web_id
        );
        let name = "GET /authorize (sign-in page, providers listed)";
        let req = get(&q, jar);
        let res = self.step(jar, req, 200, name, steps).await;
        assert!(res.body().contains("Continue with"), "the page offers the providers");
        let request = hidden_request(res.body()).expect("a sign-in form");
        let body = format!("request={}&provider={provider}", enc(&request));
        let name = "POST /callback (provider: state written, to the provider)";
        let req = post("/callback", jar, body);
        let res = self.step(jar, req, 303, name, steps).await;
        let back = self.provider_answer(&location(&res)).await;
        let url = reqwest::Url::parse(&back).expect("a URL");
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    }

    /// A whole sign-in through `provider`, each request measured.
    pub(super) async fn sign_in(&self, provider: &str, first: bool) -> Vec<FedStep> {
        let mut steps = Vec::new();
        let mut jar = Jar::default();
        let back = self.to_provider(&mut jar, provider, &mut steps).await;
        let name = if first {
            "GET /federation/callback (first sign-in: person made)"
        } else {
            "GET /federation/callback (returning person)"
        };
        let req = get(&back, &jar);
        let res = self.step(&mut jar, req, 200, name, &mut steps).await;
        assert!(res.body().contains("Allow"), "the consent page: {}", res.body());
        let request = hidden_request(res.body()).expect("the consent form");
        let action = form_action(res.body(), "https://bench.example/").expect("the consent form's action");
        let path = reqwest::Url::parse(&action).expect("a URL").path().to_owned();
        let body = format!("request={}&decision=approve", enc(&request));
        let name = "POST /callback (consent, signed in: code issued)";
        let req = post(&path, &jar, body);
        let res = self.step(&mut jar, req, 303, name, &mut steps).await;
        let to = location(&res);
        let code = code_in(&to).unwrap_or_else(|| panic!("no code: {to}"));
        let req = self.fx.exchange(&code);
        self.step(&mut jar, req, 200, "POST /token authorization_code", &mut steps).await;
        steps
    }

    /// A code at the provider for ZeroAuth's callback, with this PKCE
    /// verifier and nonce (as the sign-in asks for one).
    pub(super) async fn code_at(&self, authorize: &str, verifier: &str, nonce: &str) -> String {
        let callback = self.app.url(CALLBACK_PATH);
        let challenge = zeroauth_shared::crypto::pkce_s256(verifier);
        let url = format!(
            "{authorize}?response_type=code&client_id={}&redirect_uri={}&scope=openid+email+profile&state=s&code_challenge={challenge}&code_challenge_method=S256&nonce={nonce}",
            upstream::CLIENT_ID,
            enc(&callback)
        );
        code_in(&self.provider_answer(&url).await).expect("a code")
    }
}
