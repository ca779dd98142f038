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
    let client = match app.store.get_client(&pending.client_id).await {
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
    let user = match sign_in(app, &req, &params, &pending, now).await {
        Ok(Ok(user)) => user,
        Ok(Err(SignInFailure::Throttled)) => return failure(StatusCode::TOO_MANY_REQUESTS, THROTTLED, None),
        Ok(Err(SignInFailure::BadCredentials(name))) => {
            return failure(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS, name.as_deref());
        }
        Err(e) => return crate::http::error_json(&e),
    };
    match issue_code(app, &pending, &user).await {
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

/// The user: from the session when the form asked no password, otherwise by
/// username and password, throttled per account and per client IP.
async fn sign_in(
    app: &App,
    req: &Request,
    params: &Params,
    pending: &PendingRequest,
    now: i64,
) -> Result<Result<User, SignInFailure>, OAuthError> {
    let username = params.get("username")?.map(|u| u.trim().to_lowercase());
    if username.is_none()
        && !pending.force_login
        && let Some(user) = signed_in_user(app, req, now).await?
    {
        return Ok(Ok(user));
    }
    let Some(username) = username else {
        return Ok(Err(SignInFailure::BadCredentials(None)));
    };
    let password = Password::new(params.get("password")?.unwrap_or(""));
    let user_key = format!("login:user:{username}");
    let ip_key = client_ip(req).map(|ip| format!("login:ip:{ip}"));
    let store = &app.store;
    let (user_hits, ip_hits) = tokio::join!(store.hits(&user_key, now), async {
        match &ip_key {
            Some(k) => store.hits(k, now).await,
            None => Ok(0),
        }
    });
    let user_hits = user_hits?;
    if user_hits >= app.config.max_failures_per_user || ip_hits? >= app.config.max_failures_per_ip {
        return Ok(Err(SignInFailure::Throttled));
    }
    let user = store.get_user(&username).await?;
    let ok = password.secret().len() <= MAX_PASSWORD_BYTES && {
        // Unknown users are checked against a dummy hash, so they cost the same time.
        let hash = user.as_ref().map_or(DUMMY_PASSWORD_HASH.to_owned(), |u| u.password_hash.clone());
        let pw = password.clone();
        tokio::task::spawn_blocking(move || crypto::verify_password(&pw, &hash))
            .await
            .map_err(OAuthError::server)?
    };
    match user {
        Some(user) if ok && !user.disabled => {
            if user_hits > 0 {
                store.clear(&user_key).await?;
            }
            Ok(Ok(user))
        }
        _ => {
            let window_end = now + app.config.throttle_window;
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
