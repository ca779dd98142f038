//! `zeroauth serve` under sustained load: the release binary on the embedded
//! and the file store, `wrk -t1 -c8` on `client_credentials` for a fixed
//! time with the server's default lifetimes (1-hour access tokens), so every
//! token written stays live and the store grows all run: a store that stalls
//! while it grows shows up in p99 and the max, and its size per token in
//! the resident memory gained per live token.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLIENT: &str = "soak";
const SECRET: &str = "soak-secret-0123456789";

/// What one run measured.
pub struct Soak {
    /// Requests per second.
    pub rps: f64,
    /// wrk's latency percentiles, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// The slowest request.
    pub max_ms: f64,
    /// Resident memory (KiB) before the load, then once a second, then after it.
    pub rss_kib: Vec<u64>,
    /// Requests answered.
    pub requests: u64,
    /// Responses other than 2xx.
    pub errors: u64,
    /// Whether each 2xx response wrote a token.
    pub tokens: bool,
}

impl Soak {
    /// Tokens written and still live at the end: every 2xx `/token`
    /// response, as none expires within the run.
    pub fn live_tokens(&self) -> u64 {
        if self.tokens { self.requests.saturating_sub(self.errors) } else { 0 }
    }

    /// Resident memory gained over the run divided by the live tokens: what
    /// a token costs, with whatever the allocator keeps besides.
    pub fn bytes_per_token(&self) -> Option<f64> {
        let (first, last) = (self.rss_kib.first()?, self.rss_kib.last()?);
        let tokens = self.live_tokens();
        (tokens > 0).then(|| (*last as f64 - *first as f64) * 1024.0 / tokens as f64)
    }

    /// Resident memory at the end, in MiB.
    pub fn final_mib(&self) -> f64 {
        self.rss_kib.last().map_or(f64::NAN, |k| *k as f64 / 1024.0)
    }
}

/// One configuration to run.
pub struct Case {
    /// `--store`; `{dir}` stands for a fresh temporary directory.
    pub store: &'static str,
    /// Tokio worker threads (`TOKIO_WORKER_THREADS`); `None`: one per core.
    pub workers: Option<usize>,
    /// POST `/token` (client_credentials), or else GET the OpenID
    /// configuration, which reads no store (the control).
    pub tokens: bool,
}

/// Runs `zeroauth serve` from `release` as `case` says, under wrk for `seconds`.
pub fn run(release: &Path, case: &Case, seconds: u64) -> Result<Soak, String> {
    let work = std::env::temp_dir().join(format!("zeroauth-soak-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let seed = work.join("seed.toml");
    let seed_text = format!(
        "[[clients]]\nclient_id = \"{CLIENT}\"\nclient_secret = \"{SECRET}\"\nname = \"Soak\"\ngrants = [\"client_credentials\"]\nscope = \"read\"\n"
    );
    std::fs::write(&seed, seed_text).map_err(|e| e.to_string())?;
    let store = case.store.replace("{dir}", &work.display().to_string());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let mut server = Command::new(release.join("zeroauth"));
    server
        .args(["serve", "--port", &port.to_string(), "--no-demo", "--store", &store])
        .arg("--seed")
        .arg(&seed)
        .env_remove("ZEROAUTH_ACCESS_TOKEN_TTL")
        .env_remove("ZEROAUTH_REFRESH_TOKEN_TTL")
        .env_remove("ZEROAUTH_STORE")
        .env_remove("TOKIO_WORKER_THREADS");
    if let Some(n) = case.workers {
        server.env("TOKIO_WORKER_THREADS", n.to_string());
    }
    let mut server = server
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start zeroauth serve: {e}"))?;
    let ready = server
        .stdout
        .take()
        .map(BufReader::new)
        .is_some_and(|r| r.lines().map_while(Result::ok).any(|l| l.contains("Stop it with Ctrl-C")));
    let result = if ready {
        load(server.id(), port, seconds, &work, case.tokens)
    } else {
        Err("serve did not start".into())
    };
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn load(pid: u32, port: u16, seconds: u64, work: &Path, tokens: bool) -> Result<Soak, String> {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT}:{SECRET}"));
    let script = work.join("load.lua");
    let request = if tokens {
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"grant_type=client_credentials\"\n\
             wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             wrk.headers[\"Authorization\"] = \"Basic {basic}\"\n"
        )
    } else {
        String::new()
    };
    let done = "function done(summary, latency, requests)\n  io.write(string.format(\"requests %d\\nnon2xx %d\\nmax_us %d\\n\", summary.requests, summary.errors.status, latency.max))\nend\n";
    std::fs::write(&script, format!("{request}{done}")).map_err(|e| e.to_string())?;
    let path = if tokens { "/token" } else { "/.well-known/openid-configuration" };
    let mut rss_kib = vec![rss(pid).unwrap_or(0)];
    let wrk = Command::new("wrk")
        .args(["-t1", "-c8", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("wrk is needed (scripts/bench installs it): {e}"))?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        rss_kib.push(rss(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_secs(1));
    }
    let out = wrk.wait_with_output().map_err(|e| e.to_string())?;
    rss_kib.push(rss(pid).unwrap_or(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let pct = |p: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(to_ms)
            .ok_or_else(|| format!("no {p} line in wrk's output: {text}"))
    };
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's output: {text}"))?;
    let count = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(Soak {
        rps,
        p50_ms: pct("50%")?,
        p99_ms: pct("99%")?,
        max_ms: count("max_us ") as f64 / 1e3,
        rss_kib,
        requests: count("requests "),
        errors: count("non2xx "),
        tokens,
    })
}

/// wrk's `123.45us`, `1.23ms` or `2.00s` in milliseconds.
fn to_ms(v: &str) -> Option<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1e3)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|n| n * scale)
}

/// The process's resident memory in KiB.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The most resident memory a live token may cost, in bytes.
pub const BYTES_PER_TOKEN_TARGET: f64 = 400.0;

/// `zeroauth serve` under wrk on both embedded stores; the memory store's
/// runs (one worker, then one per core) for the targets table.
pub fn report(md: &mut String, release: &Path, secs: u64, cores: usize) -> Option<(Soak, Soak)> {
    let _ = writeln!(
        md,
        "\n## `zeroauth serve` under sustained load\n\nThe release `zeroauth serve` as its own process, `wrk -t1 -c8 -d{secs}s` on `client_credentials` (a token written per request) with the default lifetimes: access tokens live an hour, so none expires during the run and the store holds every token written, as a busy server's does. *Per live token* is the resident memory gained from just before the load to just after it, divided by the tokens written (the 2xx responses): the store's records and maps plus whatever the allocator keeps besides. wrk needs one of this machine's cores, so each store runs with one Tokio worker (the other core left to wrk), and the memory store also with the default of one worker per core; the discovery document, which reads no store, is the control for what sharing the cores costs. The machine is shared with other work, so a run's figures move by tens of percent from one run to the next.\n\n| store | workers | request | req/s | p50 | p99 | max | non-2xx | live tokens at the end | memory at the end | per live token |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let cases = [
        ("embedded (memory)", Case { store: "memory", workers: Some(1), tokens: true }),
        ("embedded (memory)", Case { store: "memory", workers: None, tokens: true }),
        ("embedded (memory)", Case { store: "memory", workers: None, tokens: false }),
        ("file (SQLite)", Case { store: "file:{dir}/soak.db", workers: Some(1), tokens: true }),
    ];
    let mut kept = Vec::new();
    for (name, case) in &cases {
        let workers = case.workers.map_or_else(|| format!("{cores} (one per core)"), |n| n.to_string());
        let request = if case.tokens { "POST /token" } else { "GET discovery" };
        match run(release, case, secs) {
            Ok(m) => {
                let per_token = m.bytes_per_token().map_or_else(|| "—".to_owned(), |b| format!("{b:.0} B"));
                let _ = writeln!(
                    md,
                    "| {name} | {workers} | {request} | {:.0} | {:.2} ms | {:.2} ms | {:.1} ms | {} | {} | {:.1} MiB | {per_token} |",
                    m.rps,
                    m.p50_ms,
                    m.p99_ms,
                    m.max_ms,
                    m.errors,
                    m.live_tokens(),
                    m.final_mib(),
                );
                eprintln!(
                    "serve on {name}, {workers} workers, {request}: {:.0} req/s, p99 {:.2} ms, max {:.1} ms, {per_token} per live token",
                    m.rps, m.p99_ms, m.max_ms
                );
                if case.store == "memory" && case.tokens {
                    kept.push(m);
                }
            }
            Err(e) => {
                let _ = writeln!(md, "| {name} | {workers} | {request} | failed: {e} | | | | | | | |");
            }
        }
    }
    let mut kept = kept.into_iter();
    Some((kept.next()?, kept.next()?))
}

/// The soak's row of the targets table, from the memory store's runs with
/// one worker and with one per core.
pub fn target_row(secs: u64, one: &Soak, all: &Soak) -> String {
    let bytes = one.bytes_per_token().unwrap_or(f64::NAN);
    let met = one.p99_ms <= 2.0 && bytes <= BYTES_PER_TOKEN_TARGET;
    format!(
        "| `zeroauth serve` on the embedded store, default lifetimes (1-hour access tokens), {secs} s at 8 connections: p99 ≤ 2 ms, ≤ {BYTES_PER_TOKEN_TARGET:.0} bytes per live token | p99 {:.2} ms with one worker ({:.2} ms with one per core, the cores shared with wrk), {bytes:.0} bytes per live token over {} tokens | {} |",
        one.p99_ms,
        all.p99_ms,
        one.live_tokens(),
        if met { "met" } else { "**not met**" }
    )
}
