//! ZeroAuth: an OAuth 2.0 authorization server for AWS Lambda and DynamoDB.
//!
//! This crate holds all of ZeroAuth's logic so that it can be tested without
//! Lambda: the handlers are plain `async fn(&App, Request) -> Response`
//! functions, mounted by the Lambda binaries in `functions/` and by the local
//! server of `zeroauth serve` alike.
#![warn(missing_docs)]

pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod secret;
pub mod store;

pub use error::{ErrorCode, OAuthError};
