//! `POST /login/email`: a code mailed to a person signs them in — as the
//! only factor (a deployment that turns `ZEROAUTH_EMAIL_CODE_SIGN_IN` on),
//! or as the second step of a sign-in. The code is 6 digits, good for 10
//! minutes, 5 tries and once, and only in the browser whose flow asked for
//! it; an address without an account gets the same page and no mail.

use http::StatusCode;
use maud::html;

use crate::app::App;
use crate::domain::{Amr, ChallengeKind, Flow};
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, body_params, html, parse_form};
use crate::oauth::clients;
use crate::sign_in::methods::Success;
use crate::sign_in::page::layout;
use crate::sign_in::self_service::account::{self, CodePosted};
use crate::sign_in::self_service::flow;
use crate::sign_in::self_service::pages::Note;
use crate::sign_in::step::{self, page::code_input};
use crate::sign_in::{SignedIn, endpoint_url, interaction};

/// The page's path.
pub const EMAIL_CODE_PATH: &str = "/login/email";
const NO_FLOW: &str = "There is no code to enter in this browser. Start again from the application.";

/// What the flow keeps: the sealed request, and the sealed step when the
/// code is a second factor.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    request: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<String>,
}

/// Starts the flow and mails the code when `sub` is a person's (with
/// `None`, the address has no account: the same page, no mail), then shows
/// the code page.
pub async fn send(
    app: &App,
    req: &Request,
    request: &str,
    (sub, address): (Option<String>, &str),
    step: Option<String>,
) -> Result<Response, OAuthError> {
    if let Err(limited) = flow::count_mail(app, req, address).await? {
        return Ok(limited);
    }
    let kept =
        serde_json::to_string(&Kept { request: request.to_owned(), step }).map_err(OAuthError::server)?;
    let started = flow::begin(app, ChallengeKind::SignIn, sub, address, Some(kept)).await?;
    account::mail_code(app, &started.flow).await?;
    let mut res = code_page(app, &started.flow, StatusCode::OK, None);
    started.set_cookie(app, &mut res);
    Ok(res)
}

/// `POST /login/email`: a new code, or the code typed.
pub async fn email_code(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let current = flow::current(app, &req).await?.filter(|f| f.kind == ChallengeKind::SignIn);
    let Some(current) = current else { return Err(OAuthError::invalid_request(NO_FLOW)) };
    let challenge = match account::post_code(app, &req, &params, &current).await? {
        CodePosted::Spent(c) => c,
        CodePosted::Again(status, note) => return Ok(code_page(app, &current, status, Some(note))),
        CodePosted::Limited(page) => return Ok(page),
    };
    let mut res = signed_in(app, &req, &current, &challenge.sub).await?;
    flow::end(app, &mut res, &current).await;
    Ok(res)
}

/// The code was right: the person is signed in (both factors when it was
/// the second), and the sign-in goes on as after any method.
async fn signed_in(app: &App, req: &Request, current: &Flow, sub: &str) -> Result<Response, OAuthError> {
    let now = app.now();
    let kept: Kept = serde_json::from_str(current.return_to.as_deref().unwrap_or_default())
        .map_err(|_| OAuthError::invalid_request(NO_FLOW))?;
    // The request is still this browser's (its CSRF cookie).
    let form = form_urlencoded::Serializer::new(String::new()).append_pair("request", &kept.request).finish();
    let posted: Params = parse_form(form.as_bytes())?;
    let (_, pending) = interaction::open(app, req, &posted, now)?;
    let (client, person) =
        tokio::join!(clients::find_in_use(app, &pending.client_id), app.store.get_person(sub, None));
    let client = client?
        .filter(|c| !c.disabled)
        .ok_or_else(|| OAuthError::invalid_request("The application is no longer registered."))?;
    let person = person.map_err(OAuthError::store("reading the person"))?;
    let person = person.filter(|p| p.is_active()).ok_or_else(|| OAuthError::invalid_request(NO_FLOW))?;
    let Some(sealed) = &kept.step else {
        // The only factor: the button that asked for it was not "Allow".
        let who = SignedIn { user: person, auth_time: now, amr: vec![Amr::Otp], idp: None };
        let done = Success { who, cleanup: None, cookies: Vec::new() };
        return step::consent_then_proceed(app, req, &client, &pending, done).await;
    };
    let step = step::open(app, sealed, &pending, now)?;
    if step.sub != person.sub || step.epoch != person.epoch {
        return Err(OAuthError::invalid_request(NO_FLOW));
    }
    let who = step.passed(person, &[Amr::Otp], now);
    step::proceed(app, req, &client, &pending, Success { who, cleanup: None, cookies: Vec::new() }).await
}

/// The code page: the same whether or not the address has an account.
fn code_page(app: &App, f: &Flow, status: StatusCode, note: Option<Note<'_>>) -> Response {
    let action = endpoint_url(app, EMAIL_CODE_PATH);
    let body = layout(
        "Check your email",
        html! {
            h1 { "Check your email" }
            @match note {
                Some(Note::Error(e)) => p.error role="alert" { (e) },
                Some(Note::Notice(n)) => p.notice role="status" { (n) },
                None => {},
            }
            p {
                "If " strong { (f.email) } " belongs to an account here, we have sent it a 6-digit code. "
                "Enter it below; it works for 10 minutes, in this browser only."
            }
            form method="post" action=(action) {
                label for="code" { "Code" }
                (code_input("code", true))
                div.buttons { button.primary type="submit" name="step" value="code" { "Continue" } }
                div.links {
                    button.secondary type="submit" name="step" value="resend" formnovalidate { "Send a new code" }
                }
            }
        },
    );
    html(status, body)
}
