//! `GET` and `POST /account/security`: a signed-in person adds and removes
//! passkeys, turns an authenticator app on or off, and makes recovery
//! codes. Every change is bound to the CSRF cookie, needs a sign-in within
//! the last 10 minutes, moves the person's epoch on (ending their other
//! sessions; this one starts afresh) in the same conditional write as the
//! credentials, and is mailed to them. Under a `required` policy the last
//! factor cannot be removed.

use http::{Method, StatusCode};

use crate::app::App;
use crate::crypto;
use crate::domain::{Credential, CredentialKind, FactorPolicy, User};
use crate::error::OAuthError;
use crate::factors::passkey;
use crate::http::{Params, Request, Response, body_params, html, set_cookie};
use crate::sign_in::interaction::{csrf_matches, csrf_secret, set_csrf_cookie};
use crate::sign_in::self_service::pages;
use crate::sign_in::session::RECENT_SIGN_IN;
use crate::sign_in::session::start_session;
use crate::sign_in::step::{self, enrol};
use crate::sign_in::{SignedIn, ceremony, endpoint_url, signed_in_user};
use crate::store::StoreError;

mod page;

use page::{Note, View};

/// The page's path.
pub const SECURITY_PATH: &str = "/account/security";

/// `/account/security`. An `Err` is shown as the HTML error page.
pub async fn security(app: &App, req: Request) -> Result<Response, OAuthError> {
    let now = app.now();
    let Some(who) = signed_in_user(app, &req, now).await? else {
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            pages::refused(
                "Sign-in security",
                "Sign in first: open the application and sign in, then come back to this page.",
            ),
        ));
    };
    let fresh = now - who.auth_time <= RECENT_SIGN_IN;
    let (csrf, new_csrf) = csrf_secret(app, &req)?;
    let token = crypto::digest(&csrf);
    let mut outcome = Outcome::default();
    if req.method() == Method::POST {
        let params = body_params(&req)?;
        if new_csrf || !params.get("csrf")?.is_some_and(|t| csrf_matches(app, &req, t)) {
            return Ok(html(
                StatusCode::FORBIDDEN,
                pages::refused(
                    "Sign-in security",
                    "This form was not opened in this browser session. Open the page again and retry.",
                ),
            ));
        }
        if !fresh {
            outcome.note = Some(Err("Sign in again (within the last 10 minutes) to change these settings."));
            outcome.status = StatusCode::FORBIDDEN;
        } else {
            outcome = change(app, &req, &who, &params, now).await?;
        }
    }
    let user = outcome.person.clone().unwrap_or_else(|| who.user.clone());
    let mut res = render(app, &user, fresh, &token, &outcome).await?;
    if new_csrf {
        set_csrf_cookie(app, &mut res, &csrf);
    }
    if let Some(person) = outcome.person {
        // The epoch moved on: this browser's session starts afresh with it.
        start_session(app, &mut res, &SignedIn { user: person, ..who }, now);
    }
    for c in outcome.cookies {
        set_cookie(&mut res, &c);
    }
    Ok(res)
}

/// What a posted change did.
struct Outcome {
    status: StatusCode,
    note: Option<Result<&'static str, &'static str>>,
    /// The person as written, when a change was.
    person: Option<User>,
    new_codes: Vec<String>,
    cookies: Vec<String>,
}

impl Default for Outcome {
    fn default() -> Self {
        Self { status: StatusCode::OK, note: None, person: None, new_codes: Vec::new(), cookies: Vec::new() }
    }
}

fn refused(message: &'static str) -> Outcome {
    Outcome { status: StatusCode::BAD_REQUEST, note: Some(Err(message)), ..Outcome::default() }
}

async fn change(
    app: &App,
    req: &Request,
    who: &SignedIn,
    params: &Params,
    now: i64,
) -> Result<Outcome, OAuthError> {
    let person = &who.user;
    let factors = step::factors(app, person).await?;
    let last = factors.passkeys.len() + usize::from(factors.totp.is_some()) == 1;
    let required = app.config.factors.policy == FactorPolicy::Required;
    let (put, delete, done, codes, notice): (Vec<Credential>, Vec<String>, &str, Vec<String>, &str) =
        match params.get("action")?.unwrap_or("") {
            "add_passkey" => {
                let kept = ceremony::take(
                    app,
                    req,
                    crate::domain::CeremonyKind::PasskeyRegistration,
                    Some(&person.sub),
                )
                .await?;
                let Some(kept) = kept else {
                    return Ok(refused("The passkey could not be added. Try again."));
                };
                let (credential, label) =
                    (params.get("credential")?.unwrap_or(""), params.get("label")?.unwrap_or(""));
                let Ok(made) =
                    passkey::finish_registration(app, &kept.state, credential, label, &person.sub, now)
                else {
                    return Ok(refused("The passkey could not be added. Try again."));
                };
                let updated = super::factor::with_handle(person, kept.user.as_deref());
                let mut out = write(app, person, updated, vec![made], Vec::new()).await?;
                if out.person.is_some() {
                    out.note = Some(Ok("Passkey added. Your other sessions were signed out."));
                    out.cookies.push(ceremony::clear_cookie(app));
                    super::factor::notify(app, person, "A passkey was added to").await;
                }
                return Ok(out);
            }
            "remove_passkey" => {
                let id = params.get("id")?.unwrap_or("");
                let Some(c) = factors.passkeys.iter().find(|c| c.id == id) else {
                    return Ok(refused("That passkey is not one of yours."));
                };
                if required && last {
                    return Ok(refused(
                        "This is your last second factor, and this service requires one: add another first.",
                    ));
                }
                (
                    Vec::new(),
                    vec![c.key()],
                    "Passkey removed. Your other sessions were signed out.",
                    Vec::new(),
                    "A passkey was removed from",
                )
            }
            "add_totp" => {
                let (setup, code) = (params.get("setup")?.unwrap_or(""), params.get("code")?.unwrap_or(""));
                let Some(made) = enrol::confirm_totp(app, setup, code, &person.sub, now) else {
                    return Ok(refused(
                        "That code does not match the key shown. Scan the new code and try again.",
                    ));
                };
                let (mut put, codes) = if factors.recovery == 0 {
                    enrol::new_recovery_codes(&person.sub, now)?
                } else {
                    (Vec::new(), Vec::new())
                };
                put.push(made);
                (
                    put,
                    Vec::new(),
                    "Authenticator app on. Your other sessions were signed out.",
                    codes,
                    "An authenticator app was set up for",
                )
            }
            "remove_totp" => {
                let Some(c) = &factors.totp else {
                    return Ok(refused("The authenticator app is already off."));
                };
                if required && last {
                    return Ok(refused(
                        "This is your last second factor, and this service requires one: add another first.",
                    ));
                }
                (
                    Vec::new(),
                    vec![c.key()],
                    "Authenticator app off. Your other sessions were signed out.",
                    Vec::new(),
                    "The authenticator app was turned off for",
                )
            }
            "recovery" => {
                let old = app.store.get_credentials(&person.sub, CredentialKind::Recovery).await;
                let old = old.map_err(OAuthError::store("reading the recovery codes"))?;
                let (put, codes) = enrol::new_recovery_codes(&person.sub, now)?;
                let delete = old.iter().map(Credential::key).collect();
                (
                    put,
                    delete,
                    "New recovery codes made: the old ones no longer work.",
                    codes,
                    "New recovery codes were made for",
                )
            }
            _ => return Ok(refused("Choose what to change.")),
        };
    let mut out = write(app, person, person.clone(), put, delete).await?;
    if out.person.is_some() {
        out.note = Some(Ok(done));
        out.new_codes = codes;
        super::factor::notify(app, person, notice).await;
    }
    Ok(out)
}

/// Writes `updated` (its epoch moved on) with the credentials, only if the
/// epoch is still the one read.
async fn write(
    app: &App,
    person: &User,
    updated: User,
    put: Vec<Credential>,
    delete: Vec<String>,
) -> Result<Outcome, OAuthError> {
    let updated = User { epoch: person.epoch + 1, ..updated };
    match app.store.change_factors(&updated, person.epoch, &put, &delete).await {
        Ok(()) => Ok(Outcome { person: Some(updated), ..Outcome::default() }),
        Err(StoreError::Conflict(_) | StoreError::NotFound(_)) => {
            Ok(refused("Your account changed in the meantime (another tab?). Look again and retry."))
        }
        Err(e) => Err(OAuthError::store("changing the factors")(e)),
    }
}

async fn render(
    app: &App,
    user: &User,
    fresh: bool,
    csrf: &str,
    out: &Outcome,
) -> Result<Response, OAuthError> {
    let factors = step::factors(app, user).await?;
    let totp_setup =
        if fresh && factors.totp.is_none() { Some(enrol::totp_section(app, user, app.now())?) } else { None };
    let (action, options) = (endpoint_url(app, SECURITY_PATH), endpoint_url(app, "/passkey/options"));
    let view = View {
        action: &action,
        options: &options,
        csrf,
        name: user.display_name(),
        passkeys: &factors.passkeys,
        totp: factors.totp.is_some(),
        recovery: factors.recovery,
        fresh,
        totp_setup,
        new_codes: &out.new_codes,
        note: out.note.map(|n| match n {
            Ok(m) => Note::Done(m),
            Err(m) => Note::Error(m),
        }),
    };
    Ok(crate::sign_in::page::with_script(html(out.status, page::render(&view))))
}
