//! Signing a person in through the browser, as one interaction that a
//! method ends:
//!
//! - [`interaction`]: the pending request in progress (sealed into the
//!   form, bound to the CSRF cookie) and the person's decision;
//! - [`session`]: who is signed in, since when and how (`amr`), bound to
//!   the person's credential epoch;
//! - [`methods`]: the ways to sign in (the password today), peers behind
//!   one trait;
//! - [`finish`]: the one way out, a code or an error sent to the client;
//! - [`page`]: the page, listing the methods allowed;
//! - [`self_service`]: sign-up, verification, reset and email change;
//! - [`sealed`]: the signed, expiring values the browser carries, and
//!   [`hashes`], the password hash schemes.

pub mod ceremony;
pub mod finish;
pub mod hashes;
pub mod interaction;
pub mod link;
pub mod methods;
pub mod page;
pub mod sealed;
pub mod self_service;
pub mod session;
pub mod step;

use crate::app::App;

pub use interaction::{CSRF_COOKIE, LOGIN_PURPOSE, PendingRequest};
pub use session::{SESSION_COOKIE, SignedIn, signed_in_user};

/// Signing purpose of the sign-out form's blob.
pub const SIGN_OUT_PURPOSE: &str = "sign-out";

/// A sign-in cookie's name. On an https issuer it carries the `__Host-`
/// prefix, so browsers accept it only with Secure, Path=/ and no Domain, and
/// a sibling subdomain cannot plant or overwrite it (RFC 6265bis 4.1.3.2).
/// Plain-http loopback (the local server) cannot use the prefix.
pub fn cookie_name(app: &App, name: &str) -> String {
    if app.config.issuer.starts_with("https://") { format!("__Host-{name}") } else { name.to_owned() }
}

/// Cookie attributes: HttpOnly, Path=/, SameSite, Max-Age, and Secure unless
/// the issuer is plain-http loopback (the local server).
pub fn cookie_attributes(app: &App, max_age: i64, same_site: &str) -> String {
    let secure = if app.config.issuer.starts_with("https://") { "; Secure" } else { "" };
    format!("Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// An endpoint's absolute URL under the issuer: where the pages' forms
/// post, whatever path (an alias, say) served the page.
pub fn endpoint_url(app: &App, path: &str) -> String {
    format!("{}{path}", app.config.issuer.trim_end_matches('/'))
}
