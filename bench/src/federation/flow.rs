//! Driving a federated sign-in: the benchmark's app and test upstream,
//! requests through the router with cookies carried by hand, and each
//! request's recorded DynamoDB calls and calls to the provider.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
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

/// A browser's cookies, by name.
#[derive(Default)]
pub(super) struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, res: &Response) {
        for v in res.headers().get_all(http::header::SET_COOKIE) {
            let pair = v.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.trim().is_empty() {
                    self.0.remove(k.trim());
                } else {
                    self.0.insert(k.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
    }
}

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

/// A browser's request for `path` with `jar`'s cookies: a GET, or a POST
/// of the form `body`.
fn request(path: &str, jar: &Jar, form: Option<String>) -> Request {
    let mut b = http::Request::builder().method(if form.is_some() { "POST" } else { "GET" }).uri(path);
    if form.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    b.header("cookie", jar.header())
        .header("x-forwarded-for", "198.51.100.7")
        .body(form.map(Bytes::from).unwrap_or_default())
        .expect("a request")
}

pub(super) fn get(path: &str, jar: &Jar) -> Request {
    request(path, jar, None)
}

fn post(path: &str, jar: &Jar, body: String) -> Request {
    request(path, jar, Some(body))
}

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

/// Percent-encodes a form value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The time DynamoDB calls took, overlapping calls counted once.
pub(super) fn ddb_time(calls: &[ddb::Call]) -> Duration {
    let mut spans: Vec<(Instant, Instant)> = calls.iter().map(|c| (c.start, c.end)).collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut open: Option<(Instant, Instant)> = None;
    for (s, e) in spans {
        open = match open {
            Some((os, oe)) if s <= oe => Some((os, oe.max(e))),
            Some((os, oe)) => {
                total += oe - os;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((os, oe)) = open {
        total += oe - os;
    }
    total
}

/// The longest chain of calls each made after the one before had answered:
/// the request's sequential round trips. (Grouping overlapping calls, as
/// [`ddb::waves`] does, counts one long call made beside two sequential
/// ones — `POST /callback` reads the client beside the provider and the
/// state's write — as one round trip.)
fn round_trips(calls: &[ddb::Call]) -> usize {
    let mut sorted: Vec<&ddb::Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.start);
    let mut depth: Vec<usize> = Vec::with_capacity(sorted.len());
    for (i, c) in sorted.iter().enumerate() {
        let before = (0..i).filter(|&j| sorted[j].end <= c.start).map(|j| depth[j]).max().unwrap_or(0);
        depth.push(before + 1);
    }
    depth.into_iter().max().unwrap_or(0)
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
        round_trips: round_trips(calls),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: &str, at: Instant, from_ms: u64, to_ms: u64) -> ddb::Call {
        let ms = Duration::from_millis;
        ddb::Call { op: op.into(), start: at + ms(from_ms), end: at + ms(to_ms), units: 1.0 }
    }

    #[test]
    fn a_long_call_beside_two_sequential_ones_is_two_round_trips() {
        let t = Instant::now();
        // The client read beside the provider's read, then the state's write.
        let calls = [call("GetItem", t, 0, 10), call("GetItem", t, 1, 3), call("PutItem", t, 4, 6)];
        assert_eq!(round_trips(&calls), 2);
        assert_eq!(ddb::waves(&calls).len(), 1, "what grouping overlaps would say");
        assert_eq!(ddb_time(&calls), Duration::from_millis(10));
        let apart = [call("DeleteItem", t, 0, 2), call("GetItem", t, 3, 4), call("GetItem", t, 5, 7)];
        assert_eq!(round_trips(&apart), 3);
        assert_eq!(ddb_time(&apart), Duration::from_millis(5));
        assert_eq!(round_trips(&[]), 0);
    }
}
