//! Signing in through an upstream provider: the DynamoDB round trips and
//! units of each request of a federated sign-in, and how much of
//! `GET /federation/callback`'s time is the provider's calls. Every request
//! runs through the router as the `callback` (or `authorize`, `token`)
//! function runs it, against DynamoDB Local with the SDK calls recorded,
//! cookies carried by hand; the provider is the test upstream
//! (`zeroauth_e2e::upstream`): OpenID Connect and GitHub's shapes on https
//! loopback, one request per connection (`Connection: close`), so every
//! call ZeroAuth makes pays a TCP connection and a TLS handshake.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeroauth_e2e::upstream::{self, Upstream, UpstreamUser};
use zeroauth_e2e::{form_action, hidden_request};
use zeroauth_shared::App;
use zeroauth_shared::admin::{self, NewProvider};
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::domain::Provider;
use zeroauth_shared::federation::{self, CALLBACK_PATH, StaticSecrets};
use zeroauth_shared::http::{Request, Response};
use zeroauth_shared::router::{Mount, route};
use zeroauth_shared::sign_in::self_service::SignUp;

use crate::ddb;
use crate::fixtures::{self, Fixtures};
use crate::flows::Step;
use crate::stats::ms;

/// The OpenID Connect provider's id.
const OIDC: &str = "up";
/// The GitHub-shaped provider's id.
const GITHUB: &str = "gh";

/// The `callback` function's memory (infra/template.yaml).
const CALLBACK_MB: f64 = 1024.0;
/// Its share of a vCPU at that size (as the argon2id figure is scaled).
const CALLBACK_VCPU: f64 = 0.58;

/// One timed case: samples, with what of them was DynamoDB Local's.
pub struct Timed {
    /// What was timed.
    pub name: String,
    /// Each run's whole time.
    pub total: Vec<Duration>,
    /// Each run's time less DynamoDB Local's (the union of its calls' spans).
    pub rest: Vec<Duration>,
}

/// Everything measured.
pub struct Measured {
    /// A first sign-in, request by request.
    pub first: Vec<FedStep>,
    /// A returning person's sign-in.
    pub returning: Vec<FedStep>,
    /// A returning person's sign-in through the GitHub-shaped provider.
    pub github: Vec<FedStep>,
    /// `GET /federation/callback` timed in each state of the instance.
    pub callbacks: Vec<Timed>,
    /// The provider calls alone, through ZeroAuth's own functions.
    pub calls: Vec<Timed>,
    /// Runs per case.
    pub runs: usize,
}

/// One request of a federated sign-in.
pub struct FedStep {
    /// Its DynamoDB work.
    pub step: Step,
    /// The calls it made to the provider, in order.
    pub provider: Vec<&'static str>,
}

/// A browser's cookies, by name.
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

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

struct Bench {
    app: App,
    up: Upstream,
    fx: Fixtures,
    recorder: ddb::Recorder,
}

fn get(path: &str, jar: &Jar) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(path)
        .header("cookie", jar.header())
        .header("x-forwarded-for", "198.51.100.7")
        .body(Bytes::new())
        .expect("a request")
}

fn post(path: &str, jar: &Jar, body: String) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", jar.header())
        .header("x-forwarded-for", "198.51.100.7")
        .body(Bytes::from(body))
        .expect("a request")
}

fn location(res: &Response) -> String {
    res.headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Location: {} {}", res.status(), res.body()))
        .to_owned()
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
fn ddb_time(calls: &[ddb::Call]) -> Duration {
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

fn step(
    name: &'static str,
    res: &Response,
    (calls, provider): (Vec<ddb::Call>, Vec<&'static str>),
) -> FedStep {
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

/// The same app as a new instance of the function would be: its HTTP
/// client not made yet, no discovery document or key set kept.
fn new_instance(app: &App) -> App {
    let mut config = (*app.config).clone();
    config.federation.http = Default::default();
    config.federation.cache = Default::default();
    let mut app = app.clone();
    app.config = Arc::new(config);
    app
}

fn forget_documents(app: &App) {
    app.config.federation.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

impl Bench {
    async fn new(ddb_url: &str) -> Self {
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

    async fn provider(&self, id: &str) -> Provider {
        self.app.store.get_provider(id).await.ok().flatten().expect("the provider")
    }

    /// How many requests each of the provider's endpoints has had.
    fn hits(&self) -> Vec<usize> {
        PROVIDER_PATHS.iter().map(|(path, _)| self.up.hits(path)).collect()
    }

    /// A request through the router: its answer, its DynamoDB calls with
    /// the provider's endpoints it called, and its time.
    async fn run(
        &self,
        app: &App,
        jar: &mut Jar,
        req: Request,
    ) -> (Response, (Vec<ddb::Call>, Vec<&'static str>), Duration) {
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

    /// The sign-in page and "Continue with" `provider`, then the provider's
    /// answer: the callback path and query the browser comes back with.
    async fn to_provider(&self, jar: &mut Jar, provider: &str, steps: &mut Vec<FedStep>) -> String {
        let q = format!(
            "/authorize?client_id={}&scope=openid+email+profile&state=bench&nonce=n-bench",
            self.fx.web_id
        );
        let req = get(&q, jar);
        let (res, calls, _) = self.run(&self.app, jar, req).await;
        assert_eq!(res.status(), 200, "{}", res.body());
        assert!(res.body().contains("Continue with"), "the page offers the providers");
        steps.push(step("GET /authorize (sign-in page, providers listed)", &res, calls));
        let request = hidden_request(res.body()).expect("a sign-in form");
        let body = format!("request={}&provider={provider}", enc(&request));
        let req = post("/callback", jar, body);
        let (res, calls, _) = self.run(&self.app, jar, req).await;
        assert_eq!(res.status(), 303, "{}", res.body());
        steps.push(step("POST /callback (provider: state written, to the provider)", &res, calls));
        let out = location(&res);
        let r = self.up.client().get(&out).send().await.expect("the provider answers");
        assert_eq!(r.status(), 302, "{:?}", r.text().await);
        let back = r.headers().get("location").and_then(|l| l.to_str().ok()).expect("back").to_owned();
        let url = reqwest::Url::parse(&back).expect("a URL");
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    }

    /// A whole sign-in through `provider`, each request measured.
    async fn sign_in(&self, provider: &str, first: bool) -> Vec<FedStep> {
        let mut steps = Vec::new();
        let mut jar = Jar::default();
        let back = self.to_provider(&mut jar, provider, &mut steps).await;
        let req = get(&back, &jar);
        let (res, calls, _) = self.run(&self.app, &mut jar, req).await;
        assert_eq!(res.status(), 200, "{}", res.body());
        assert!(res.body().contains("Allow"), "the consent page: {}", res.body());
        steps.push(step(
            if first {
                "GET /federation/callback (first sign-in: person made)"
            } else {
                "GET /federation/callback (returning person)"
            },
            &res,
            calls,
        ));
        let request = hidden_request(res.body()).expect("the consent form");
        let action = form_action(res.body(), "https://bench.example/").expect("the consent form's action");
        let path = reqwest::Url::parse(&action).expect("a URL").path().to_owned();
        let body = format!("request={}&decision=approve", enc(&request));
        let req = post(&path, &jar, body);
        let (res, calls, _) = self.run(&self.app, &mut jar, req).await;
        assert_eq!(res.status(), 303, "{}", res.body());
        steps.push(step("POST /callback (consent, signed in: code issued)", &res, calls));
        let to = location(&res);
        let code = reqwest::Url::parse(&to)
            .expect("a URL")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code: {to}"));
        let (res, calls, _) = self.run(&self.app, &mut jar, self.fx.exchange(&code)).await;
        assert_eq!(res.status(), 200, "{}", res.body());
        steps.push(step("POST /token authorization_code", &res, calls));
        steps
    }

    /// `GET /federation/callback` timed `runs` times through `provider`,
    /// on the app `prepare` gives for each run.
    async fn time_callback(
        &self,
        name: &str,
        provider: &str,
        runs: usize,
        prepare: impl Fn(&App) -> App,
    ) -> Timed {
        let mut out = Timed { name: name.to_owned(), total: Vec::new(), rest: Vec::new() };
        for _ in 0..runs {
            let mut jar = Jar::default();
            let back = self.to_provider(&mut jar, provider, &mut Vec::new()).await;
            let app = prepare(&self.app);
            let req = get(&back, &jar);
            let (res, calls, took) = self.run(&app, &mut jar, req).await;
            assert_eq!(res.status(), 200, "{}", res.body());
            out.total.push(took);
            out.rest.push(took.saturating_sub(ddb_time(&calls.0)));
        }
        out
    }

    /// A code at the provider for ZeroAuth's callback, with this PKCE
    /// verifier and nonce (as the sign-in asks for one).
    async fn code_at(&self, authorize: &str, verifier: &str, nonce: &str) -> String {
        let callback = self.app.url(CALLBACK_PATH);
        let challenge = zeroauth_shared::crypto::pkce_s256(verifier);
        let url = format!(
            "{authorize}?response_type=code&client_id={}&redirect_uri={}&scope=openid+email+profile&state=s&code_challenge={challenge}&code_challenge_method=S256&nonce={nonce}",
            upstream::CLIENT_ID,
            enc(&callback)
        );
        let r = self.up.client().get(&url).send().await.expect("the provider answers");
        let back = r.headers().get("location").and_then(|l| l.to_str().ok()).expect("back").to_owned();
        reqwest::Url::parse(&back)
            .expect("a URL")
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code")
    }

    /// The provider calls alone, through `zeroauth_shared::federation`'s
    /// functions, `runs` times each.
    async fn time_calls(&self, runs: usize) -> Vec<Timed> {
        let oidc = self.provider(OIDC).await;
        let github = self.provider(GITHUB).await;
        let mut cases: BTreeMap<usize, Timed> = BTreeMap::new();
        let mut push = |i: usize, name: &str, d: Duration| {
            let t = cases.entry(i).or_insert_with(|| Timed {
                name: name.to_owned(),
                total: vec![],
                rest: vec![],
            });
            t.total.push(d);
            t.rest.push(d);
        };
        let verifier = "bench-verifier-0123456789-0123456789-0123456789";
        let nonce = "bench-nonce-0123456789";
        for _ in 0..runs {
            // Discovery.
            let fresh = new_instance(&self.app);
            let t = Instant::now();
            let e = federation::endpoints(&fresh, &oidc).await.expect("discovery");
            push(0, "discovery, new instance (HTTP client made, then fetched)", t.elapsed());
            forget_documents(&self.app);
            let t = Instant::now();
            federation::endpoints(&self.app, &oidc).await.expect("discovery");
            push(1, "discovery fetched (HTTP client kept)", t.elapsed());
            let t = Instant::now();
            federation::endpoints(&self.app, &oidc).await.expect("discovery");
            push(2, "discovery kept", t.elapsed());
            // The code exchanged.
            let code = self.code_at(&e.authorization, verifier, nonce).await;
            let t = Instant::now();
            let tokens = federation::exchange(&self.app, &oidc, &e, &code, verifier).await.expect("tokens");
            push(3, "token exchange (answer has an RS256 ID token)", t.elapsed());
            // The ID token verified, its key set fetched, then kept.
            let jwks = e.jwks.clone().expect("a key set");
            self.app.config.federation.cache.lock().unwrap_or_else(|p| p.into_inner()).remove(&jwks);
            let t = Instant::now();
            federation::profile(&self.app, &oidc, &e, &tokens, Some(nonce)).await.expect("profile");
            push(4, "ID token: key set fetched, then verified", t.elapsed());
            let t = Instant::now();
            federation::profile(&self.app, &oidc, &e, &tokens, Some(nonce)).await.expect("profile");
            push(5, "ID token verified (key set kept)", t.elapsed());
            // GitHub.
            let ge = federation::endpoints(&self.app, &github).await.expect("GitHub's endpoints");
            let code = self.code_at(&ge.authorization, verifier, nonce).await;
            let t = Instant::now();
            let tokens =
                federation::exchange(&self.app, &github, &ge, &code, verifier).await.expect("tokens");
            push(6, "GitHub token exchange", t.elapsed());
            let t = Instant::now();
            federation::profile(&self.app, &github, &ge, &tokens, None).await.expect("GitHub's user");
            push(7, "GitHub /user and /user/emails (at the same time)", t.elapsed());
        }
        cases.into_values().collect()
    }
}

/// Signs in through the test upstream on a fresh table at `ddb_url`,
/// measuring each request's DynamoDB work and the callback's time.
pub async fn measure(ddb_url: &str, quick: bool) -> Measured {
    let runs = if quick { 10 } else { 40 };
    let b = Bench::new(ddb_url).await;
    b.up.sign_in_as(UpstreamUser::new("bench-upstream-1", "bench-1@upstream.example"));
    let first = b.sign_in(OIDC, true).await;
    let returning = b.sign_in(OIDC, false).await;
    // GitHub's person too, so its timed callbacks find a person.
    let mut gh = UpstreamUser::new("bench-github-1", "bench-gh@upstream.example");
    gh.github_emails = vec![("bench-gh@upstream.example".into(), true, true)];
    b.up.sign_in_as(gh);
    b.sign_in(GITHUB, true).await;
    let github = b.sign_in(GITHUB, false).await;
    // Warm up: the HTTP client made and the documents kept.
    for _ in 0..3 {
        b.time_callback("", GITHUB, 1, App::clone).await;
    }
    let gh_warm = b
        .time_callback("GitHub, warm instance (token, then /user and /user/emails)", GITHUB, runs, App::clone)
        .await;
    b.up.sign_in_as(UpstreamUser::new("bench-upstream-1", "bench-1@upstream.example"));
    for _ in 0..3 {
        b.time_callback("", OIDC, 1, App::clone).await;
    }
    let callbacks = vec![
        b.time_callback("OpenID Connect, warm instance (token exchange only)", OIDC, runs, App::clone).await,
        b.time_callback(
            "OpenID Connect, documents not kept (discovery, token, key set)",
            OIDC,
            runs,
            |app| {
                forget_documents(app);
                app.clone()
            },
        )
        .await,
        b.time_callback(
            "OpenID Connect, new instance (HTTP client made; discovery, token, key set)",
            OIDC,
            runs,
            new_instance,
        )
        .await,
        gh_warm,
    ];
    let calls = b.time_calls(runs).await;
    Measured { first, returning, github, callbacks, calls, runs }
}

fn pct(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Lambda for one request at `mem_mb` (the model of the cost section: 6 ms
/// per DynamoDB round trip, 1 ms of our code, `extra_ms`), per request.
fn lambda(mem_mb: f64, round_trips: usize, extra_ms: f64) -> f64 {
    let d = (round_trips as f64 * crate::AWS_DDB_ROUND_TRIP_MS + 1.0 + extra_ms).ceil() / 1e3;
    d * mem_mb / 1024.0 * crate::LAMBDA_GB_SECOND_ARM + crate::LAMBDA_PER_REQUEST
}

/// Writes the federation section.
pub fn report(md: &mut String, m: &Measured) {
    let _ = writeln!(
        md,
        "\n## Signing in through an upstream provider\n\nA sign-in through an OpenID Connect provider, each request as the function serving it runs it (router, DynamoDB Local, units as AWS bills them, cookies carried as a browser would), the provider being the test upstream (`zeroauth_e2e::upstream`) on https loopback. `GET /federation/callback` answers with ZeroAuth's consent page, signed in; the person's \"Allow\" is the second `POST /callback`.\n"
    );
    let same_work = |a: &[FedStep], b: &[FedStep]| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| {
                let (x, y) = (&x.step, &y.step);
                x.status == y.status && x.calls == y.calls && x.reads == y.reads && x.writes == y.writes
            })
    };
    let github_same = same_work(&m.returning, &m.github);
    let mut tables = vec![
        (
            "A first sign-in (the person is made; the instance's first, so its documents are fetched)",
            &m.first,
        ),
        ("A returning person", &m.returning),
    ];
    if !github_same {
        tables.push(("A returning person through the GitHub-shaped provider", &m.github));
    }
    for (title, steps) in tables {
        let _ = writeln!(
            md,
            "{title}:\n\n| request | status | DynamoDB calls | round trips | read units | write units | calls to the provider |\n|---|---|---|---|---|---|---|"
        );
        for f in steps.iter() {
            let s = &f.step;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                s.name,
                s.status,
                s.calls.join(", "),
                s.round_trips,
                s.reads + 0.0,
                s.writes + 0.0,
                if f.provider.is_empty() { "none".to_owned() } else { f.provider.join(", ") }
            );
            eprintln!(
                "{}: {} {} round trips, {} RRU, {} WRU, provider: {:?}",
                s.name,
                s.status,
                s.round_trips,
                s.reads + 0.0,
                s.writes + 0.0,
                f.provider
            );
        }
        let _ = writeln!(md);
    }
    if github_same {
        let calls: Vec<String> = m
            .github
            .iter()
            .filter(|f| !f.provider.is_empty())
            .map(|f| format!("{}: {}", f.step.name, f.provider.join(", ")))
            .collect();
        let _ = writeln!(
            md,
            "A returning person through the GitHub-shaped provider makes the same DynamoDB calls, with these calls to it: {}.\n",
            calls.join("; ")
        );
    }

    // The callback's time.
    let _ = writeln!(
        md,
        "`GET /federation/callback` timed {} times in each state of the instance (a returning person; the steps before it not timed). The test upstream closes every connection after one answer, so each call to it is a new TCP connection and TLS handshake (ECDSA P-256 certificate); its own answers are made in memory (the token answer signs an RS256 ID token). *Less DynamoDB* takes out DynamoDB Local's time (its calls' spans); what is left is the provider calls and ZeroAuth's own work.\n\n| callback | p50 | p95 | less DynamoDB p50 | p95 |\n|---|---|---|---|---|",
        m.runs
    );
    for t in &m.callbacks {
        let _ = writeln!(
            md,
            "| {} | {} ms | {} ms | {} ms | {} ms |",
            t.name,
            ms(pct(&t.total, 0.5)),
            ms(pct(&t.total, 0.95)),
            ms(pct(&t.rest, 0.5)),
            ms(pct(&t.rest, 0.95))
        );
        eprintln!("{}: {} ms, less DynamoDB {} ms", t.name, ms(pct(&t.total, 0.5)), ms(pct(&t.rest, 0.5)));
    }
    let _ = writeln!(
        md,
        "\nThe provider calls alone, {} times each, through `zeroauth_shared::federation` (`endpoints`, `exchange`, `profile`) as the callback calls them:\n\n| call | p50 | p95 |\n|---|---|---|",
        m.runs
    );
    let call = |i: usize| m.calls.get(i).map_or(0.0, |t| millis(pct(&t.total, 0.5)));
    for t in &m.calls {
        let _ =
            writeln!(md, "| {} | {} ms | {} ms |", t.name, ms(pct(&t.total, 0.5)), ms(pct(&t.total, 0.95)));
        eprintln!("{}: {} ms", t.name, ms(pct(&t.total, 0.5)));
    }
    let (discovery, token, jwks_fetch, verify, gh_token, gh_user) =
        (call(1), call(3), call(4), call(5), call(6), call(7));
    let warm = m.callbacks.first().map_or(0.0, |t| millis(pct(&t.rest, 0.5)));
    let gh_warm = m.callbacks.get(3).map_or(0.0, |t| millis(pct(&t.rest, 0.5)));
    let oidc_upstream = token + verify;
    let gh_upstream = gh_token + gh_user;
    let _ = writeln!(
        md,
        "\nOf a warm callback's {warm:.2} ms less DynamoDB (OpenID Connect), the token exchange and the ID token's verification are {oidc_upstream:.2} ms ({:.0} %); the rest ({:.2} ms) is ZeroAuth's own work besides DynamoDB (the kept request read back, the profile mapped, the session sealed, the consent page rendered). GitHub: {gh_warm:.2} ms, of which the three calls (the token, then `/user` and `/user/emails` side by side) are {gh_upstream:.2} ms ({:.0} %). One call to the provider on loopback costs about what the discovery fetch does ({discovery:.2} ms: a connection, a TLS handshake and a small JSON answer); a cold instance pays that for the discovery document (in `POST /callback`, or here if another instance served it) and for the key set ({:.2} ms beyond the verification), once an hour per instance, and makes its HTTP client once ({:.2} ms: the trusted roots loaded and the TLS configuration built).\n",
        100.0 * oidc_upstream / warm.max(f64::EPSILON),
        (warm - oidc_upstream).max(0.0),
        100.0 * gh_upstream / gh_warm.max(f64::EPSILON),
        (jwks_fetch - verify).max(0.0),
        (call(0) - discovery).max(0.0)
    );

    // Cost.
    let scaled = |x: f64| x / CALLBACK_VCPU;
    let extra_price = |x: f64| x / 1e3 * CALLBACK_MB / 1024.0 * crate::LAMBDA_GB_SECOND_ARM * 1e6;
    let _ = writeln!(
        md,
        "Extra Lambda duration of the provider calls in the `callback` function ({CALLBACK_MB:.0} MB), per million sign-ins: measured here, and scaled to {CALLBACK_VCPU} vCPU as argon2id is (an upper bound: the loopback time holds the test upstream's side of each handshake and its RS256 signature too). Against a real provider its answer time adds to this: each 100 ms of it costs ${:.2} per million.\n\n| per million sign-ins | extra ms here | at {CALLBACK_VCPU} vCPU | extra Lambda |\n|---|---|---|---|",
        extra_price(100.0)
    );
    for (name, x) in [
        ("OpenID Connect, warm (token exchange, ID token verified)", oidc_upstream),
        (
            "OpenID Connect, cold documents (+ discovery and key set)",
            oidc_upstream + discovery + jwks_fetch - verify,
        ),
        ("GitHub (token, user and addresses)", gh_upstream),
    ] {
        let _ = writeln!(md, "| {name} | {x:.2} ms | {:.2} ms | ${:.3} |", scaled(x), extra_price(scaled(x)));
    }
    let mems = [256.0, CALLBACK_MB, CALLBACK_MB, CALLBACK_MB, 512.0];
    let cost = |steps: &[FedStep]| {
        let mut c = [0.0f64; 3];
        for (i, s) in steps.iter().map(|f| &f.step).enumerate() {
            let extra =
                if s.name.starts_with("GET /federation/callback") { scaled(oidc_upstream) } else { 0.0 };
            c[0] += lambda(mems.get(i).copied().unwrap_or(CALLBACK_MB), s.round_trips, extra);
            c[1] += s.reads * crate::DDB_PER_RRU + s.writes * crate::DDB_PER_WRU;
            c[2] += crate::HTTP_API_PER_REQUEST;
        }
        c
    };
    let _ = writeln!(
        md,
        "\nA whole federated sign-in (the five requests above; `authorize` at 256 MB, `callback` at 1024 MB, `token` at 512 MB), at the prices and Lambda model of *Estimated AWS cost*, the callback with the warm OpenID Connect extra scaled as above, the provider's own answer time not counted:\n\n| per million | Lambda | DynamoDB | HTTP API | total |\n|---|---|---|---|---|"
    );
    for (name, steps) in [
        ("first sign-ins through a provider", &m.first),
        ("returning sign-ins through a provider", &m.returning),
    ] {
        let c = cost(steps);
        let _ = writeln!(
            md,
            "| {name} | ${:.2} | ${:.2} | ${:.2} | **${:.2}** |",
            c[0] * 1e6,
            c[1] * 1e6,
            c[2] * 1e6,
            (c[0] + c[1] + c[2]) * 1e6
        );
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
