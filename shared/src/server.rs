//! The local all-in-one HTTP server behind `zeroauth serve` and the
//! end-to-end tests: every route on one port, the same handlers as Lambda.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{ClientIp, MAX_BODY_BYTES, error_json};
use crate::router::{Mount, route};

/// Extra local-only routes (such as the demo client's landing page), tried
/// before the router.
pub type Extra = fn(&App, &crate::http::Request) -> Option<crate::http::Response>;

/// What keeps one server up under many, idle or slow connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once; further clients wait in the listen backlog
    /// until one closes. Keep it well under the process's file limit.
    pub max_connections: usize,
    /// How long a connection may take to send a request's headers — and how
    /// long an idle keep-alive connection is kept waiting for the next request.
    pub header_timeout: Duration,
    /// How long a request's body may take to arrive once its headers have.
    pub body_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// The first and the longest wait after a failed accept (such as too many
/// open files): the loop backs off and keeps accepting, never ends.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(5), Duration::from_secs(1));

/// Serves `app` on `listener` until `shutdown` resolves. Each request is
/// logged (method, path, status, latency) — never its query or body.
pub async fn serve(
    app: App,
    listener: TcpListener,
    extra: Option<Extra>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut backoff = Duration::ZERO;
    loop {
        if slots.available_permits() == 0 {
            tracing::warn!(limit = limits.max_connections, "connection limit reached; new connections wait");
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.map_err(std::io::Error::other)?,
            () = &mut shutdown => return Ok(()),
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::ZERO;
                accepted
            }
            Err(e) => {
                backoff = (backoff * 2).clamp(ACCEPT_BACKOFF.0, ACCEPT_BACKOFF.1);
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "could not accept a connection");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => continue,
                    () = &mut shutdown => return Ok(()),
                }
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handle(&app, extra, peer, limits.body_timeout, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
            if let Err(e) = conn {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

async fn handle(
    app: &App,
    extra: Option<Extra>,
    peer: SocketAddr,
    body_timeout: Duration,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let collected =
        tokio::time::timeout(body_timeout, Limited::new(body, MAX_BODY_BYTES + 1).collect()).await;
    let res = match collected {
        Ok(Ok(collected)) => {
            let mut req = http::Request::from_parts(parts, collected.to_bytes());
            req.extensions_mut().insert(ClientIp(peer.ip()));
            match extra.and_then(|f| f(app, &req)) {
                Some(res) => res,
                None => route(app, Mount::All, req).await,
            }
        }
        Ok(Err(_)) => error_json(&OAuthError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )),
        Err(_) => error_json(&OAuthError::new(
            ErrorCode::RequestTimeout,
            format!("the body did not arrive within {} s", body_timeout.as_secs()),
        )),
    };
    tracing::info!(
        target: "zeroauth::access",
        %method,
        %path,
        status = res.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
    );
    res.map(|b| Full::new(Bytes::from(b)))
}
