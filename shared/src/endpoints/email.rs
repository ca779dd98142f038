//! `GET` and `POST /account/email`: a signed-in person changes their email
//! address. A code and link go to the new address; once either is used the
//! new address replaces the old (the `sub` stays) and the old one is told.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::app::App;
use crate::crypto;
use crate::domain::ChallengeKind;
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, html};
use crate::mail::address;
use crate::sign_in::interaction::{csrf_matches, csrf_secret, set_csrf_cookie};
use crate::sign_in::self_service::pages::{self, Note};
use crate::sign_in::self_service::{account, flow};
use crate::sign_in::session::RECENT_SIGN_IN;
use crate::sign_in::{endpoint_url, signed_in_user};

/// `/account/email`. An `Err` is shown as the HTML error page.
pub async fn email(app: &App, req: Request) -> Result<Response, OAuthError> {
    let action = endpoint_url(app, "/account/email");
    if !app.mail_enabled() {
        return Ok(html(
            StatusCode::NOT_FOUND,
            pages::refused("Change your email address", "Addresses cannot be changed here."),
        ));
    }
    let Some(who) = signed_in_user(app, &req, app.now()).await? else {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            pages::refused(
                "Change your email address",
                "Sign in first: open the application and sign in, then come back to this page.",
            ),
        ));
    };
    // Changing the address that resets the password is a change of how the
    // person proves who they are: it needs a sign-in within 10 minutes.
    if app.now() - who.auth_time > RECENT_SIGN_IN {
        return Ok(html(
            StatusCode::FORBIDDEN,
            pages::refused(
                "Change your email address",
                "For your security, sign in again (within the last 10 minutes) before changing your address.",
            ),
        ));
    }
    let user = who.user;
    // The form is bound to this browser's CSRF cookie, like the sign-in form.
    let (csrf, new_csrf) = csrf_secret(app, &req)?;
    let token = crypto::digest(&csrf);
    let page = |status, note: Option<Note<'_>>| {
        let mut res =
            html(status, pages::email_change(&action, &token, user.email.as_deref(), note.as_ref()));
        if new_csrf {
            set_csrf_cookie(app, &mut res, &csrf);
        }
        res
    };
    if req.method() != Method::POST {
        return Ok(page(StatusCode::OK, None));
    }
    let start = Instant::now();
    let params = body_params(&req)?;
    if !params.get("csrf")?.is_some_and(|t| !new_csrf && csrf_matches(app, &req, t)) {
        return Ok(html(
            StatusCode::FORBIDDEN,
            pages::refused(
                "Change your email address",
                "This form was not opened in this browser session. Open the page again and retry.",
            ),
        ));
    }
    let new = match address::parse(params.get("email")?.unwrap_or("")) {
        Ok(e) => e,
        Err(bad) => return Ok(page(StatusCode::BAD_REQUEST, Some(Note::Error(&bad.to_string())))),
    };
    if user.email.is_none() {
        let note = Note::Error("Your account has no email address to change. Ask the operator to set one.");
        return Ok(page(StatusCode::BAD_REQUEST, Some(note)));
    }
    if user.has_address(&new) {
        return Ok(page(StatusCode::BAD_REQUEST, Some(Note::Error("That is your address already."))));
    }
    let domain = new.rsplit_once('@').map_or("", |(_, d)| d);
    if !app.config.self_service.allows_domain(domain) {
        let note = Note::Error("Addresses at that domain cannot be used here.");
        return Ok(page(StatusCode::BAD_REQUEST, Some(note)));
    }
    if let Err(limited) = flow::count_mail(app, &req, &new).await? {
        return Ok(limited);
    }
    let res = flow::at_floor(app, start, async {
        let started =
            flow::begin(app, ChallengeKind::EmailChange, Some(user.sub.clone()), &new, None).await?;
        account::mail_code(app, &started.flow).await?;
        Ok::<_, OAuthError>(account::to_code_page(app, &started))
    });
    res.await
}
