//! Signing a person in through the browser: the sealed pending request,
//! the CSRF and session cookies, the password check, the page, and the
//! authorization response that ends it (a code, or an error, sent to the
//! client's redirect URI).

pub mod hashes;
pub mod page;
pub mod password;
pub mod response;
pub mod sealed;

use crate::app::App;
use crate::crypto;
use crate::domain::User;
use crate::error::OAuthError;
use crate::http::{Request, Response, cookie, set_cookie};
use sealed::{Device, Session};

/// Cookie holding the CSRF secret the sign-in form is bound to (named
/// through [`cookie_name`]).
pub const CSRF_COOKIE: &str = "za_csrf";
/// Cookie holding the signed-in session (named through [`cookie_name`]).
pub const SESSION_COOKIE: &str = "za_session";
/// Signing purpose of the sign-in form's request blob.
pub const LOGIN_PURPOSE: &str = "login-request";
/// Signing purpose of the session cookie.
pub const SESSION_PURPOSE: &str = "session";
/// Length of a CSRF cookie value: 32 random bytes, base64url.
pub const CSRF_LEN: usize = 43;
/// Cookie marking a browser someone signed in from (named through [`cookie_name`]).
pub const DEVICE_COOKIE: &str = "za_device";
/// Signing purpose of the device cookie.
pub const DEVICE_PURPOSE: &str = "device";
/// How long a browser is remembered as one its person signed in from: 90 days.
pub const DEVICE_TTL: i64 = 90 * 24 * 3600;
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

/// Who a valid session cookie signs in, and since when.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The person.
    pub user: User,
    /// When they signed in with their password (`auth_time`), epoch seconds.
    pub auth_time: i64,
}

/// The user of a valid session cookie, if they still exist and are enabled.
pub async fn signed_in_user(app: &App, req: &Request, now: i64) -> Result<Option<SignedIn>, OAuthError> {
    let Some(raw) = cookie(req.headers(), &cookie_name(app, SESSION_COOKIE)) else {
        return Ok(None);
    };
    let Some(session) = sealed::open::<Session>(&app.config.signing_key, SESSION_PURPOSE, raw, now) else {
        return Ok(None);
    };
    let user = app
        .store
        .get_user(&session.username)
        .await
        .map_err(OAuthError::store("reading the session's user"))?;
    // The session ends when the person is disabled or deleted, when the
    // username now names someone else, or when the password changed.
    Ok(user
        .filter(|u| u.is_active_as(&session.sub) && crypto::ct_eq(&u.credential_tag(), &session.credential))
        .map(|user| SignedIn { user, auth_time: session.auth_time }))
}

/// Sets the session cookie for `user` on `res`; after a password sign-in
/// (`device` is the browser's device cookie id, new or kept), remembers the
/// browser too.
pub fn start_session(app: &App, res: &mut Response, signed_in: &SignedIn, device: Option<String>, now: i64) {
    let user = &signed_in.user;
    let session = Session {
        username: user.username.clone(),
        sub: user.sub.clone(),
        credential: user.credential_tag(),
        exp: now + app.config.session_ttl,
        auth_time: signed_in.auth_time,
    };
    let value = sealed::seal(&app.config.signing_key, SESSION_PURPOSE, &session);
    let attrs = cookie_attributes(app, app.config.session_ttl, "Lax");
    set_cookie(res, &format!("{}={value}; {attrs}", cookie_name(app, SESSION_COOKIE)));
    if let Some(id) = device {
        let device = Device { username: user.username.clone(), id, exp: now + DEVICE_TTL };
        let value = sealed::seal(&app.config.signing_key, DEVICE_PURPOSE, &device);
        let attrs = cookie_attributes(app, DEVICE_TTL, "Lax");
        set_cookie(res, &format!("{}={value}; {attrs}", cookie_name(app, DEVICE_COOKIE)));
    }
}

/// The id of this browser's device cookie, if it has a valid one for `username`.
pub fn device_for(app: &App, req: &Request, username: &str, now: i64) -> Option<String> {
    let raw = cookie(req.headers(), &cookie_name(app, DEVICE_COOKIE))?;
    sealed::open::<Device>(&app.config.signing_key, DEVICE_PURPOSE, raw, now)
        .filter(|d| d.username == username)
        .map(|d| d.id)
}

/// Ends the session cookie on `res` (the session itself ends server-side
/// through the user's sign-out count).
pub fn end_session_cookie(app: &App, res: &mut Response) {
    let attrs = cookie_attributes(app, 0, "Lax");
    set_cookie(res, &format!("{}=; {attrs}", cookie_name(app, SESSION_COOKIE)));
}
