//! `GET /logout` and `POST /logout`: signing out (OpenID Connect
//! RP-Initiated Logout 1.0). `GET` asks the person to confirm, with a form
//! bound to the CSRF cookie, so another site cannot sign them out; `POST`
//! ends every session of theirs — this browser's and any copy of its cookie
//! elsewhere — and clears the session cookie. A client may name a
//! `post_logout_redirect_uri` it registered (by `client_id` or by the `aud`
//! of an `id_token_hint`); the person is sent there afterwards, with `state`.
//!
//! Round trips: `GET` reads the session's person and, with a redirect URI,
//! the client, at once; `POST` reads the person, then writes them back with
//! their credential epoch moved on.

use http::{Method, StatusCode};

use crate::app::App;
use crate::crypto;
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, body_params, html, query, redirect, with_query};
use crate::oauth::{clients, jwt};
use crate::sign_in::interaction::{csrf_matches, csrf_secret, set_csrf_cookie};
use crate::sign_in::sealed::{self, SignOut};
use crate::sign_in::session::end_session_cookie;
use crate::sign_in::{SIGN_OUT_PURPOSE, endpoint_url, page, signed_in_user};

/// `GET|POST /logout`. An `Err` is shown as the HTML error page.
pub async fn logout(app: &App, req: Request) -> Result<Response, OAuthError> {
    if req.method() == Method::POST { sign_out(app, &req).await } else { confirm(app, &req).await }
}

/// Where to send the person afterwards: a `post_logout_redirect_uri`
/// registered for the client the request names, or nowhere.
async fn return_to(app: &App, params: &Params) -> Result<Option<String>, OAuthError> {
    let Some(uri) = params.get("post_logout_redirect_uri")? else {
        return Ok(None);
    };
    let hinted = match params.get("id_token_hint")? {
        Some(hint) => Some(jwt::id_token_subject(app, hint, None).map(|(_, aud)| aud).ok_or_else(|| {
            OAuthError::invalid_request("The id_token_hint is not an ID token this server issued.")
        })?),
        None => None,
    };
    let client_id = match (params.get_id("client_id")?, hinted.as_deref()) {
        (Some(c), Some(h)) if c != h => {
            return Err(OAuthError::invalid_request(
                "client_id and the id_token_hint name different clients.",
            ));
        }
        (Some(c), _) | (None, Some(c)) => c.to_owned(),
        (None, None) => {
            return Err(OAuthError::invalid_request(
                "A post_logout_redirect_uri needs the client_id or an id_token_hint.",
            ));
        }
    };
    let client = clients::find(app, &client_id).await?;
    let registered = client
        .filter(|c| !c.disabled)
        .is_some_and(|c| c.tokens.post_logout_redirect_uris.iter().any(|u| u == uri));
    if !registered {
        return Err(OAuthError::invalid_request(
            "The post_logout_redirect_uri is not registered for this application.",
        ));
    }
    Ok(Some(uri.to_owned()))
}

/// The confirmation page, or (nobody signed in here) straight on.
async fn confirm(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let params = query(req)?;
    let now = app.now();
    let (user, back) = tokio::join!(signed_in_user(app, req, now), return_to(app, &params));
    let (user, back) = (user?.map(|s| s.user), back?);
    let state = params.get("state")?.map(str::to_owned);
    let Some(user) = user else {
        return Ok(finished(back, state.as_deref(), "You are not signed in."));
    };
    let (csrf, new_csrf) = csrf_secret(app, req)?;
    let form =
        SignOut { csrf: crypto::digest(&csrf), exp: now + app.config.login_ttl, redirect: back, state };
    let sealed = sealed::seal(&app.config.signing_key, SIGN_OUT_PURPOSE, &form);
    let action = endpoint_url(app, "/logout");
    let mut res = html(StatusCode::OK, page::sign_out(user.display_name(), &sealed, &action));
    if new_csrf {
        set_csrf_cookie(app, &mut res, &csrf);
    }
    Ok(res)
}

/// Ends the person's sessions once the form is shown to come from this browser.
async fn sign_out(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let params = body_params(req)?;
    let now = app.now();
    let form = params
        .get("request")?
        .and_then(|raw| sealed::open::<SignOut>(&app.config.signing_key, SIGN_OUT_PURPOSE, raw, now))
        .filter(|f| csrf_matches(app, req, &f.csrf))
        .ok_or_else(|| {
            OAuthError::invalid_request(
                "This sign-out form has expired, was altered, or was not opened in this browser. \
                 Open the sign-out page again.",
            )
        })?;
    if let Some(mut user) = signed_in_user(app, req, now).await?.map(|s| s.user) {
        // Every session of theirs, here and elsewhere, was bound to this epoch.
        user.epoch += 1;
        app.store.update_person(&user, None).await.map_err(OAuthError::store("ending the sessions"))?;
    }
    let mut res = finished(form.redirect, form.state.as_deref(), "You are signed out.");
    end_session_cookie(app, &mut res);
    Ok(res)
}

/// The end: back to the client's registered URI (with `state`), or a page.
fn finished(back: Option<String>, state: Option<&str>, message: &str) -> Response {
    match back {
        Some(uri) => {
            let pairs: Vec<(&str, &str)> = state.map(|s| ("state", s)).into_iter().collect();
            redirect(StatusCode::SEE_OTHER, &with_query(&uri, &pairs))
        }
        None => html(StatusCode::OK, page::signed_out(message)),
    }
}
