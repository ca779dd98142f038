//! `GET` and `POST /verify`: the code page of a verification or an email
//! change, and the page a mailed link opens (its button posts: mail
//! scanners only follow links).

use std::time::Instant;

use http::{Method, StatusCode};

use crate::app::App;
use crate::domain::{Challenge, ChallengeKind, Flow};
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, html, query, redirect};
use crate::mail::compose;
use crate::sign_in::SignedIn;
use crate::sign_in::endpoint_url;
use crate::sign_in::self_service::account::{self, Changed};
use crate::sign_in::self_service::flow::{self, Tried};
use crate::sign_in::self_service::pages::{self, CodePage, LinkPage, Note};

/// What the code page says after a new code was sent.
pub const SENT: &str = "We sent a new code. Earlier codes no longer work.";
/// What it says after a wrong code.
pub const WRONG: &str = "That code is not right. Check the newest mail, or send a new code.";
/// What it says once a flow has used its tries.
pub const BURNT: &str = "Too many wrong codes: the code no longer works. Send a new code.";
const NO_FLOW: &str = "There is nothing to confirm in this browser. Open the link from the mail, or start again from the application.";
const BAD_LINK: &str = "This link has expired, was used already, or is not complete. Ask for a new mail.";

/// `/verify`. An `Err` is shown as the HTML error page.
pub async fn verify(app: &App, req: Request) -> Result<Response, OAuthError> {
    let post = req.method() == Method::POST;
    let params = if post { body_params(&req)? } else { query(&req)? };
    let current = flow::current(app, &req).await?.filter(|f| is_verification(f.kind));
    if let Some(token) = params.get("t")? {
        let kind = flow::link_target(token).map(|(k, _)| k).filter(|k| is_verification(*k));
        let Some(kind) = kind else { return Ok(refused(BAD_LINK)) };
        if !post {
            return Ok(link_page(app, kind, token));
        }
        let Some(challenge) = flow::try_link(app, kind, token).await? else { return Ok(refused(BAD_LINK)) };
        return finish(app, &req, current.as_ref(), &challenge).await;
    }
    let Some(current) = current else { return Ok(refused(NO_FLOW)) };
    if !post {
        let note = (params.get("sent")? == Some("1")).then_some(Note::Notice(SENT));
        return Ok(code_page(app, StatusCode::OK, &current, note));
    }
    match params.get("step")? {
        Some("resend") => resend(app, &req, &current).await,
        _ => {
            let Some(code) = flow::typed_code(params.get("code")?.unwrap_or("")) else {
                let note = Note::Error("The code is the 6 digits from the mail.");
                return Ok(code_page(app, StatusCode::BAD_REQUEST, &current, Some(note)));
            };
            match flow::try_code(app, &current, &code).await? {
                Tried::Right(challenge) => finish(app, &req, Some(&current), &challenge).await,
                Tried::Wrong => {
                    Ok(code_page(app, StatusCode::BAD_REQUEST, &current, Some(Note::Error(WRONG))))
                }
                Tried::Burnt => {
                    Ok(code_page(app, StatusCode::BAD_REQUEST, &current, Some(Note::Error(BURNT))))
                }
            }
        }
    }
}

fn is_verification(kind: ChallengeKind) -> bool {
    matches!(kind, ChallengeKind::Verify | ChallengeKind::EmailChange)
}

/// A new code for the flow, within the mail limits. An address without an
/// account is answered the same (and, for a sign-up, mailed again that it
/// has one).
async fn resend(app: &App, req: &Request, current: &Flow) -> Result<Response, OAuthError> {
    let start = Instant::now();
    if let Err(limited) = flow::count_mail(app, req, &current.email).await? {
        return Ok(limited);
    }
    flow::reset_tries(app, current).await?;
    let done = flow::at_floor(app, start, async {
        match &current.sub {
            Some(_) => account::mail_code(app, current).await,
            None => {
                let reset = app.url("/reset");
                flow::send(app, compose::account_exists(&app.mail, &current.email, &reset)).await
            }
        }
    });
    done.await?;
    Ok(redirect(StatusCode::SEE_OTHER, &format!("{}?sent=1", app.url("/verify"))))
}

/// A right code or link: the address is verified (or changed), then the
/// browser that asked goes on to the authorization request, signed in.
async fn finish(
    app: &App,
    req: &Request,
    current: Option<&Flow>,
    challenge: &Challenge,
) -> Result<Response, OAuthError> {
    let here = account::same_browser(current, challenge).then_some(current).flatten();
    let user = match challenge.kind {
        ChallengeKind::EmailChange => match account::change_email(app, challenge).await? {
            Changed::Done(user) => user,
            Changed::Taken => {
                return Ok(refused(
                    "That address belongs to another account now. Your address is unchanged.",
                ));
            }
            Changed::Gone => return Ok(refused(BAD_LINK)),
        },
        _ => match account::verified(app, challenge).await? {
            Some(user) => user,
            None => return Ok(refused(BAD_LINK)),
        },
    };
    let mut res = match (here, challenge.kind) {
        (Some(f), ChallengeKind::Verify) if f.return_to.is_some() => {
            let back = f.return_to.as_deref().unwrap_or_default();
            account::resume(app, req, back, Some(SignedIn::with_password(user, app.now())), None).await?
        }
        (_, ChallengeKind::EmailChange) => html(
            StatusCode::OK,
            pages::done(
                "Email address changed",
                &format!("Your email address is now {}.", user.email.as_deref().unwrap_or_default()),
                None,
            ),
        ),
        _ => html(
            StatusCode::OK,
            pages::done(
                "Email address verified",
                "Thank you: your address is verified. Go back to the application to sign in.",
                None,
            ),
        ),
    };
    if let Some(f) = here {
        flow::end(app, &mut res, f).await;
    }
    Ok(res)
}

fn code_page(app: &App, status: StatusCode, f: &Flow, note: Option<Note<'_>>) -> Response {
    let action = endpoint_url(app, "/verify");
    let title =
        if f.kind == ChallengeKind::EmailChange { "Confirm your new address" } else { "Check your email" };
    html(
        status,
        pages::code(&CodePage {
            action: &action,
            title,
            email: &f.email,
            new_password: false,
            note,
            with_link: true,
        }),
    )
}

fn link_page(app: &App, kind: ChallengeKind, token: &str) -> Response {
    let action = endpoint_url(app, "/verify");
    let (title, button) = match kind {
        ChallengeKind::EmailChange => ("Confirm your new address", "Use this address"),
        _ => ("Verify your email address", "Verify my address"),
    };
    html(
        StatusCode::OK,
        pages::link(&LinkPage { action: &action, title, button, token, new_password: false, note: None }),
    )
}

fn refused(message: &str) -> Response {
    html(StatusCode::BAD_REQUEST, pages::refused("This link or code cannot be used", message))
}
