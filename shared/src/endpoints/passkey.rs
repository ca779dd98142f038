//! `POST /passkey/options`: the page script asks for a WebAuthn ceremony's
//! options. The ceremony's state is stored for 5 minutes under a random
//! handle the browser gets in an HttpOnly cookie; the answer comes back to
//! the form's own target, which takes the ceremony once. Every purpose is
//! bound to something this browser already holds: the sealed sign-in
//! request (and step), or the session and the CSRF cookie.

use http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::{CeremonyKind, CredentialKind, User};
use crate::error::OAuthError;
use crate::factors::passkey;
use crate::http::{Params, Request, Response, body_params, json as json_response, set_cookie};
use crate::sign_in::ceremony::{self, Kept};
use crate::sign_in::interaction::{self, csrf_matches};
use crate::sign_in::session::RECENT_SIGN_IN;
use crate::sign_in::{signed_in_user, step};

/// `POST /passkey/options`. An `Err` is answered as JSON.
pub async fn options(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let now = app.now();
    let setup = |e: passkey::PasskeyError| OAuthError::server(format!("passkey options: {e}"));
    let (options, kind, sub, kept_user) = match params.get("purpose")?.unwrap_or("") {
        "sign_in" => {
            interaction::open(app, &req, &params, now)?;
            let (options, state) = passkey::start_authentication(app, None).map_err(setup)?;
            (options, CeremonyKind::PasskeyAuthentication, None, (state, None))
        }
        "second_factor" => {
            let person = stepped_person(app, &req, &params, now).await?;
            let creds = app.store.get_credentials(&person.sub, CredentialKind::Passkey).await;
            let creds = creds.map_err(OAuthError::store("reading the passkeys"))?;
            if creds.is_empty() {
                return Err(OAuthError::invalid_request("This account has no passkey yet."));
            }
            let (options, state) = passkey::start_authentication(app, Some(&creds)).map_err(setup)?;
            (options, CeremonyKind::PasskeyAuthentication, Some(person.sub), (state, None))
        }
        "register" => {
            let person = match params.get("step")? {
                Some(_) => stepped_person(app, &req, &params, now).await?,
                None => fresh_session_person(app, &req, &params, now).await?,
            };
            let creds = app.store.get_credentials(&person.sub, CredentialKind::Passkey).await;
            let creds = creds.map_err(OAuthError::store("reading the passkeys"))?;
            let handle = passkey::user_handle(&person).map_err(setup)?;
            let new = person.passkey_user.is_none();
            let (options, state) =
                passkey::start_registration(app, &person, handle, &creds).map_err(setup)?;
            let user = new.then(|| handle.to_string());
            (options, CeremonyKind::PasskeyRegistration, Some(person.sub), (state, user))
        }
        _ => return Err(OAuthError::invalid_request("`purpose` must be sign_in, second_factor or register")),
    };
    let kept = Kept { state: kept_user.0, user: kept_user.1 };
    let cookie = ceremony::start(app, kind, sub.as_deref(), &kept).await?;
    let mut res = json_response(StatusCode::OK, &wrap(options));
    set_cookie(&mut res, &cookie);
    Ok(res)
}

/// The options as the script expects them: `{"publicKey": …}`.
fn wrap(options: Value) -> Value {
    if options.get("publicKey").is_some() { options } else { json!({ "publicKey": options }) }
}

/// The person of a posted sign-in step (its request bound to this
/// browser, its epoch unchanged).
async fn stepped_person(app: &App, req: &Request, params: &Params, now: i64) -> Result<User, OAuthError> {
    let (_, pending) = interaction::open(app, req, params, now)?;
    let s = step::open(app, params.require("step")?, &pending, now)?;
    let person = app.store.get_person(&s.sub, None).await.map_err(OAuthError::store("reading the person"))?;
    person.filter(|p| p.is_active() && p.epoch == s.epoch).ok_or_else(|| {
        OAuthError::invalid_request("This sign-in was ended. Start again from the application.")
    })
}

/// The person of this browser's session, signed in within 10 minutes, on a
/// form bound to its CSRF cookie.
async fn fresh_session_person(
    app: &App,
    req: &Request,
    params: &Params,
    now: i64,
) -> Result<User, OAuthError> {
    if !params.get("csrf")?.is_some_and(|t| csrf_matches(app, req, t)) {
        return Err(OAuthError::invalid_request(
            "This page was not opened in this browser session. Reload it.",
        ));
    }
    let who = signed_in_user(app, req, now).await?;
    let who = who.ok_or_else(|| OAuthError::invalid_request("Sign in first."))?;
    if now - who.auth_time > RECENT_SIGN_IN {
        return Err(OAuthError::invalid_request(
            "Sign in again (within the last 10 minutes) to add a passkey.",
        ));
    }
    Ok(who.user)
}
