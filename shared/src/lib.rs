//! ZeroAuth: an OAuth 2.0 authorization server for AWS Lambda and DynamoDB.
//!
//! This crate holds all of ZeroAuth's logic so that it can be tested without
//! Lambda: the handlers are plain `async fn(&App, Request) -> Response`
//! functions, routed by [`router::route`], and mounted by the Lambda binaries
//! in `functions/` ([`lambda`]) and by the local server of `zeroauth serve`
//! ([`server`]) alike.
#![warn(missing_docs)]

pub mod admin;
pub mod app;
pub mod authorize;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod discovery;
pub mod domain;
pub mod error;
pub mod grant;
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod revocation;
pub mod router;
pub mod secret;
pub mod server;
pub mod store;
pub mod testing;
pub mod userinfo;

pub use app::App;
pub use error::{ErrorCode, OAuthError};

/// Sends `tracing` output to stderr, filtered by `RUST_LOG` (default `info`);
/// as JSON lines when `json` (for CloudWatch).
pub fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().without_time().try_init() } else { builder.compact().try_init() };
}
