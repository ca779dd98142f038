//! `GET` and `POST /account/email`: a signed-in person changes their email
//! address. A code and link go to the new address; once either is used the
//! new address replaces the old (the `sub` stays) and the old one is told.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::app::App;
use crate::domain::{ChallengeKind, Identifier};
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, html};
use crate::mail::address;
use crate::sign_in::self_service::pages::{self, Note};
use crate::sign_in::self_service::{account, flow};
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
    let user = who.user;
    let page = |status, note: Option<Note<'_>>| {
        html(status, pages::email_change(&action, user.email.as_deref(), note.as_ref()))
    };
    if req.method() != Method::POST {
        return Ok(page(StatusCode::OK, None));
    }
    let start = Instant::now();
    let params = body_params(&req)?;
    let new = match address::parse(params.get("email")?.unwrap_or("")) {
        Ok(e) => e,
        Err(bad) => return Ok(page(StatusCode::BAD_REQUEST, Some(Note::Error(&bad.to_string())))),
    };
    if user.email.is_none() {
        let note = Note::Error("Your account has no email address to change. Ask the operator to set one.");
        return Ok(page(StatusCode::BAD_REQUEST, Some(note)));
    }
    if user.email.as_deref().map(Identifier::email) == Some(Identifier::email(&new)) {
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
        account::mail_code(app, &started, &user.sub).await?;
        Ok::<_, OAuthError>(account::to_code_page(app, &started, "/verify"))
    });
    res.await
}
