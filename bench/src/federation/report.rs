//! The federation section of `BENCHMARKS.md`: each request's DynamoDB
//! work, the callback's time against the provider calls alone, and the
//! cost per million sign-ins.

use std::fmt::Write as _;
use std::time::Duration;

use super::{CALLBACK_MB, CALLBACK_VCPU, FedStep, Measured, Timed};
use crate::stats::ms;

fn pct(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default()
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// A percentile of `v` as a table cell: "1.23 ms".
fn cell(v: &[Duration], q: f64) -> String {
    format!("{} ms", ms(pct(v, q)))
}

/// The median of case `i`'s samples (`rest` or `total`) in milliseconds; 0
/// if there is no such case.
fn median_ms(cases: &[Timed], i: usize, of: impl Fn(&Timed) -> &[Duration]) -> f64 {
    cases.get(i).map_or(0.0, |t| millis(pct(of(t), 0.5)))
}

/// Writes `intro`, a blank line and a table's header with these columns.
fn table(md: &mut String, intro: &str, columns: &[&str]) {
    let _ = writeln!(md, "{intro}\n\n| {} |\n|{}", columns.join(" | "), "---|".repeat(columns.len()));
}

/// Writes a table's row.
fn row<S: AsRef<str>>(md: &mut String, cells: &[S]) {
    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
    let _ = writeln!(md, "| {} |", cells.join(" | "));
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
    steps(md, m);
    let medians = callbacks(md, m);
    cost(md, m, &medians);
}

/// The provider calls' medians the cost is made of, in milliseconds.
struct Medians {
    /// A warm OpenID Connect callback's: the token exchange and the ID
    /// token's verification.
    oidc_upstream: f64,
    /// The discovery document fetched (HTTP client kept).
    discovery: f64,
    /// The key set fetched, then the ID token verified.
    jwks_fetch: f64,
    /// The ID token verified, its key set kept.
    verify: f64,
    /// GitHub's: the token, then `/user` and `/user/emails`.
    gh_upstream: f64,
}

/// The tables of each request's DynamoDB work and calls to the provider.
fn steps(md: &mut String, m: &Measured) {
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
        let columns = [
            "request",
            "status",
            "DynamoDB calls",
            "round trips",
            "read units",
            "write units",
            "calls to the provider",
        ];
        table(md, &format!("{title}:"), &columns);
        for f in steps.iter() {
            let s = &f.step;
            let provider = if f.provider.is_empty() { "none".to_owned() } else { f.provider.join(", ") };
            row(
                md,
                &[
                    s.name.to_owned(),
                    s.status.to_string(),
                    s.calls.join(", "),
                    s.round_trips.to_string(),
                    (s.reads + 0.0).to_string(),
                    (s.writes + 0.0).to_string(),
                    provider,
                ],
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
}

/// The callback's time and the provider calls alone, with what of a warm
/// callback they are; returns the medians the cost is made of.
fn callbacks(md: &mut String, m: &Measured) -> Medians {
    table(
        md,
        &format!(
            "`GET /federation/callback` timed {} times in each state of the instance (a returning person; the steps before it not timed). The test upstream closes every connection after one answer, so each call to it is a new TCP connection and TLS handshake (ECDSA P-256 certificate); its own answers are made in memory (the token answer signs an RS256 ID token). *Less DynamoDB* takes out DynamoDB Local's time (its calls' spans); what is left is the provider calls and ZeroAuth's own work.",
            m.runs
        ),
        &["callback", "p50", "p95", "less DynamoDB p50", "p95"],
    );
    for t in &m.callbacks {
        row(
            md,
            &[
                t.name.clone(),
                cell(&t.total, 0.5),
                cell(&t.total, 0.95),
                cell(&t.rest, 0.5),
                cell(&t.rest, 0.95),
            ],
        );
        eprintln!("{}: {} ms, less DynamoDB {} ms", t.name, ms(pct(&t.total, 0.5)), ms(pct(&t.rest, 0.5)));
    }
    table(
        md,
        &format!(
            "\nThe provider calls alone, {} times each, through `zeroauth_shared::federation` (`endpoints`, `exchange`, `profile`) as the callback calls them:",
            m.runs
        ),
        &["call", "p50", "p95"],
    );
    for t in &m.calls {
        row(md, &[t.name.clone(), cell(&t.total, 0.5), cell(&t.total, 0.95)]);
        eprintln!("{}: {} ms", t.name, ms(pct(&t.total, 0.5)));
    }
    let call = |i: usize| median_ms(&m.calls, i, |t| &t.total);
    let (discovery, token, jwks_fetch, verify, gh_token, gh_user) =
        (call(1), call(3), call(4), call(5), call(6), call(7));
    let warm = median_ms(&m.callbacks, 0, |t| &t.rest);
    let gh_warm = median_ms(&m.callbacks, 3, |t| &t.rest);
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
    Medians { oidc_upstream, discovery, jwks_fetch, verify, gh_upstream }
}

/// The extra Lambda of the provider calls, and a whole federated sign-in
/// per million.
fn cost(md: &mut String, m: &Measured, p: &Medians) {
    let Medians { oidc_upstream, discovery, jwks_fetch, verify, gh_upstream } = *p;
    let scaled = |x: f64| x / CALLBACK_VCPU;
    let extra_price = |x: f64| x / 1e3 * CALLBACK_MB / 1024.0 * crate::LAMBDA_GB_SECOND_ARM * 1e6;
    table(
        md,
        &format!(
            "Extra Lambda duration of the provider calls in the `callback` function ({CALLBACK_MB:.0} MB), per million sign-ins: measured here, and scaled to {CALLBACK_VCPU} vCPU as argon2id is (an upper bound: the loopback time holds the test upstream's side of each handshake and its RS256 signature too). Against a real provider its answer time adds to this: each 100 ms of it costs ${:.2} per million.",
            extra_price(100.0)
        ),
        &["per million sign-ins", "extra ms here", &format!("at {CALLBACK_VCPU} vCPU"), "extra Lambda"],
    );
    for (name, x) in [
        ("OpenID Connect, warm (token exchange, ID token verified)", oidc_upstream),
        (
            "OpenID Connect, cold documents (+ discovery and key set)",
            oidc_upstream + discovery + jwks_fetch - verify,
        ),
        ("GitHub (token, user and addresses)", gh_upstream),
    ] {
        row(
            md,
            &[
                name.to_owned(),
                format!("{x:.2} ms"),
                format!("{:.2} ms", scaled(x)),
                format!("${:.3}", extra_price(scaled(x))),
            ],
        );
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
    table(
        md,
        "\nA whole federated sign-in (the five requests above; `authorize` at 256 MB, `callback` at 1024 MB, `token` at 512 MB), at the prices and Lambda model of *Estimated AWS cost*, the callback with the warm OpenID Connect extra scaled as above, the provider's own answer time not counted:",
        &["per million", "Lambda", "DynamoDB", "HTTP API", "total"],
    );
    for (name, steps) in [
        ("first sign-ins through a provider", &m.first),
        ("returning sign-ins through a provider", &m.returning),
    ] {
        let c = cost(steps);
        let dollars = |x: f64| format!("${:.2}", x * 1e6);
        row(
            md,
            &[
                name.to_owned(),
                dollars(c[0]),
                dollars(c[1]),
                dollars(c[2]),
                format!("**{}**", dollars(c[0] + c[1] + c[2])),
            ],
        );
    }
}
