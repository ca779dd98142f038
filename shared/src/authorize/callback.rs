//! `POST /callback`: the sign-in form's target. Verifies the signed request
//! and the CSRF cookie, signs the user in (argon2id, throttled), and on
//! approval answers `303` to the client with a fresh code.

use http::StatusCode;

use crate::app::App;
use crate::crypto::{self, DUMMY_PASSWORD_HASH, MAX_PASSWORD_BYTES};
use crate::domain::User;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response, body_params, client_ip, cookie, html, set_cookie};
use crate::secret::Password;

use super::page::{self, LoginPage};
use super::signed::{self, PendingRequest, Session};
use super::{
    CSRF_COOKIE, LOGIN_PURPOSE, SESSION_COOKIE, SESSION_PURPOSE, cookie_attributes, error_page, issue_code,
    redirect_error, signed_in_user,
};

/// What the page says after any failed sign-in: it does not tell an unknown
/// username from a wrong password.
pub const BAD_CREDENTIALS: &str = "The username or password is not right.";
/// What the page says while sign-ins are throttled.
pub const THROTTLED: &str = "Too many failed sign-ins. Wait a few minutes, then try again.";

/// `POST /callback`.
pub async fn callback(app: &App, req: Request) -> Response {
    let params = match body_params(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e.description),
    };
    let now = app.now();
    let Some(sealed) = params.get("request").ok().flatten() else {
        return error_page("The sign-in form was incomplete.");
    };
    let Some(pending) = signed::open::<PendingRequest>(&app.config.signing_key, LOGIN_PURPOSE, sealed, now)
    else {
        return error_page("This sign-in page has expired or was altered. Start again from the application.");
    };
    let csrf_ok =
        cookie(req.headers(), CSRF_COOKIE).is_some_and(|c| crypto::ct_eq(&crypto::digest(c), &pending.csrf));
    if !csrf_ok {
        return error_page(
            "This sign-in form was not opened in this browser session (its cookie is missing). \
             Check that cookies are allowed, then start again from the application.",
        );
    }
    // Everything the sign-in needs is read at once: the client, the user,
    // and the throttle counters. One round trip, then one write.
    let (client, reads) = tokio::join!(
        app.store.get_client(&pending.client_id),
        sign_in_reads(app, &req, &params, &pending, now)
    );
    let client = match client {
        Ok(Some(c)) if !c.disabled => c,
        Ok(_) => return error_page("The application is no longer registered."),
        Err(e) => return crate::http::error_json(&e.into()),
    };
    let state = pending.state.as_deref();
    match params.get("decision") {
        Ok(Some("approve")) => {}
        Ok(Some("deny")) => {
            let e = OAuthError::new(ErrorCode::AccessDenied, "the user declined the request");
            return redirect_error(app, &pending.redirect_uri, &e, state);
        }
        _ => return error_page("The sign-in form was posted without a decision."),
    }
    let consent = !client.trusted;
    let failure = |status: StatusCode, message: &str, username: Option<&str>| {
        let body = page::login(&LoginPage {
            client_name: &client.name,
            scopes: pending.scope.split(' ').filter(|s| !s.is_empty()).collect(),
            consent,
            signed_in_as: None,
            error: Some(message),
            request: sealed,
            username,
        });
        html(status, body)
    };
    let signed_in = match reads {
        Ok(r) => sign_in(app, &params, r, now).await,
        Err(e) => Err(e),
    };
    let (user, clear) = match signed_in {
        Ok(Ok(v)) => v,
        Ok(Err(SignInFailure::Throttled)) => return failure(StatusCode::TOO_MANY_REQUESTS, THROTTLED, None),
        Ok(Err(SignInFailure::BadCredentials(name))) => {
            return failure(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS, name.as_deref());
        }
        Err(e) => return crate::http::error_json(&e),
    };
    let (issued, cleared) = tokio::join!(issue_code(app, &pending, &user), async {
        match &clear {
            Some(key) => app.store.clear(key).await,
            None => Ok(()),
        }
    });
    if let Err(e) = cleared {
        tracing::warn!(error = %e, "could not reset the failed sign-in counter");
    }
    match issued {
        Ok(mut res) => {
            let session = Session { username: user.username.clone(), exp: now + app.config.session_ttl };
            let value = signed::seal(&app.config.signing_key, SESSION_PURPOSE, &session);
            let attrs = cookie_attributes(app, app.config.session_ttl, "Lax");
            set_cookie(&mut res, &format!("{SESSION_COOKIE}={value}; {attrs}"));
            res
        }
        Err(e) => crate::http::error_json(&e),
    }
}

enum SignInFailure {
    Throttled,
    BadCredentials(Option<String>),
}

/// What the sign-in reads before deciding.
enum Reads {
    /// No username was posted: the session's user, if any.
    Session(Option<User>),
    /// A username was posted: the user and the failure counters.
    Password {
        username: String,
        user_key: String,
        ip_key: Option<String>,
        user: Option<User>,
        user_hits: u32,
        ip_hits: u32,
    },
}

/// Reads, all at once, what signing in needs: the session's user when the
/// form asked no password, otherwise the user and the per-account and
/// per-IP failure counters.
async fn sign_in_reads(
    app: &App,
    req: &Request,
    params: &Params,
    pending: &PendingRequest,
    now: i64,
) -> Result<Reads, OAuthError> {
    let username = params.get("username")?.map(|u| u.trim().to_lowercase());
    let Some(username) = username else {
        let user = if pending.force_login { None } else { signed_in_user(app, req, now).await? };
        return Ok(Reads::Session(user));
    };
    let user_key = format!("login:user:{username}");
    let ip_key = client_ip(req).map(|ip| format!("login:ip:{ip}"));
    let store = &app.store;
    let (user, user_hits, ip_hits) =
        tokio::join!(store.get_user(&username), store.hits(&user_key, now), async {
            match &ip_key {
                Some(k) => store.hits(k, now).await,
                None => Ok(0),
            }
        });
    Ok(Reads::Password { username, user_key, ip_key, user: user?, user_hits: user_hits?, ip_hits: ip_hits? })
}

/// Decides the sign-in: the session's user, or the password checked with
/// argon2id (against a dummy hash for unknown users, so they cost the same
/// time), throttled per account and per client IP. On success, also the
/// counter to reset, if it had counted failures.
async fn sign_in(
    app: &App,
    params: &Params,
    reads: Reads,
    now: i64,
) -> Result<Result<(User, Option<String>), SignInFailure>, OAuthError> {
    let (username, user_key, ip_key, user, user_hits, ip_hits) = match reads {
        Reads::Session(Some(user)) => return Ok(Ok((user, None))),
        Reads::Session(None) => return Ok(Err(SignInFailure::BadCredentials(None))),
        Reads::Password { username, user_key, ip_key, user, user_hits, ip_hits } => {
            (username, user_key, ip_key, user, user_hits, ip_hits)
        }
    };
    if user_hits >= app.config.max_failures_per_user || ip_hits >= app.config.max_failures_per_ip {
        return Ok(Err(SignInFailure::Throttled));
    }
    let password = Password::new(params.get("password")?.unwrap_or(""));
    let ok = password.secret().len() <= MAX_PASSWORD_BYTES && {
        let hash = user.as_ref().map_or(DUMMY_PASSWORD_HASH.to_owned(), |u| u.password_hash.clone());
        tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash))
            .await
            .map_err(OAuthError::server)?
    };
    match user {
        Some(user) if ok && !user.disabled => Ok(Ok((user, (user_hits > 0).then_some(user_key)))),
        _ => {
            let window_end = now + app.config.throttle_window;
            let store = &app.store;
            let (a, b) = tokio::join!(store.hit(&user_key, window_end, now), async {
                match &ip_key {
                    Some(k) => store.hit(k, window_end, now).await.map(|_| ()),
                    None => Ok(()),
                }
            });
            a?;
            b?;
            Ok(Err(SignInFailure::BadCredentials(Some(username))))
        }
    }
}
