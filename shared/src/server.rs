//! The local all-in-one HTTP server behind `zeroauth serve` and the
//! end-to-end tests: every route on one port, the same handlers as Lambda.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::app::App;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{ClientIp, MAX_BODY_BYTES, error_json};
use crate::router::{Mount, route};

/// Extra local-only routes (such as the demo client's landing page), tried
/// before the router.
pub type Extra = fn(&App, &crate::http::Request) -> Option<crate::http::Response>;

/// Serves `app` on `listener` until `shutdown` resolves. Each request is
/// logged (method, path, status, latency) — never its query or body.
pub async fn serve(
    app: App,
    listener: TcpListener,
    extra: Option<Extra>,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let app = app.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(handle(&app, extra, peer, req).await) }
            });
            let conn = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
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
    req: hyper::Request<Incoming>,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
    let res = match Limited::new(body, MAX_BODY_BYTES + 1).collect().await {
        Ok(collected) => {
            let mut req = http::Request::from_parts(parts, collected.to_bytes());
            req.extensions_mut().insert(ClientIp(peer.ip()));
            match extra.and_then(|f| f(app, &req)) {
                Some(res) => res,
                None => route(app, Mount::All, req).await,
            }
        }
        Err(_) => error_json(&OAuthError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
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
