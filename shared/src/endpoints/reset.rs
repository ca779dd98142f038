//! `GET` and `POST /reset`: a person who forgot their password asks for a
//! code and link by mail, then chooses a new password with either.
//!
//! Asking answers the same whether or not the address has an account
//! (nothing is mailed to one that has none, nor to a disabled person), in
//! the same time. A reset ends every session and token family of the person
//! and never signs them in: they go back to the sign-in page.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::app::App;
use crate::domain::{Challenge, ChallengeKind, Flow, Identifier, User};
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, body_params, html, query, redirect};
use crate::mail::address;
use crate::secret::Password;
use crate::sign_in::self_service::flow::{self, Tried};
use crate::sign_in::self_service::pages::{self, CodePage, LinkPage, Note};
use crate::sign_in::self_service::{account, rules};
use crate::sign_in::{endpoint_url, interaction};

const CHANGED: &str = "Your password is changed. Sign in with your new password.";
const BAD_LINK: &str =
    "This reset link has expired, was used already, or is not complete. Ask for a new one.";
const NO_FLOW: &str = "There is no reset in progress in this browser. Ask for a new code.";

/// `/reset`. An `Err` is shown as the HTML error page.
pub async fn reset(app: &App, req: Request) -> Result<Response, OAuthError> {
    if !app.mail_enabled() {
        return Ok(html(
            StatusCode::NOT_FOUND,
            pages::refused(
                "Reset your password",
                "Passwords cannot be reset here. Ask the application's operator.",
            ),
        ));
    }
    let post = req.method() == Method::POST;
    let params = if post { body_params(&req)? } else { query(&req)? };
    let current = flow::current(app, &req).await?.filter(|f| f.kind == ChallengeKind::Reset);
    let step = params.get("step")?;
    if let Some(token) = params.get("t")? {
        if flow::link_target(token).is_none_or(|(k, _)| k != ChallengeKind::Reset) {
            return Ok(refused(BAD_LINK));
        }
        if !post {
            return Ok(link_page(app, StatusCode::OK, token, None));
        }
        let password = params.get("password")?.unwrap_or("");
        if let Err(weak) = rules::check(password, &[]) {
            return Ok(link_page(app, StatusCode::BAD_REQUEST, token, Some(Note::Error(&weak.to_string()))));
        }
        let Some(challenge) = flow::try_link(app, ChallengeKind::Reset, token).await? else {
            return Ok(refused(BAD_LINK));
        };
        return finish(app, &req, current.as_ref(), &challenge, Password::new(password)).await;
    }
    match (post, step, current) {
        (false, Some("code"), Some(f)) => {
            let note = (params.get("sent")? == Some("1")).then_some(Note::Notice(super::verify::SENT));
            Ok(code_page(app, StatusCode::OK, &f, note))
        }
        (false, Some("code"), None) | (true, Some("code" | "resend"), None) => Ok(refused(NO_FLOW)),
        (false, Some("back"), _) if params.get("request")?.is_some() => {
            let pending = interaction::open(app, &req, &params, app.now())?.1;
            let kept = account::keep(&pending).unwrap_or_default();
            account::resume(app, &req, &kept, None, None).await
        }
        (false, _, _) => {
            let fresh = match params.get("request")? {
                Some(_) => Some(account::reseal(app, &interaction::open(app, &req, &params, app.now())?.1)),
                None => None,
            };
            Ok(request_page(app, StatusCode::OK, fresh.as_deref(), None, None))
        }
        (true, Some("resend"), Some(f)) => resend(app, &req, &f).await,
        (true, Some("code"), Some(f)) => confirm(app, &req, &params, &f).await,
        (true, _, _) => ask(app, &req, &params).await,
    }
}

/// Asks for a reset: a flow starts whatever the address, and only an
/// active person's address is mailed.
async fn ask(app: &App, req: &Request, params: &Params) -> Result<Response, OAuthError> {
    let start = Instant::now();
    let request = params.get("request")?;
    let pending = match request {
        Some(_) => Some(interaction::open(app, req, params, app.now())?.1),
        None => None,
    };
    let typed = params.get("email")?;
    let email = match address::parse(typed.unwrap_or("")) {
        Ok(e) => e,
        Err(bad) => {
            let message = bad.to_string();
            return Ok(request_page(
                app,
                StatusCode::BAD_REQUEST,
                request,
                typed,
                Some(Note::Error(&message)),
            ));
        }
    };
    if let Err(limited) = flow::count_mail(app, req, &email).await? {
        return Ok(limited);
    }
    let res = flow::at_floor(app, start, async {
        let person = find(app, &email).await?;
        let sub = person.map(|p| p.sub);
        let return_to = pending.as_ref().and_then(account::keep);
        let started = flow::begin(app, ChallengeKind::Reset, sub, &email, return_to).await?;
        // A mail that fails is logged, not told: telling it would say the
        // address has an account.
        if let Err(e) = account::mail_code(app, &started.flow).await {
            e.log();
        }
        Ok::<_, OAuthError>(account::to_code_page(app, &started))
    });
    res.await
}

/// The active person whose address this is, if any.
async fn find(app: &App, email: &str) -> Result<Option<User>, OAuthError> {
    let sub = app.store.find_identifier(&Identifier::email(email)).await;
    let Some(sub) = sub.map_err(OAuthError::store("finding the address"))? else { return Ok(None) };
    let person = app.store.get_person(&sub, None).await.map_err(OAuthError::store("reading the person"))?;
    Ok(person.filter(User::is_active))
}

async fn resend(app: &App, req: &Request, f: &Flow) -> Result<Response, OAuthError> {
    let start = Instant::now();
    if let Err(limited) = flow::count_mail(app, req, &f.email).await? {
        return Ok(limited);
    }
    flow::reset_tries(app, f).await?;
    let sent = flow::at_floor(app, start, account::mail_code(app, f));
    if let Err(e) = sent.await {
        e.log();
    }
    Ok(redirect(StatusCode::SEE_OTHER, &format!("{}?step=code&sent=1", app.url("/reset"))))
}

/// The code and the new password, posted together.
async fn confirm(app: &App, req: &Request, params: &Params, f: &Flow) -> Result<Response, OAuthError> {
    let password = params.get("password")?.unwrap_or("");
    let Some(code) = flow::typed_code(params.get("code")?.unwrap_or("")) else {
        let note = Note::Error("The code is the 6 digits from the mail.");
        return Ok(code_page(app, StatusCode::BAD_REQUEST, f, Some(note)));
    };
    if let Err(weak) = rules::check(password, &[&f.email]) {
        let message = weak.to_string();
        return Ok(code_page(app, StatusCode::BAD_REQUEST, f, Some(Note::Error(&message))));
    }
    match flow::try_code(app, f, &code).await? {
        Tried::Right(challenge) => finish(app, req, Some(f), &challenge, Password::new(password)).await,
        Tried::Wrong => {
            Ok(code_page(app, StatusCode::BAD_REQUEST, f, Some(Note::Error(super::verify::WRONG))))
        }
        Tried::Burnt => {
            Ok(code_page(app, StatusCode::BAD_REQUEST, f, Some(Note::Error(super::verify::BURNT))))
        }
    }
}

/// The password is changed: back to the sign-in page (never signed in), or
/// a page that says so when the link was opened elsewhere.
async fn finish(
    app: &App,
    req: &Request,
    current: Option<&Flow>,
    challenge: &Challenge,
    password: Password,
) -> Result<Response, OAuthError> {
    if account::reset_password(app, challenge, password).await?.is_none() {
        return Ok(refused(BAD_LINK));
    }
    let here = account::same_browser(current, challenge).then_some(current).flatten();
    let mut res = match here.and_then(|f| f.return_to.as_deref()) {
        Some(back) => account::resume(app, req, back, None, Some(CHANGED)).await?,
        None => html(StatusCode::OK, pages::done("Password changed", CHANGED, None)),
    };
    if let Some(f) = here {
        flow::end(app, &mut res, f).await;
    }
    Ok(res)
}

fn request_page(
    app: &App,
    status: StatusCode,
    request: Option<&str>,
    email: Option<&str>,
    note: Option<Note<'_>>,
) -> Response {
    let back = request.map(|r| super::signup::back_url(app, "/reset", r));
    let action = endpoint_url(app, "/reset");
    html(status, pages::reset_request(&action, request, email, note.as_ref(), back.as_deref()))
}

fn code_page(app: &App, status: StatusCode, f: &Flow, note: Option<Note<'_>>) -> Response {
    let action = endpoint_url(app, "/reset");
    let page = CodePage {
        action: &action,
        title: "Reset your password",
        email: &f.email,
        new_password: true,
        note,
        with_link: true,
    };
    html(status, pages::code(&page))
}

fn link_page(app: &App, status: StatusCode, token: &str, note: Option<Note<'_>>) -> Response {
    let action = endpoint_url(app, "/reset");
    let page = LinkPage {
        action: &action,
        title: "Choose a new password",
        button: "Change my password",
        token,
        new_password: true,
        note,
    };
    html(status, pages::link(&page))
}

fn refused(message: &str) -> Response {
    html(StatusCode::BAD_REQUEST, pages::refused("Reset your password", message))
}
