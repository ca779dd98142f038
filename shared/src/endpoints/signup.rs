//! `GET` and `POST /signup`: a person creates an account (or, following an
//! invitation's link, sets up the one an operator made for them).
//!
//! An address that has an account already gets a mail saying so (with the
//! way to reset the password) instead of an error: the answer, a 303 to the
//! code page, is the same either way, and so is its timing.

use std::time::Instant;

use http::{Method, StatusCode};

use crate::admin::{new_sub, normalize_username};
use crate::app::App;
use crate::domain::{ChallengeKind, Credential, Identifier, User};
use crate::error::OAuthError;
use crate::http::{Params, Request, Response, body_params, html, query};
use crate::mail::{address, compose};
use crate::secret::Password;
use crate::sign_in::SignedIn;
use crate::sign_in::self_service::pages::{self, Note, SignUpPage};
use crate::sign_in::self_service::{SignUp, account, flow, rules};
use crate::sign_in::{endpoint_url, interaction};
use crate::store::StoreError;

/// `/signup`. An `Err` is shown as the HTML error page.
pub async fn signup(app: &App, req: Request) -> Result<Response, OAuthError> {
    let policy = app.config.self_service.sign_up;
    let params = if req.method() == Method::POST { body_params(&req)? } else { query(&req)? };
    let invitation = params.get("t")?;
    if let Some(refused) = closed(app, policy, invitation.is_some()) {
        return Ok(refused);
    }
    let request = params.get("request")?;
    let pending = match request {
        Some(_) => Some(interaction::open(app, &req, &params, app.now())?.1),
        None => None,
    };
    let form = Form::read(&params)?;
    if req.method() != Method::POST {
        // "I already have an account": the sign-in page of the same request.
        if let (Some("back"), Some(p)) = (params.get("step")?, pending.as_ref()) {
            let kept = account::keep(p).unwrap_or_default();
            return account::resume(app, &req, &kept, None, None).await;
        }
        let fresh = pending.as_ref().map(|p| account::reseal(app, p));
        return Ok(page(app, StatusCode::OK, fresh.as_deref(), invitation, &form, None));
    }
    let start = Instant::now();
    let fail = |status, message: &str| Ok(page(app, status, request, invitation, &form, Some(message)));
    let name = match clean_name(form.name) {
        Ok(n) => n,
        Err(m) => return fail(StatusCode::BAD_REQUEST, m),
    };
    if let Some(token) = invitation {
        if let Err(weak) = rules::check(form.password, &[name.as_deref().unwrap_or("")]) {
            return fail(StatusCode::BAD_REQUEST, &weak.to_string());
        }
        let Some(challenge) = flow::try_link(app, ChallengeKind::Invite, token).await? else {
            return Ok(refused(
                StatusCode::BAD_REQUEST,
                "This invitation has expired or was used already. Ask for a new one.",
            ));
        };
        let Some(user) =
            account::accept_invitation(app, &challenge, name, Password::new(form.password)).await?
        else {
            return Ok(refused(StatusCode::BAD_REQUEST, "This invitation is no longer valid."));
        };
        return match pending.as_ref().and_then(account::keep) {
            Some(back) => {
                let who = SignedIn::with_password(user, app.now());
                account::resume(app, &req, &back, Some(who), None).await
            }
            None => Ok(html(
                StatusCode::OK,
                pages::done(
                    "Your account is ready",
                    "Sign in from the application with your new password.",
                    None,
                ),
            )),
        };
    }
    let email = match address::parse(form.email.unwrap_or("")) {
        Ok(e) => e,
        Err(bad) => return fail(StatusCode::BAD_REQUEST, &bad.to_string()),
    };
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
    if !app.config.self_service.allows_domain(domain) {
        return fail(StatusCode::BAD_REQUEST, "Accounts cannot be made here with an address at that domain.");
    }
    let username = match form.username.filter(|_| app.config.self_service.usernames) {
        Some(u) => match normalize_username(u) {
            Ok(u) if !u.contains('@') => Some(u),
            _ => {
                return fail(StatusCode::BAD_REQUEST, "A username is 1 to 64 letters, digits or . _ - only.");
            }
        },
        None => None,
    };
    let personal = [email.as_str(), name.as_deref().unwrap_or(""), username.as_deref().unwrap_or("")];
    if let Err(weak) = rules::check(form.password, &personal) {
        return fail(StatusCode::BAD_REQUEST, &weak.to_string());
    }
    if let Err(limited) = flow::count_mail(app, &req, &email).await? {
        return Ok(limited);
    }
    let return_to = pending.as_ref().and_then(account::keep);
    let created = create(app, &email, name, username, Password::new(form.password)).await?;
    let res = flow::at_floor(app, start, async {
        match created {
            Created::Person(sub) => {
                let started =
                    flow::begin(app, ChallengeKind::Verify, Some(sub.clone()), &email, return_to).await?;
                account::mail_code(app, &started.flow).await?;
                Ok::<_, OAuthError>(account::to_code_page(app, &started))
            }
            Created::Exists => {
                let started = flow::begin(app, ChallengeKind::Verify, None, &email, return_to).await?;
                let reset = app.url("/reset");
                flow::send(app, compose::account_exists(&app.mail, &email, &reset)).await?;
                Ok(account::to_code_page(app, &started))
            }
            Created::UsernameTaken => Ok(page(
                app,
                StatusCode::BAD_REQUEST,
                request,
                None,
                &form,
                Some("That username is taken. Choose another, or leave it empty."),
            )),
        }
    });
    res.await
}

/// The answer when sign-up is not offered, if it is not.
fn closed(app: &App, policy: SignUp, invited: bool) -> Option<Response> {
    // Off closes sign-up to the public; an operator's invitation still works.
    if !app.mail_enabled() || (policy == SignUp::Off && !invited) {
        return Some(refused(
            StatusCode::NOT_FOUND,
            "Accounts cannot be created here. Ask the application's operator.",
        ));
    }
    if policy == SignUp::Invite && !invited {
        return Some(refused(
            StatusCode::FORBIDDEN,
            "Accounts here are by invitation only. Follow the link in your invitation mail.",
        ));
    }
    None
}

fn refused(status: StatusCode, message: &str) -> Response {
    html(status, pages::refused("Create an account", message))
}

/// What the form carried (never echoing the password).
struct Form<'a> {
    email: Option<&'a str>,
    name: Option<&'a str>,
    username: Option<&'a str>,
    password: &'a str,
}

impl<'a> Form<'a> {
    fn read(params: &'a Params) -> Result<Self, OAuthError> {
        Ok(Self {
            email: params.get("email")?,
            name: params.get("name")?,
            username: params.get("username")?,
            password: params.get("password")?.unwrap_or(""),
        })
    }
}

/// A display name: trimmed, at most 128 characters, no control characters.
fn clean_name(raw: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(name) = raw.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    if name.chars().count() > 128 {
        return Err("Your name can be at most 128 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("Your name cannot contain line breaks or control characters.");
    }
    Ok(Some(name.to_owned()))
}

fn page(
    app: &App,
    status: StatusCode,
    request: Option<&str>,
    invitation: Option<&str>,
    form: &Form<'_>,
    error: Option<&str>,
) -> Response {
    let s = &app.config.self_service;
    let action = endpoint_url(app, "/signup");
    let back = request.map(|r| back_url(app, "/signup", r));
    let body = pages::sign_up(&SignUpPage {
        action: &action,
        request,
        invitation,
        username: s.usernames && invitation.is_none(),
        email: form.email,
        name: form.name,
        chosen_username: form.username,
        terms_url: s.terms_url.as_deref(),
        privacy_url: s.privacy_url.as_deref(),
        note: error.map(Note::Error),
        sign_in_url: back.as_deref(),
    });
    html(status, body)
}

/// The link back to the sign-in page of the request `sealed`.
pub fn back_url(app: &App, path: &str, sealed: &str) -> String {
    crate::http::with_query(&endpoint_url(app, path), &[("request", sealed), ("step", "back")])
}

enum Created {
    Person(String),
    Exists,
    UsernameTaken,
}

/// Creates the person, unverified, with their password: the person, the
/// address and the username are claimed at once, so of two sign-ups racing
/// for one address exactly one makes an account.
async fn create(
    app: &App,
    email: &str,
    name: Option<String>,
    username: Option<String>,
    password: Password,
) -> Result<Created, OAuthError> {
    let now = app.now();
    let hash = account::hash(password).await?;
    let sub = new_sub().map_err(OAuthError::server)?;
    let user = User {
        sub: sub.clone(),
        username,
        email: Some(email.to_owned()),
        email_verified: false,
        name,
        disabled: false,
        created_at: now,
        epoch: 0,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    };
    let email_key = Identifier::email(email).key();
    match app.store.create_person(&user, &[Credential::password(&sub, hash, now)]).await {
        Ok(()) => Ok(Created::Person(sub)),
        Err(StoreError::Conflict(what)) if what.contains(&email_key) => Ok(Created::Exists),
        Err(StoreError::Conflict(what)) if what.contains("username:") => Ok(Created::UsernameTaken),
        Err(e) => Err(OAuthError::store("creating the person")(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_refused_with_control_characters() {
        assert_eq!(clean_name(Some("  Ada  ")), Ok(Some("Ada".into())));
        assert_eq!(clean_name(Some("   ")), Ok(None));
        assert!(clean_name(Some("Ada\r\nBcc: x@y.z")).is_err());
        assert!(clean_name(Some(&"a".repeat(129))).is_err());
    }
}
