//! The Lambda adapter: turns API Gateway events (through `lambda_http`) into
//! plain requests for the router, whatever shape the body arrived in.

use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, RequestExt, service_fn};

use crate::app::App;
use crate::http::ClientIp;
use crate::router::{Function, Mount, route};

/// Turns a `lambda_http` request into a router request. Text and binary
/// bodies both become bytes (`lambda_http` has already decoded base64), and
/// the caller's IP comes from the request context.
pub fn from_lambda(req: lambda_http::Request) -> crate::http::Request {
    let ip = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.as_deref().and_then(|s| s.parse().ok()),
        Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.as_deref().and_then(|s| s.parse().ok()),
        _ => None,
    };
    let (parts, body) = req.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    let mut out = http::Request::from_parts(parts, bytes);
    if let Some(ip) = ip {
        out.extensions_mut().insert(ClientIp(ip));
    }
    out
}

/// Runs one function's routes on the Lambda runtime until it stops.
pub async fn run(app: App, function: Function) -> Result<(), Error> {
    lambda_http::run(service_fn(move |req: lambda_http::Request| {
        let app = app.clone();
        async move {
            let res = route(&app, Mount::Only(function), from_lambda(req)).await;
            Ok::<_, Error>(res.map(Body::Text))
        }
    }))
    .await
}

/// Everything a function needs at cold start: tracing, configuration from the
/// environment, the DynamoDB store, and a first call to DynamoDB so the
/// connection is made during init rather than on the first request.
pub async fn init() -> Result<App, Error> {
    crate::init_tracing(true);
    let config = crate::config::Config::from_env()?;
    let store = crate::store::dynamodb::DynamoStore::from_env(config.table.clone()).await;
    if let Err(e) = store.warm_up().await {
        tracing::warn!(error = %e, "could not reach DynamoDB during init; the first request will try again");
    }
    Ok(App::new(std::sync::Arc::new(store), config))
}
