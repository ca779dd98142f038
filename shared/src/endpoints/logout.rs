//! `GET /logout` and `POST /logout`: signing out (OpenID Connect
//! RP-Initiated Logout 1.0, section 2). `GET` asks the person to confirm,
//! with a form bound to the CSRF cookie, so another site cannot sign them
//! out; `POST` ends every session of theirs — this browser's and any copy of
//! its cookie elsewhere — and clears the session cookie.
//!
//! Round trips: `GET` reads the session's user; `POST` reads it, then
//! writes it back with one more sign-out counted.

use http::{Method, StatusCode};

use crate::app::App;
use crate::crypto;
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, html};
use crate::sign_in::sealed::{self, SignOut};
use crate::sign_in::{
    SIGN_OUT_PURPOSE, csrf_matches, csrf_secret, end_session_cookie, page, set_csrf_cookie, signed_in_user,
};

/// `GET|POST /logout`. An `Err` is shown as the HTML error page.
pub async fn logout(app: &App, req: Request) -> Result<Response, OAuthError> {
    if req.method() == Method::POST { sign_out(app, &req).await } else { confirm(app, &req).await }
}

/// The confirmation page, or word that nobody is signed in here.
async fn confirm(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let now = app.now();
    let Some(user) = signed_in_user(app, req, now).await? else {
        return Ok(html(StatusCode::OK, page::signed_out("You are not signed in.")));
    };
    let (csrf, new_csrf) = csrf_secret(app, req)?;
    let form = SignOut { csrf: crypto::digest(&csrf), exp: now + app.config.login_ttl };
    let sealed = sealed::seal(&app.config.signing_key, SIGN_OUT_PURPOSE, &form);
    let mut res = html(StatusCode::OK, page::sign_out(&user.username, &sealed));
    if new_csrf {
        set_csrf_cookie(app, &mut res, &csrf);
    }
    Ok(res)
}

/// Ends the person's sessions once the form is shown to come from this browser.
async fn sign_out(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let params = body_params(req)?;
    let now = app.now();
    let from_this_browser = params
        .get("request")?
        .and_then(|raw| sealed::open::<SignOut>(&app.config.signing_key, SIGN_OUT_PURPOSE, raw, now))
        .is_some_and(|f| csrf_matches(app, req, &f.csrf));
    if !from_this_browser {
        return Err(OAuthError::invalid_request(
            "This sign-out form has expired, was altered, or was not opened in this browser. \
             Open the sign-out page again.",
        ));
    }
    if let Some(mut user) = signed_in_user(app, req, now).await? {
        user.sign_outs += 1;
        app.store.update_user(&user).await.map_err(OAuthError::store("counting the sign-out"))?;
    }
    let mut res = html(StatusCode::OK, page::signed_out("You are signed out."));
    end_session_cookie(app, &mut res);
    Ok(res)
}
