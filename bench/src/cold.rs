//! Cold starts: each release Lambda binary is started against a minimal
//! Lambda Runtime API on loopback (the two endpoints a function uses), and
//! timed from process start to its first response.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use zeroauth_shared::http::Request;

/// One cold start.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Process start to the first `GET /next` (init done).
    pub init: Duration,
    /// Process start to the first response posted.
    pub total: Duration,
    /// The HTTP status the function answered.
    pub status: u16,
}

#[derive(Default)]
struct State {
    served: bool,
    init_at: Option<Instant>,
    done_at: Option<Instant>,
    status: u16,
    error: Option<String>,
}

/// An API Gateway HTTP API (payload 2.0) event for a request.
pub fn event(req: &Request) -> serde_json::Value {
    let mut headers = HashMap::new();
    let mut cookies = Vec::new();
    for (k, v) in req.headers() {
        let v = v.to_str().unwrap_or("").to_owned();
        if k == http::header::COOKIE {
            cookies.extend(v.split("; ").map(str::to_owned));
        } else {
            headers.insert(k.as_str().to_owned(), v);
        }
    }
    headers.insert("host".into(), "bench.execute-api.local".into());
    let path = req.uri().path();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": req.uri().query().unwrap_or(""),
        "cookies": cookies,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.local",
            "domainPrefix": "bench",
            "http": { "method": req.method().as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "zeroauth-bench" },
            "requestId": "bench-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": String::from_utf8_lossy(req.body()),
        "isBase64Encoded": false
    })
}

/// Starts `binary` once, answers its first `/next` with `event`, and times it.
pub async fn start_once(
    binary: &Path,
    env: &[(String, String)],
    event: &serde_json::Value,
) -> Result<Start, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let state = Arc::new(Mutex::new(State::default()));
    let done = Arc::new(Notify::new());
    let event = Arc::new(event.to_string());
    let server = {
        let (state, done) = (state.clone(), done.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (state, done, event) = (state.clone(), done.clone(), event.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (state, done, event) = (state.clone(), done.clone(), event.clone());
                        async move { Ok::<_, Infallible>(runtime_api(req, &state, &done, &event).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        })
    };
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let waited = tokio::time::timeout(Duration::from_secs(30), done.notified()).await;
    let _ = child.kill().await;
    server.abort();
    if waited.is_err() {
        return Err(format!("{} did not answer within 30 s", binary.display()));
    }
    let s = state.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = &s.error {
        return Err(format!("{} reported an error: {e}", binary.display()));
    }
    match (s.init_at, s.done_at) {
        (Some(i), Some(d)) => Ok(Start { init: i - t0, total: d - t0, status: s.status }),
        _ => Err("the function never asked for an event".into()),
    }
}

async fn runtime_api(
    req: hyper::Request<hyper::body::Incoming>,
    state: &Mutex<State>,
    done: &Notify,
    event: &str,
) -> hyper::Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let reply = |status: u16, body: String| {
        hyper::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", "bench-request")
            .header("lambda-runtime-deadline-ms", "9999999999999")
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench",
            )
            .header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_default()
    };
    if path.ends_with("/invocation/next") {
        let first = {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            let first = !s.served;
            if first {
                s.served = true;
                s.init_at = Some(Instant::now());
            }
            first
        };
        if !first {
            // The function waits for its next event; it is killed instead.
            std::future::pending::<()>().await;
        }
        return reply(200, event.to_owned());
    }
    let now = Instant::now();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        s.done_at = Some(now);
        if path.ends_with("/response") {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            s.status = v["statusCode"].as_u64().unwrap_or(0) as u16;
        } else {
            s.error = Some(String::from_utf8_lossy(&body).into_owned());
        }
    }
    done.notify_one();
    reply(202, "{}".into())
}
