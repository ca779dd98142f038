//! Warm latency: the same flows through the local HTTP server (the handlers
//! `zeroauth serve` mounts), and straight through the router to show what
//! ZeroAuth's own code costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use zeroauth_shared::http::Request;
use zeroauth_shared::router::{Mount, route};

use crate::fixtures::Fixtures;
use crate::stats::{Summary, summarize};

/// The flows measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `client_credentials` issuance.
    ClientCredentials,
    /// Authorization-code exchange.
    CodeExchange,
    /// Refresh-token rotation.
    Refresh,
    /// `GET /userinfo`.
    Userinfo,
    /// `POST /introspect`.
    Introspect,
}

impl Flow {
    /// Every flow, in report order.
    pub const ALL: [Flow; 5] =
        [Flow::ClientCredentials, Flow::CodeExchange, Flow::Refresh, Flow::Userinfo, Flow::Introspect];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Flow::ClientCredentials => "client_credentials",
            Flow::CodeExchange => "code exchange",
            Flow::Refresh => "refresh",
            Flow::Userinfo => "userinfo",
            Flow::Introspect => "introspection",
        }
    }
}

/// Makes the n-th request of a flow; refresh chains carry their token along.
pub struct Requests {
    fx: Fixtures,
    codes: Vec<String>,
    access: String,
    chains: Vec<Mutex<String>>,
}

impl Requests {
    /// Prepares `n` requests of every flow for `workers` concurrent workers.
    pub async fn new(fx: &Fixtures, n: usize, workers: usize) -> Self {
        let codes = fx.codes(n).await;
        let (access, _) = fx.tokens().await;
        let mut chains = Vec::new();
        for _ in 0..workers {
            chains.push(Mutex::new(fx.tokens().await.1));
        }
        Self { fx: fx.clone(), codes, access, chains }
    }

    async fn request(&self, flow: Flow, i: usize, worker: usize) -> Request {
        match flow {
            Flow::ClientCredentials => self.fx.client_credentials(),
            Flow::CodeExchange => self.fx.exchange(&self.codes[i]),
            Flow::Refresh => self.fx.refresh(&self.chains[worker].lock().await),
            Flow::Userinfo => self.fx.userinfo(&self.access),
            Flow::Introspect => self.fx.introspect(&self.access),
        }
    }

    async fn answered(&self, flow: Flow, worker: usize, status: u16, body: &str) -> Result<(), String> {
        if status != 200 {
            return Err(format!("{} answered {status}: {body}", flow.name()));
        }
        if flow == Flow::Introspect && !body.contains("\"active\":true") {
            return Err(format!("introspection found the token inactive: {body}"));
        }
        if flow == Flow::Refresh {
            let v: serde_json::Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
            let rt = v["refresh_token"].as_str().ok_or("no refresh_token")?;
            *self.chains[worker].lock().await = rt.to_owned();
        }
        Ok(())
    }
}

/// A flow's latencies and throughput.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Latency percentiles.
    pub latency: Summary,
    /// Requests per second over the run.
    pub rps: f64,
}

/// Runs `n` requests of `flow` with `workers` concurrent workers, over HTTP
/// to `base` (or straight through the router when `base` is `None`).
pub async fn run(
    reqs: Arc<Requests>,
    flow: Flow,
    n: usize,
    workers: usize,
    base: Option<String>,
) -> Result<Measured, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(workers).build().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let (reqs, next, client, base) = (reqs.clone(), next.clone(), client.clone(), base.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(lat);
                }
                let req = reqs.request(flow, i, w).await;
                let t = Instant::now();
                let (status, body) = match &base {
                    Some(base) => send(&client, base, req).await?,
                    None => {
                        let res = route(&reqs.fx.app, Mount::All, req).await;
                        (res.status().as_u16(), res.into_body())
                    }
                };
                lat.push(t.elapsed());
                reqs.answered(flow, w, status, &body).await?;
            }
        });
    }
    let mut all: Vec<Duration> = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        all.extend(r.map_err(|e| e.to_string())??);
    }
    let wall = started.elapsed();
    Ok(Measured { latency: summarize(all), rps: n as f64 / wall.as_secs_f64() })
}

async fn send(client: &reqwest::Client, base: &str, req: Request) -> Result<(u16, String), String> {
    let (parts, body) = req.into_parts();
    let mut r = client.request(parts.method, format!("{base}{}", parts.uri)).body(body);
    for (k, v) in &parts.headers {
        r = r.header(k, v);
    }
    let res = r.send().await.map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    Ok((status, res.text().await.map_err(|e| e.to_string())?))
}
