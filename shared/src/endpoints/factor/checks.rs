//! Each factor's check on the posted form: a TOTP code (a step accepted
//! once, by a compare-and-swap), a recovery code (spent by one conditional
//! delete, and the person told), a passkey (the ceremony taken once, the
//! counter rule, the new counter written only as read), and the set-ups.

use super::{Checked, enrol_with_codes};
use crate::app::App;
use crate::domain::{Amr, CeremonyKind, CredentialKind, User};
use crate::error::OAuthError;
use crate::factors::{passkey, recovery, totp};
use crate::http::{Params, Request};
use crate::mail::compose;
use crate::sign_in::self_service::flow;
use crate::sign_in::{ceremony, step::enrol};

const WRONG_CODE: &str =
    "That code is not right. Codes change every 30 seconds, and each works once: wait for the next one.";
const WRONG_RECOVERY: &str = "That recovery code is not right, or it was used before.";
const PASSKEY_FAILED: &str = "That passkey could not confirm it is you. Try again, or use another way.";
const SETUP_FAILED: &str = "That code does not match the key shown. Scan the new code below and try again.";
const RACED: &str = "Your account changed while you were setting this up. Start again from the application.";

/// A code from the person's authenticator app.
pub(super) async fn totp(app: &App, person: &User, params: &Params, now: i64) -> Result<Checked, OAuthError> {
    let creds = app.store.get_credentials(&person.sub, CredentialKind::Totp).await;
    let creds = creds.map_err(OAuthError::store("reading the authenticator app"))?;
    let Some(before) = creds.into_iter().next() else { return Ok(Checked::Wrong(WRONG_CODE)) };
    let crate::domain::CredentialData::Totp(data) = &before.data else {
        return Ok(Checked::Wrong(WRONG_CODE));
    };
    let Some(secret) = totp::open(app, &data.sealed_secret) else {
        return Err(OAuthError::server("a TOTP secret does not open under this deployment's key"));
    };
    let Some(step) = totp::check(&secret, params.get("code")?.unwrap_or(""), now, data.last_step) else {
        return Ok(Checked::Wrong(WRONG_CODE));
    };
    // The step is recorded only as read: the same code, sent twice at
    // once, passes once.
    let swapped = app.store.replace_credential(&before, &totp::accepted(&before, step)).await;
    if !swapped.map_err(OAuthError::store("recording the code's step"))? {
        return Ok(Checked::Wrong(WRONG_CODE));
    }
    Ok(Checked::Passed(vec![Amr::Otp], Vec::new()))
}

/// One of the person's recovery codes: spent, and the person told.
pub(super) async fn recovery(app: &App, person: &User, params: &Params) -> Result<Checked, OAuthError> {
    let Some(key) = recovery::key_for(params.get("code")?.unwrap_or("")) else {
        return Ok(Checked::Wrong(WRONG_RECOVERY));
    };
    let spent = app.store.delete_credential(&person.sub, &key).await;
    if !spent.map_err(OAuthError::store("spending the recovery code"))? {
        return Ok(Checked::Wrong(WRONG_RECOVERY));
    }
    if let Some(to) = person.email.as_deref().filter(|_| person.email_verified && app.mail_enabled()) {
        let left =
            app.store.get_credentials(&person.sub, CredentialKind::Recovery).await.map_or(0, |c| c.len());
        // The notice never holds the sign-in up.
        let _ = flow::send(app, compose::recovery_code_used(&app.mail, to, left)).await;
    }
    Ok(Checked::Passed(vec![Amr::Otp], Vec::new()))
}

/// One of the person's passkeys, answering the ceremony the page started.
pub(super) async fn passkey(
    app: &App,
    req: &Request,
    person: &User,
    params: &Params,
) -> Result<Checked, OAuthError> {
    let kept = ceremony::take(app, req, CeremonyKind::PasskeyAuthentication, Some(&person.sub)).await?;
    let Some(kept) = kept else { return Ok(Checked::Wrong(PASSKEY_FAILED)) };
    let creds = app.store.get_credentials(&person.sub, CredentialKind::Passkey).await;
    let creds = creds.map_err(OAuthError::store("reading the passkeys"))?;
    let credential = params.get("credential")?.unwrap_or("");
    let Some(amr) = ceremony::verify_passkey(app, &kept.state, credential, &creds, false).await? else {
        return Ok(Checked::Wrong(PASSKEY_FAILED));
    };
    Ok(Checked::Passed(amr, vec![ceremony::clear_cookie(app)]))
}

/// An authenticator app set up in the sign-in: its first code turns it on.
pub(super) async fn totp_setup(
    app: &App,
    person: &User,
    params: &Params,
    now: i64,
) -> Result<Checked, OAuthError> {
    let (setup, code) = (params.get("setup")?.unwrap_or(""), params.get("code")?.unwrap_or(""));
    let Some(credential) = enrol::confirm_totp(app, setup, code, &person.sub, now) else {
        return Ok(Checked::Wrong(SETUP_FAILED));
    };
    match enrol_with_codes(app, person, person.clone(), credential).await? {
        Some((written, codes)) => {
            notify(app, &written, "An authenticator app was set up for").await;
            Ok(Checked::Enrolled(written, vec![Amr::Otp], codes))
        }
        None => Err(OAuthError::invalid_request(RACED)),
    }
}

/// A passkey created in the sign-in.
pub(super) async fn passkey_setup(
    app: &App,
    req: &Request,
    person: &User,
    params: &Params,
    now: i64,
) -> Result<Checked, OAuthError> {
    let kept = ceremony::take(app, req, CeremonyKind::PasskeyRegistration, Some(&person.sub)).await?;
    let Some(kept) = kept else { return Ok(Checked::Wrong(PASSKEY_FAILED)) };
    let (credential, label) = (params.get("credential")?.unwrap_or(""), params.get("label")?.unwrap_or(""));
    let made = match passkey::finish_registration(app, &kept.state, credential, label, &person.sub, now) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(reason = %e, "a passkey registration was refused");
            return Ok(Checked::Wrong(PASSKEY_FAILED));
        }
    };
    // Registration verified the person (webauthn-rs requires it for passkeys).
    let amr = match &made.data {
        crate::domain::CredentialData::Passkey(p) => {
            vec![if p.backup_eligible { Amr::Swk } else { Amr::Hwk }, Amr::User, Amr::Mfa]
        }
        _ => vec![Amr::Mfa],
    };
    let updated = with_handle(person, kept.user.as_deref());
    match enrol_with_codes(app, person, updated, made).await? {
        Some((written, codes)) => {
            notify(app, &written, "A passkey was added to").await;
            Ok(Checked::Enrolled(written, amr, codes))
        }
        None => Err(OAuthError::invalid_request(RACED)),
    }
}

/// The person with their WebAuthn user handle: a first passkey's new
/// handle is set on the record, and the store points its identifier at
/// them in the same write as the passkey ([`crate::store::FactorStore::change_factors`]).
pub fn with_handle(person: &User, handle: Option<&str>) -> User {
    match (&person.passkey_user, handle) {
        (None, Some(h)) => User { passkey_user: Some(h.to_owned()), ..person.clone() },
        _ => person.clone(),
    }
}

/// Mails the person that their factors changed; never fatal.
pub async fn notify(app: &App, person: &User, what: &str) {
    if let Some(to) = person.email.as_deref().filter(|_| person.email_verified && app.mail_enabled()) {
        let _ = flow::send(app, compose::factor_changed(&app.mail, to, what)).await;
    }
}
