//! The interaction in progress: the authorization request `/authorize`
//! validated, sealed into the sign-in form and bound to this browser's CSRF
//! cookie, so rendering the page writes nothing to the table. Every sign-in
//! method reads it the same way.

use serde::{Deserialize, Serialize};

use super::{cookie_attributes, cookie_name, sealed};
use crate::app::App;
use crate::crypto;
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, cookie, set_cookie};
use crate::oauth::Scope;

/// Cookie holding the CSRF secret the sign-in form is bound to (named
/// through [`cookie_name`]).
pub const CSRF_COOKIE: &str = "za_csrf";
/// Signing purpose of the sign-in form's request blob.
pub const LOGIN_PURPOSE: &str = "login-request";
/// Length of a CSRF cookie value: 32 random bytes, base64url.
pub const CSRF_LEN: usize = 43;

/// The authorization request as `/authorize` validated it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRequest {
    /// The client.
    pub client_id: String,
    /// The redirect URI the code goes to.
    pub redirect_uri: String,
    /// Whether the request named `redirect_uri` (then the token request must too).
    pub redirect_uri_given: bool,
    /// The validated scope.
    pub scope: Scope,
    /// `state`, echoed exactly.
    pub state: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// OpenID Connect nonce.
    pub nonce: Option<String>,
    /// `prompt=login`: the person signs in again even with a session.
    pub force_login: bool,
    /// OpenID Connect `max_age`: a session older than this many seconds
    /// does not count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// The level of sign-in `acr_values` asked for: a weaker one is stepped
    /// up before the code is issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<crate::domain::Acr>,
    /// OpenID Connect `login_hint`: the identifier to fill in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint: Option<String>,
    /// The protected resource (RFC 8707) the tokens will be for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The person's upstream token, sealed for the code (`federation::kept`),
    /// when the provider they just signed in through keeps it for `resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// Digest of the CSRF cookie this form is bound to.
    pub csrf: String,
    /// This form's random id: a form that signed someone in is spent.
    pub form: String,
    /// Epoch seconds after which the form is refused.
    pub exp: i64,
}

impl sealed::Expiring for PendingRequest {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The key that spends a form once it signed someone in.
pub fn form_key(pending: &PendingRequest) -> String {
    format!("login:form:{}", pending.form)
}

/// This browser's CSRF secret: its cookie's value, or a new one to set with
/// [`set_csrf_cookie`] (`true`).
pub fn csrf_secret(app: &App, req: &Request) -> Result<(String, bool), OAuthError> {
    match cookie(req.headers(), &cookie_name(app, CSRF_COOKIE)).filter(|c| c.len() == CSRF_LEN) {
        Some(c) => Ok((c.to_owned(), false)),
        None => Ok((crate::oauth::tokens::rng(crypto::random_string(32))?, true)),
    }
}

/// Sets the CSRF cookie a form is bound to.
pub fn set_csrf_cookie(app: &App, res: &mut Response, csrf: &str) {
    let attrs = cookie_attributes(app, app.config.login_ttl, "Strict");
    set_cookie(res, &format!("{}={csrf}; {attrs}", cookie_name(app, CSRF_COOKIE)));
}

/// Whether this browser's CSRF cookie is the one `digest` was made from.
pub fn csrf_matches(app: &App, req: &Request, digest: &str) -> bool {
    cookie(req.headers(), &cookie_name(app, CSRF_COOKIE))
        .is_some_and(|c| crypto::ct_eq(&crypto::digest(c), digest))
}

/// The sealed request of a posted form, opened: it must verify, be
/// unexpired, and be bound to this browser's CSRF cookie.
pub fn open<'p>(
    app: &App,
    req: &Request,
    params: &'p Params,
    now: i64,
) -> Result<(&'p str, PendingRequest), OAuthError> {
    let page_error = |msg: &str| OAuthError::invalid_request(msg);
    let sealed =
        params.get("request").ok().flatten().ok_or_else(|| page_error("The sign-in form was incomplete."))?;
    let pending = sealed::open::<PendingRequest>(&app.config.signing_key, LOGIN_PURPOSE, sealed, now)
        .ok_or_else(|| {
            page_error("This sign-in page has expired or was altered. Start again from the application.")
        })?;
    if !csrf_matches(app, req, &pending.csrf) {
        return Err(page_error(
            "This sign-in form was not opened in this browser session (its cookie is missing). \
             Check that cookies are allowed, then start again from the application.",
        ));
    }
    Ok((sealed, pending))
}

/// What the person decided on the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sign in and allow.
    Approve,
    /// Cancel: the client gets `access_denied`.
    Deny,
}

/// The posted decision; anything but `approve` or `deny` is a page error.
/// A "Continue with …" button (`provider`) or one that names a method
/// (`method`: a passkey, a mailed code) is an approval.
pub fn decision(params: &Params) -> Result<Decision, OAuthError> {
    let named = |k| params.get(k).ok().flatten().is_some();
    if (named("provider") || named("method")) && !named("decision") {
        return Ok(Decision::Approve);
    }
    match params.get("decision") {
        Ok(Some("approve")) => Ok(Decision::Approve),
        Ok(Some("deny")) => Ok(Decision::Deny),
        _ => Err(OAuthError::invalid_request("The sign-in form was posted without a decision.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let body: String = pairs.iter().map(|(k, v)| format!("{k}={v}&")).collect();
        crate::http::parse_form(body.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn the_decision_is_approve_or_deny_and_nothing_else() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<Decision>);
        let cases: &[Case<'_>] = &[
            (&[("decision", "approve")], Some(Decision::Approve)),
            (&[("decision", "deny")], Some(Decision::Deny)),
            (&[("decision", "yes")], None),
            (&[], None),
            (&[("decision", "approve"), ("decision", "deny")], None),
            (&[("provider", "github")], Some(Decision::Approve)),
            (&[("provider", "github"), ("decision", "deny")], Some(Decision::Deny)),
        ];
        for (pairs, want) in cases {
            assert_eq!(decision(&params(pairs)).ok(), *want, "{pairs:?}");
        }
    }
}
