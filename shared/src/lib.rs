//! ZeroAuth: an OAuth 2.0 authorization server for AWS Lambda and DynamoDB.
//!
//! This crate holds all of ZeroAuth's logic so that it can be tested without
//! Lambda. The floors, from the top:
//!
//! - [`router`] maps a path to an [`router::Endpoint`] and turns an endpoint's
//!   error into the response that endpoint speaks;
//! - [`endpoints`]: one module per endpoint, plain
//!   `async fn(&App, Request) -> Result<Response, OAuthError>`, none importing another;
//! - [`grants`] (one per grant type) and [`sign_in`] (the browser's side);
//! - [`oauth`]: the rules they share (client authentication, scopes, token
//!   formats, claims, redirect URIs, PKCE);
//! - [`federation`]: ZeroAuth as an upstream provider's client;
//! - [`store`], [`mail`], [`domain`], [`crypto`], [`http`] and the rest.
//!
//! The Lambda binaries in `functions/` mount the router through [`lambda`]
//! (feature `lambda`); `zeroauth serve` and the tests through `server`
//! (feature `server`); test support is behind feature `testing`, and the
//! recording of AWS calls for the IAM check ([`aws_calls`]) behind
//! `aws-recording`.
#![warn(missing_docs)]

pub mod admin;
pub mod app;
pub mod aws_calls;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod endpoints;
pub mod error;
pub mod factors;
pub mod federation;
pub mod grants;
pub mod http;
pub mod keys;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod mail;
pub mod oauth;
pub mod paths;
pub mod router;
pub mod secret;
#[cfg(feature = "server")]
pub mod server;
pub mod sign_in;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;

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
