//! What a spent challenge does to the person, and the way back to the
//! authorization request the person started.

use http::StatusCode;

use super::flow::{self, Started};
use super::pages::Note;
use crate::app::App;
use crate::crypto;
use crate::domain::{Challenge, ChallengeKind, Credential, Flow, Identifier, User};
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, redirect};
use crate::mail::compose;
use crate::oauth::{clients, tokens};
use crate::secret::Password;
use crate::sign_in::interaction::{PendingRequest, csrf_secret};
use crate::sign_in::page;
use crate::sign_in::session::{SignedIn, start_session};
use crate::store::StoreError;

/// Whether `user` must verify their address before a sign-in reaches a client.
pub fn needs_verification(app: &App, user: &User) -> bool {
    !app.config.self_service.unverified_sign_in && user.email.is_some() && !user.email_verified
}

/// The sealed-request state a flow keeps to return to (the request as
/// `/authorize` validated it; it is sealed afresh on the way back).
pub fn keep(pending: &PendingRequest) -> Option<String> {
    serde_json::to_string(pending).ok()
}

/// The request sealed again with a fresh expiry, for a self-service form
/// opened from the sign-in page: filling it in may take longer than the
/// sign-in page had left.
pub fn reseal(app: &App, pending: &PendingRequest) -> String {
    let mut fresh = pending.clone();
    fresh.exp = app.now() + app.config.login_ttl;
    crate::sign_in::sealed::seal(&app.config.signing_key, crate::sign_in::LOGIN_PURPOSE, &fresh)
}

/// Holds a sign-in back until the person verifies their address: a code
/// and link are mailed and the browser is sent to the code page, from which
/// the sign-in goes on.
pub async fn ask_to_verify(
    app: &App,
    req: &Request,
    pending: &PendingRequest,
    user: &User,
) -> Result<Response, OAuthError> {
    let email = user.email.as_deref().unwrap_or_default();
    if let Err(limited) = flow::count_mail(app, req, email).await? {
        return Ok(limited);
    }
    let started =
        flow::begin(app, ChallengeKind::Verify, Some(user.sub.clone()), email, keep(pending)).await?;
    mail_code(app, &started.flow).await?;
    Ok(to_code_page(app, &started))
}

/// Mails a new code and link for the flow's kind to its address, when the
/// address is a person's (a flow without one mails nothing here).
pub async fn mail_code(app: &App, f: &Flow) -> Result<(), OAuthError> {
    let Some(sub) = f.sub.as_deref() else { return Ok(()) };
    let issued = flow::issue(app, f.kind, sub, &f.email, Some(f), flow::page(f.kind)).await?;
    let (s, to, code, link, min) = (&app.mail, f.email.as_str(), &issued.code, &issued.link, issued.minutes);
    let mail = match f.kind {
        ChallengeKind::Verify => compose::verify_address(s, to, code, link, min),
        ChallengeKind::Reset => compose::reset_password(s, to, code, link, min),
        ChallengeKind::EmailChange => compose::confirm_new_address(s, to, code, link, min),
        ChallengeKind::Invite => compose::invitation(s, to, link, (min / (24 * 60)).max(1)),
        ChallengeKind::Link => compose::link_account(s, to, code, min),
        ChallengeKind::SignIn => compose::sign_in_code(s, to, code, min),
    };
    flow::send(app, mail).await
}

/// The 303 to a flow's code page, with its cookie.
pub fn to_code_page(app: &App, started: &Started) -> Response {
    let kind = started.flow.kind;
    let step = if kind == ChallengeKind::Reset { "?step=code" } else { "" };
    let mut res = redirect(StatusCode::SEE_OTHER, &format!("{}{step}", app.url(flow::page(kind))));
    started.set_cookie(app, &mut res);
    res
}

/// The person a challenge is for, as stored now.
async fn person(app: &App, challenge: &Challenge) -> Result<Option<User>, OAuthError> {
    let found = app.store.get_person(&challenge.sub, None).await;
    Ok(found.map_err(OAuthError::store("reading the person"))?.filter(User::is_active))
}

/// A verification code or link was right: the address is verified (if it
/// is still the person's). Returns the person.
pub async fn verified(app: &App, challenge: &Challenge) -> Result<Option<User>, OAuthError> {
    let Some(mut user) = person(app, challenge).await? else { return Ok(None) };
    if !user.has_address(&challenge.email) {
        return Ok(None);
    }
    if !user.email_verified {
        user.email_verified = true;
        app.store.update_person(&user, None).await.map_err(OAuthError::store("verifying the address"))?;
    }
    Ok(Some(user))
}

/// What an email change came to.
pub enum Changed {
    /// The address is the person's now.
    Done(User),
    /// Someone else has the address by now.
    Taken,
    /// The person or their old address is gone.
    Gone,
}

/// An email-change code or link was right: the new address replaces the
/// old one (the `sub` stays) and the old address is told.
pub async fn change_email(app: &App, challenge: &Challenge) -> Result<Changed, OAuthError> {
    let Some(mut user) = person(app, challenge).await? else { return Ok(Changed::Gone) };
    let Some(old) = user.email.clone() else { return Ok(Changed::Gone) };
    user.email = Some(challenge.email.clone());
    user.email_verified = true;
    let (from, to) = (Identifier::email(&old), Identifier::email(&challenge.email));
    match app.store.rename_person(&user, &from, &to).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Ok(Changed::Taken),
        Err(StoreError::NotFound(_)) => return Ok(Changed::Gone),
        Err(e) => return Err(OAuthError::store("changing the address")(e)),
    }
    // A reset code mailed to the old address no longer resets anything.
    forget(app, &user.sub, ChallengeKind::Reset).await;
    if from != to {
        // The change is made; a notice that fails is logged, not undone.
        let notice = compose::address_changed(&app.mail, &old, &challenge.email);
        let _ = flow::send(app, notice).await;
    }
    Ok(Changed::Done(user))
}

/// A reset code or link was right and the new password passed the rules:
/// it replaces the old one, the address counts as verified, every session
/// ends (the epoch moves) and every token family stops (`tokens_revoked_at`),
/// and the person is told. Nobody is signed in.
pub async fn reset_password(
    app: &App,
    challenge: &Challenge,
    password: Password,
) -> Result<Option<User>, OAuthError> {
    let Some(mut user) = person(app, challenge).await? else { return Ok(None) };
    // A reset mailed to an address the person has since changed is void.
    if !user.has_address(&challenge.email) {
        return Ok(None);
    }
    let now = app.now();
    let hash = hash(password).await?;
    user.email_verified = true;
    user.epoch += 1;
    user.tokens_revoked_at = now;
    let credential = Credential::password(&user.sub, hash, now);
    app.store
        .update_person(&user, Some(&credential))
        .await
        .map_err(OAuthError::store("changing the password"))?;
    // An email change someone started is not carried past the reset.
    forget(app, &user.sub, ChallengeKind::EmailChange).await;
    if let Some(email) = &user.email {
        let _ = flow::send(app, compose::password_changed(&app.mail, email)).await;
    }
    Ok(Some(user))
}

/// A new password's argon2id hash, made off the async threads.
pub async fn hash(password: Password) -> Result<String, OAuthError> {
    tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .map_err(OAuthError::server)?
        .map_err(OAuthError::server)
}

/// Removes the person's live challenge of `kind`, if any (a failure is
/// logged: the challenge still expires).
async fn forget(app: &App, sub: &str, kind: ChallengeKind) {
    if let Err(e) = app.store.delete_challenge(sub, kind).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "could not remove a challenge");
    }
}

/// Sets up an invited person's account: their name and password; the
/// address is verified by the invitation link.
pub async fn accept_invitation(
    app: &App,
    challenge: &Challenge,
    name: Option<String>,
    password: Password,
) -> Result<Option<User>, OAuthError> {
    let Some(mut user) = person(app, challenge).await? else { return Ok(None) };
    let now = app.now();
    let hash = hash(password).await?;
    user.email_verified = true;
    if name.is_some() {
        user.name = name;
    }
    user.epoch += 1;
    let credential = Credential::password(&user.sub, hash, now);
    app.store
        .update_person(&user, Some(&credential))
        .await
        .map_err(OAuthError::store("setting up the account"))?;
    Ok(Some(user))
}

/// Whether this browser is the one whose flow asked for `challenge`: only
/// then does the flow go on to the authorization request (a link opened on
/// another device just does what it says).
pub fn same_browser(flow: Option<&Flow>, challenge: &Challenge) -> bool {
    flow.is_some_and(|f| challenge.flow.as_deref() == Some(f.handle.as_str()))
}

/// Back to the authorization request the flow kept: the sign-in page,
/// sealed afresh for this browser. With `signed_in` the person's session
/// starts and the page offers to go on as them; without, they sign in.
pub async fn resume(
    app: &App,
    req: &Request,
    return_to: &str,
    signed_in: Option<SignedIn>,
    notice: Option<&str>,
) -> Result<Response, OAuthError> {
    let now = app.now();
    let mut pending: PendingRequest = serde_json::from_str(return_to).map_err(OAuthError::server)?;
    let client = clients::find_in_use(app, &pending.client_id)
        .await?
        .filter(|c| !c.disabled)
        .ok_or_else(|| OAuthError::invalid_request("The application is no longer registered."))?;
    let (csrf, new_csrf) = csrf_secret(app, req)?;
    pending.csrf = crypto::digest(&csrf);
    pending.form = tokens::rng(crypto::random_string(16))?;
    pending.exp = now + app.config.login_ttl;
    if signed_in.is_some() {
        // The person just proved who they are in this browser.
        pending.force_login = false;
        pending.max_age = None;
    }
    let consent = !client.is_trusted();
    let who = signed_in.as_ref().map(|s| &s.user);
    let mut res = page::sign_in_page(app, &client, &pending, who, consent, (&csrf, new_csrf), notice).await?;
    if let Some(who) = &signed_in {
        start_session(app, &mut res, who, now);
    }
    Ok(res)
}

/// What posting a code-only page (a code, or "Send a new code") came to.
pub enum CodePosted {
    /// The code was right: its challenge is spent.
    Spent(Challenge),
    /// The page again, with this status and note (a new code was sent, or
    /// the code was malformed, wrong or burnt).
    Again(StatusCode, Note<'static>),
    /// The mail limits' 429 page.
    Limited(Response),
}

/// Handles a code-only page's post in `current`: "Send a new code" within
/// the mail limits (the tries start again), or the code typed, tried once
/// against the flow's challenge ([`flow::try_code`]).
pub async fn post_code(
    app: &App,
    req: &Request,
    params: &Params,
    current: &Flow,
) -> Result<CodePosted, OAuthError> {
    use CodePosted::{Again, Limited, Spent};
    if params.get("step")? == Some("resend") {
        if let Err(limited) = flow::count_mail(app, req, &current.email).await? {
            return Ok(Limited(limited));
        }
        flow::reset_tries(app, current).await?;
        mail_code(app, current).await?;
        return Ok(Again(StatusCode::OK, Note::Notice("We sent a new code. Earlier codes no longer work.")));
    }
    let Some(code) = flow::typed_code(params.get("code")?.unwrap_or("")) else {
        return Ok(Again(StatusCode::BAD_REQUEST, Note::Error("The code is the 6 digits from the mail.")));
    };
    Ok(match flow::try_code(app, current, &code).await? {
        flow::Tried::Right(c) => Spent(c),
        flow::Tried::Wrong => Again(
            StatusCode::BAD_REQUEST,
            Note::Error("That code is not right. Check the newest mail, or send a new code."),
        ),
        flow::Tried::Burnt => Again(
            StatusCode::BAD_REQUEST,
            Note::Error("Too many wrong codes: the code no longer works. Send a new code."),
        ),
    })
}

/// Why an invitation was not sent.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The address is malformed.
    #[error("{0}")]
    Address(String),
    /// The address has an account already.
    #[error("{0} has an account already")]
    Exists(String),
    /// Storing or mailing failed.
    #[error("{0}")]
    Failed(String),
}

/// Invites `email` (`zeroauth user invite`): a person with that address and
/// no password is created, unverified, and mailed a link to set up their
/// account (name and password) within the invitation's lifetime. Inviting
/// an address again, before it is taken up, mails a new link.
pub async fn invite(app: &App, email: &str, name: Option<String>) -> Result<User, InviteError> {
    let email = crate::mail::address::parse(email).map_err(|e| InviteError::Address(e.to_string()))?;
    let failed = |e: OAuthError| InviteError::Failed(e.cause.unwrap_or(e.description));
    let id = Identifier::email(&email);
    let existing = app.store.find_identifier(&id).await.map_err(|e| InviteError::Failed(e.to_string()))?;
    let user = match existing {
        Some(sub) => {
            let person =
                app.store.get_person(&sub, None).await.map_err(|e| InviteError::Failed(e.to_string()))?;
            let creds = app.store.get_credentials(&sub, crate::domain::CredentialKind::Password).await;
            let creds = creds.map_err(|e| InviteError::Failed(e.to_string()))?;
            match person {
                // Invited before and not set up yet: a new link.
                Some(p) if creds.is_empty() && !p.email_verified => p,
                _ => return Err(InviteError::Exists(email)),
            }
        }
        None => {
            let sub = crate::admin::new_sub().map_err(|e| InviteError::Failed(e.to_string()))?;
            let user = User {
                sub,
                username: None,
                email: Some(email.clone()),
                email_verified: false,
                name,
                disabled: false,
                created_at: app.now(),
                epoch: 0,
                tokens_revoked_at: 0,
                upstream: vec![],
                passkey_user: None,
            };
            match app.store.create_person(&user, &[]).await {
                Ok(()) => user,
                Err(StoreError::Conflict(_)) => return Err(InviteError::Exists(email)),
                Err(e) => return Err(InviteError::Failed(e.to_string())),
            }
        }
    };
    let issued =
        flow::issue(app, ChallengeKind::Invite, &user.sub, &email, None, "/signup").await.map_err(failed)?;
    let days = u32::try_from(flow::ttl(app, ChallengeKind::Invite) / 86_400).unwrap_or(u32::MAX).max(1);
    let mail = compose::invitation(&app.mail, &email, &issued.link, days);
    flow::send(app, mail).await.map_err(failed)?;
    Ok(user)
}
