//! Signing in through an upstream provider: the DynamoDB round trips and
//! units of each request of a federated sign-in, and how much of
//! `GET /federation/callback`'s time is the provider's calls. Every request
//! runs through the router as the `callback` (or `authorize`, `token`)
//! function runs it, against DynamoDB Local with the SDK calls recorded,
//! cookies carried by hand; the provider is the test upstream
//! (`zeroauth_e2e::upstream`): OpenID Connect and GitHub's shapes on https
//! loopback, one request per connection (`Connection: close`), so every
//! call ZeroAuth makes pays a TCP connection and a TLS handshake.
//!
//! [`flow`] drives the requests and records their DynamoDB calls,
//! [`timing`] times the callback and the provider calls alone, and
//! [`report`] writes the tables and the cost.

mod flow;
mod report;
mod timing;

use std::time::Duration;

use zeroauth_e2e::upstream::UpstreamUser;
use zeroauth_shared::App;

use crate::flows::Step;

pub use report::report;

use flow::Bench;
use timing::{forget_documents, new_instance};

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

impl Timed {
    /// A case named `name`, with no samples yet.
    fn new(name: &str) -> Self {
        Self { name: name.to_owned(), total: Vec::new(), rest: Vec::new() }
    }
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

/// The OpenID Connect provider's person for the benchmark.
fn oidc_user() -> UpstreamUser {
    UpstreamUser::new("bench-upstream-1", "bench-1@upstream.example")
}

/// Signs in through the test upstream on a fresh table at `ddb_url`,
/// measuring each request's DynamoDB work and the callback's time.
pub async fn measure(ddb_url: &str, quick: bool) -> Measured {
    let runs = if quick { 10 } else { 40 };
    let b = Bench::new(ddb_url).await;
    b.up.sign_in_as(oidc_user());
    let first = b.sign_in(OIDC, true).await;
    let returning = b.sign_in(OIDC, false).await;
    // GitHub's person too, so its timed callbacks find a person.
    let mut gh = UpstreamUser::new("bench-github-1", "bench-gh@upstream.example");
    gh.github_emails = vec![("bench-gh@upstream.example".into(), true, true)];
    b.up.sign_in_as(gh);
    b.sign_in(GITHUB, true).await;
    let github = b.sign_in(GITHUB, false).await;
    b.warm_up(GITHUB).await;
    let gh_warm = b
        .time_callback("GitHub, warm instance (token, then /user and /user/emails)", GITHUB, runs, App::clone)
        .await;
    b.up.sign_in_as(oidc_user());
    b.warm_up(OIDC).await;
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
