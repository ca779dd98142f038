//! The self-service flows' work: DynamoDB round trips and units, and the
//! mails sent, of a sign-up, its verification and a password reset, each
//! request run through the router as the callback function runs it, with
//! mail kept in memory (the transport's own time is SES's or the SMTP
//! server's, not ours).

use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use zeroauth_shared::App;
use zeroauth_shared::http::Request;
use zeroauth_shared::mail::{MailSettings, Outbox};
use zeroauth_shared::router::{Mount, route};
use zeroauth_shared::sign_in::self_service::SignUp;

use crate::ddb;

/// What one request of a flow did.
pub struct Step {
    /// The request.
    pub name: &'static str,
    /// Its status.
    pub status: u16,
    /// The DynamoDB calls, in order.
    pub calls: Vec<String>,
    /// Sequential waves of calls.
    pub round_trips: usize,
    /// Read units.
    pub reads: f64,
    /// Write units as AWS bills them.
    pub writes: f64,
    /// Mails sent.
    pub mails: usize,
    /// argon2id hashes made (sign-up and reset hash the new password).
    pub hashes: usize,
}

fn form(path: &str, cookie: Option<&str>, body: &str) -> Request {
    let mut b = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "198.51.100.7");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    b.body(Bytes::from(body.to_owned())).expect("a request")
}

fn flow_cookie(res: &zeroauth_shared::http::Response) -> Option<String> {
    res.headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("za_flow=") || v.starts_with("__Host-za_flow="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_owned)
}

/// Runs sign-up, verification by code, and a reset by code, measuring each.
pub async fn measure(app: App, recorder: &ddb::Recorder) -> Vec<Step> {
    let outbox = Arc::new(Outbox::new());
    let settings = MailSettings { from: "Bench <no-reply@bench.example>".into(), product: "ZeroAuth".into() };
    let mut app = app.with_mailer(outbox.clone(), settings);
    let mut config = (*app.config).clone();
    config.self_service.sign_up = SignUp::Open;
    config.self_service.response_floor_ms = 0;
    app.config = Arc::new(config);
    let email =
        format!("bench-{}@bench.example", zeroauth_shared::crypto::random_string(6).expect("randomness"));
    let password = "plum+orbit+canyon+velvet";
    let new_password = "quartz+meadow+lantern+ferry";
    let mut steps = Vec::new();
    let mut run = async |name: &'static str, req: Request, hashes: usize| {
        let before = outbox.sent().len();
        recorder.take();
        let res = route(&app, Mount::All, req).await;
        let calls = recorder.take();
        let waves = ddb::waves(&calls);
        steps.push(Step {
            name,
            status: res.status().as_u16(),
            calls: calls.iter().map(|c| c.op.clone()).collect(),
            round_trips: waves.len(),
            reads: calls.iter().filter(|c| c.is_read()).map(|c| c.units).sum(),
            writes: calls
                .iter()
                .filter(|c| !c.is_read())
                .map(|c| if c.is_transaction() { 2.0 * c.units } else { c.units })
                .sum(),
            mails: outbox.sent().len() - before,
            hashes,
        });
        res
    };
    let body = format!("email={email}&name=Bench+Person&password={password}");
    let res = run("POST /signup (new address)", form("/signup", None, &body), 1).await;
    let cookie = flow_cookie(&res).expect("the sign-up's flow cookie");
    let code = outbox.sent().last().and_then(|m| code_in(&m.text)).expect("a code in the mail");
    run("POST /verify (the code)", form("/verify", Some(&cookie), &format!("step=code&code={code}")), 0)
        .await;
    let res = run("POST /reset (ask)", form("/reset", None, &format!("step=request&email={email}")), 0).await;
    let cookie = flow_cookie(&res).expect("the reset's flow cookie");
    let code = outbox.sent().last().and_then(|m| code_in(&m.text)).expect("a code in the mail");
    let body = format!("step=code&code={code}&password={new_password}");
    run("POST /reset (code and new password)", form("/reset", Some(&cookie), &body), 1).await;
    let unknown = "step=request&email=nobody%40bench.example";
    run("POST /reset (address without an account)", form("/reset", None, unknown), 0).await;
    let body = format!("email={email}&name=Someone+Else&password={password}");
    run("POST /signup (address with an account)", form("/signup", None, &body), 1).await;
    // The answer floor at its default: a reset asked for an address with
    // an account (a code is made and mailed) against one without.
    let mut floored = (*app.config).clone();
    floored.self_service = zeroauth_shared::config::self_service::SelfService {
        sign_up: SignUp::Open,
        mails_per_address: 1000,
        mails_per_ip: 1000,
        ..Default::default()
    };
    app.config = Arc::new(floored);
    let mut timing = Vec::new();
    for (label, address) in [("with an account", email.as_str()), ("without", "nobody@bench.example")] {
        let mut times = Vec::new();
        for _ in 0..10 {
            let started = std::time::Instant::now();
            let res =
                route(&app, Mount::All, form("/reset", None, &format!("step=request&email={address}"))).await;
            assert_eq!(res.status().as_u16(), 303);
            times.push(started.elapsed());
        }
        times.sort();
        timing.push((label, times));
    }
    steps.push(Step {
        name: "timing",
        status: 0,
        calls: timing
            .iter()
            .map(|(label, t)| {
                let ms = |d: &std::time::Duration| d.as_secs_f64() * 1e3;
                format!(
                    "{label}: median {:.1} ms, min {:.1} ms, max {:.1} ms",
                    t.get(t.len() / 2).map_or(0.0, ms),
                    t.first().map_or(0.0, ms),
                    t.last().map_or(0.0, ms)
                )
            })
            .collect(),
        round_trips: 0,
        reads: 0.0,
        writes: 0.0,
        mails: 0,
        hashes: 0,
    });
    steps
}

/// Writes the flows' table and their cost per million.
pub fn report(md: &mut String, steps: &[Step], argon_ms: f64) {
    let _ = writeln!(
        md,
        "\n## Self-service flows\n\nEach request as the `callback` function serves it, against DynamoDB Local (units as AWS bills them), with the mails counted. A sign-up hashes the new password once (argon2id), as a reset does.\n\n| request | status | calls | round trips | read units | write units | mails |\n|---|---|---|---|---|---|---|"
    );
    for s in steps.iter().filter(|s| s.name != "timing") {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            s.status,
            s.calls.join(", "),
            s.round_trips,
            s.reads + 0.0,
            s.writes + 0.0,
            s.mails
        );
        eprintln!(
            "{}: {} {} round trips, {} RRU, {} WRU, {} mails",
            s.name, s.status, s.round_trips, s.reads, s.writes, s.mails
        );
    }
    if let Some(t) = steps.iter().find(|s| s.name == "timing") {
        let _ = writeln!(
            md,
            "\nA reset asked for an address with an account and for one without, 10 times each at the default answer floor (350 ms), mail in memory: {}.",
            t.calls.join("; ")
        );
    }
    let cost = |names: &[&str]| {
        let mut c = [0.0f64; 4];
        for s in steps.iter().filter(|s| names.contains(&s.name)) {
            let d = (s.round_trips as f64 * crate::AWS_DDB_ROUND_TRIP_MS + 1.0 + s.hashes as f64 * argon_ms)
                .ceil()
                / 1e3;
            c[0] += d * 1024.0 / 1024.0 * crate::LAMBDA_GB_SECOND_ARM + crate::LAMBDA_PER_REQUEST;
            c[1] += s.reads * crate::DDB_PER_RRU + s.writes * crate::DDB_PER_WRU;
            c[2] += crate::HTTP_API_PER_REQUEST;
            c[3] += s.mails as f64 * SES_PER_MAIL;
        }
        c
    };
    let _ = writeln!(
        md,
        "\nPer million, at the prices above and Amazon SES at $0.10 per 1,000 mails; the `callback` function at 1024 MB, {} ms per argon2id hash.\n\n| per million | Lambda | DynamoDB | HTTP API | SES | total |\n|---|---|---|---|---|---|",
        argon_ms.round()
    );
    for (name, parts) in [
        (
            "sign-ups (sign-up + verification by code)",
            &["POST /signup (new address)", "POST /verify (the code)"][..],
        ),
        (
            "password resets (ask + code and new password)",
            &["POST /reset (ask)", "POST /reset (code and new password)"][..],
        ),
    ] {
        let c = cost(parts);
        let _ = writeln!(
            md,
            "| {name} | ${:.2} | ${:.2} | ${:.2} | ${:.2} | **${:.2}** |",
            c[0] * 1e6,
            c[1] * 1e6,
            c[2] * 1e6,
            c[3] * 1e6,
            (c[0] + c[1] + c[2] + c[3]) * 1e6
        );
    }
}

/// Amazon SES outbound mail, per message.
const SES_PER_MAIL: f64 = 0.10 / 1000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flows_run_end_to_end_on_the_embedded_store() {
        let store = Arc::new(zeroauth_shared::store::memory::MemoryStore::new());
        let app = crate::fixtures::app(store, "https://bench.example");
        let steps = measure(app, &ddb::Recorder::default()).await;
        let got: Vec<(&str, u16, usize)> = steps.iter().map(|s| (s.name, s.status, s.mails)).collect();
        assert_eq!(
            got,
            vec![
                ("POST /signup (new address)", 303, 1),
                ("POST /verify (the code)", 200, 0),
                ("POST /reset (ask)", 303, 1),
                ("POST /reset (code and new password)", 200, 1),
                ("POST /reset (address without an account)", 303, 0),
                ("POST /signup (address with an account)", 303, 1),
                ("timing", 0, 0),
            ]
        );
    }
}
