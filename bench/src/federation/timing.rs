//! The timed runs: `GET /federation/callback` in each state of the
//! instance, and the provider calls alone through ZeroAuth's own functions.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroauth_shared::App;
use zeroauth_shared::federation;

use super::flow::Bench;
use super::{GITHUB, OIDC, Timed};
use crate::ddb::ddb_time;
use crate::jar::{Jar, get};

/// The same app as a new instance of the function would be: its HTTP
/// client not made yet, no discovery document or key set kept.
pub(super) fn new_instance(app: &App) -> App {
    let mut config = (*app.config).clone();
    config.federation.http = Default::default();
    config.federation.cache = Default::default();
    let mut app = app.clone();
    app.config = Arc::new(config);
    app
}

/// Forgets the discovery documents and key sets `app` has kept.
pub(super) fn forget_documents(app: &App) {
    app.config.federation.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
}

impl Bench {
    /// `GET /federation/callback` timed `runs` times through `provider`,
    /// on the app `prepare` gives for each run.
    pub(super) async fn time_callback(
        &self,
        name: &str,
        provider: &str,
        runs: usize,
        prepare: impl Fn(&App) -> App,
    ) -> Timed {
        let mut out = Timed::new(name);
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

    /// Warms up the callback through `provider`: the HTTP client made and
    /// the documents kept.
    pub(super) async fn warm_up(&self, provider: &str) {
        for _ in 0..3 {
            self.time_callback("", provider, 1, App::clone).await;
        }
    }

    /// The provider calls alone, through `zeroauth_shared::federation`'s
    /// functions, `runs` times each.
    pub(super) async fn time_calls(&self, runs: usize) -> Vec<Timed> {
        let oidc = self.provider(OIDC).await;
        let github = self.provider(GITHUB).await;
        let mut cases: BTreeMap<usize, Timed> = BTreeMap::new();
        let mut push = |i: usize, name: &str, d: Duration| {
            let t = cases.entry(i).or_insert_with(|| Timed::new(name));
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
