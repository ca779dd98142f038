//! `POST /login/factor`: the factor page's forms. The posted step must be
//! sealed, unexpired and of this interaction, and the person's epoch
//! unchanged since the first factor; then the factor chosen is checked —
//! counted first against the person's throttle, like a password — and
//! only a factor that passed issues the code. Setting a factor up here
//! (when the person needs one they lack) writes it with the person's record
//! in one conditional write, and shows recovery codes once.

use http::StatusCode;

use crate::app::App;
use crate::domain::{Acr, Amr, Client, Credential, User};
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, html};
use crate::oauth::clients;
use crate::sign_in::finish::complete;
use crate::sign_in::interaction::{self, PendingRequest};
use crate::sign_in::methods::Success;
use crate::sign_in::methods::password::THROTTLED;
use crate::sign_in::step::{self, FactorStep, enrol, page};
use crate::sign_in::{SignedIn, sealed};

mod checks;

pub use checks::{notify, with_handle};

const ENDED: &str = "This sign-in was ended (the account changed since). Start again from the application.";

/// How a factor's check ended.
pub enum Checked {
    /// It passed, with this `amr` (and these cookies to set).
    Passed(Vec<Amr>, Vec<String>),
    /// A factor was set up: the person as written, its `amr`, and the
    /// recovery codes to show (new ones, when the person had none).
    Enrolled(User, Vec<Amr>, Vec<String>),
    /// It did not pass: the page again with this message.
    Wrong(&'static str),
}

/// `POST /login/factor`. An `Err` is shown as the HTML error page.
pub async fn factor(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let now = app.now();
    let (_, pending) = interaction::open(app, &req, &params, now)?;
    let step = step::open(app, params.require("step")?, &pending, now)?;
    let (client, person) =
        tokio::join!(clients::find_in_use(app, &pending.client_id), app.store.get_person(&step.sub, None));
    let client = client?
        .filter(|c| !c.disabled)
        .ok_or_else(|| OAuthError::invalid_request("The application is no longer registered."))?;
    let person = person.map_err(OAuthError::store("reading the person"))?;
    let person = person
        .filter(|p| p.is_active() && p.epoch == step.epoch)
        .ok_or_else(|| OAuthError::invalid_request(ENDED))?;
    let factor = params.get("factor")?.unwrap_or("");
    match factor {
        // After a set-up: the step already holds the factor that passed.
        "done" if Acr::of(&step.amr) >= step.need => {
            let who = SignedIn { user: person, auth_time: step.auth_time, amr: step.amr, idp: step.idp };
            return complete(app, &client, &pending, Success { who, cleanup: None, cookies: Vec::new() })
                .await;
        }
        "email" => {
            let Some(address) = person.email.clone().filter(|_| person.email_verified && app.mail_enabled())
            else {
                return again(
                    app,
                    &client,
                    &pending,
                    &step,
                    &person,
                    "Codes cannot be mailed to this account.",
                )
                .await;
            };
            let request = params.require("request")?;
            let sealed_step = params.require("step")?;
            let sub = Some(person.sub.clone());
            return super::email_code::send(
                app,
                &req,
                request,
                (sub, &address),
                Some(sealed_step.to_owned()),
            )
            .await;
        }
        _ => {}
    }
    // Every other try is counted first, like a password guess.
    let throttle = format!("login:factor:{}", person.sub);
    let tries = app.store.hit(&throttle, now + app.config.throttle_window, now).await;
    if tries.map_err(OAuthError::store("counting the try"))? > app.config.max_failures_per_user {
        let mut res = again(app, &client, &pending, &step, &person, THROTTLED).await?;
        *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return Ok(res);
    }
    let checked = match factor {
        "totp" => checks::totp(app, &person, &params, now).await?,
        "recovery" => checks::recovery(app, &person, &params).await?,
        "passkey" => checks::passkey(app, &req, &person, &params).await?,
        "totp_setup" => checks::totp_setup(app, &person, &params, now).await?,
        "passkey_setup" => checks::passkey_setup(app, &req, &person, &params, now).await?,
        _ => return Err(OAuthError::invalid_request("The form was posted without a factor.")),
    };
    match checked {
        Checked::Passed(amr, cookies) => {
            let who = step.passed(person, &amr, now);
            let clear = async move {
                if let Err(e) = app.store.clear(&throttle).await {
                    tracing::warn!(error = %e, "could not reset a factor throttle");
                }
            };
            let done = Success { who, cleanup: Some(Box::pin(clear)), cookies };
            complete(app, &client, &pending, done).await
        }
        Checked::Enrolled(person, amr, codes) => {
            let who = step.passed(person, &amr, now);
            let next = FactorStep { epoch: who.user.epoch, amr: who.amr, auth_time: now, ..step };
            let request = sealed::seal(&app.config.signing_key, interaction::LOGIN_PURPOSE, &pending);
            let sealed_step = next.seal(app);
            let hidden = page::Hidden { request: &request, step: &sealed_step };
            Ok(html(StatusCode::OK, enrol::done_page(app, &hidden, &codes)))
        }
        Checked::Wrong(message) => again(app, &client, &pending, &step, &person, message).await,
    }
}

/// The factor page again, with `message`.
async fn again(
    app: &App,
    client: &Client,
    pending: &PendingRequest,
    step: &FactorStep,
    person: &User,
    message: &str,
) -> Result<Response, OAuthError> {
    let factors = step::factors(app, person).await?;
    page::ask(app, None, client, pending, step, &factors, Some(message))
}

/// Writes a factor set up in a sign-in, with recovery codes when the person
/// has none: the record (its epoch moved on, ending other sessions) and the
/// credentials at once, only if the epoch is still the one the step read.
pub async fn enrol_with_codes(
    app: &App,
    person: &User,
    updated: User,
    credential: Credential,
) -> Result<Option<(User, Vec<String>)>, OAuthError> {
    let now = app.now();
    let existing = app.store.get_credentials(&person.sub, crate::domain::CredentialKind::Recovery).await;
    let existing = existing.map_err(OAuthError::store("reading the recovery codes"))?;
    let (mut put, shown) = if existing.is_empty() {
        enrol::new_recovery_codes(&person.sub, now)?
    } else {
        (Vec::new(), Vec::new())
    };
    put.push(credential);
    let updated = User { epoch: person.epoch + 1, ..updated };
    match app.store.change_factors(&updated, person.epoch, &put, &[]).await {
        Ok(()) => Ok(Some((updated, shown))),
        Err(crate::store::StoreError::Conflict(_) | crate::store::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(OAuthError::store("setting up the factor")(e)),
    }
}
