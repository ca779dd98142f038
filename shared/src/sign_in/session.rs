//! The signed-in session: who, since when and how (`amr`), bound to the
//! person's credential epoch, in a sealed cookie. A password change, a
//! sign-out or disabling the person moves the epoch on and ends it.

use serde::{Deserialize, Serialize};

use super::{cookie_attributes, cookie_name, sealed};
use crate::app::App;
use crate::domain::{Amr, User};
use crate::error::OAuthError;
use crate::http::{Request, Response, cookie, set_cookie};

/// Cookie holding the signed-in session (named through [`cookie_name`]).
pub const SESSION_COOKIE: &str = "za_session";
/// How recent a sign-in must be to change how the person signs in (their
/// address, factors): 10 minutes.
pub const RECENT_SIGN_IN: i64 = 600;
/// Signing purpose of the session cookie.
pub const SESSION_PURPOSE: &str = "session";

/// The session cookie's sealed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The person.
    pub sub: String,
    /// The person's credential epoch when they signed in: the session ends
    /// once it moves on.
    pub epoch: i64,
    /// Epoch seconds after which the session is over.
    pub exp: i64,
    /// When the person signed in (OpenID Connect `auth_time`), epoch seconds.
    pub auth_time: i64,
    /// How they signed in (RFC 8176).
    pub amr: Vec<Amr>,
    /// The upstream provider they signed in through, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
}

impl sealed::Expiring for Session {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// A person signed in: by a method just now, or by their session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The person.
    pub user: User,
    /// When they signed in (`auth_time`), epoch seconds.
    pub auth_time: i64,
    /// How they signed in (RFC 8176 `amr`).
    pub amr: Vec<Amr>,
    /// The upstream provider they signed in through, if any (`idp`).
    pub idp: Option<String>,
}

impl SignedIn {
    /// `user`, signed in with their password at `now`.
    pub fn with_password(user: User, now: i64) -> Self {
        Self { user, auth_time: now, amr: vec![Amr::Pwd], idp: None }
    }
}

/// Whether a session still stands for the person as read now: they are
/// active and their credential epoch has not moved since it started.
pub fn still_valid(session: &Session, person: &User) -> bool {
    person.is_active() && person.sub == session.sub && person.epoch == session.epoch
}

/// The person of a valid session cookie, if they still exist, are enabled
/// and their epoch has not moved. One read.
pub async fn signed_in_user(app: &App, req: &Request, now: i64) -> Result<Option<SignedIn>, OAuthError> {
    let Some(raw) = cookie(req.headers(), &cookie_name(app, SESSION_COOKIE)) else {
        return Ok(None);
    };
    // A cookie of an earlier release (bound to a password digest) does not
    // open as a session: that person signs in once more.
    let Some(session) = sealed::open::<Session>(&app.config.signing_key, SESSION_PURPOSE, raw, now) else {
        return Ok(None);
    };
    let user = app
        .store
        .get_person(&session.sub, None)
        .await
        .map_err(OAuthError::store("reading the session's person"))?;
    Ok(user.filter(|u| still_valid(&session, u)).map(|user| SignedIn {
        user,
        auth_time: session.auth_time,
        amr: session.amr,
        idp: session.idp,
    }))
}

/// Sets the session cookie for `signed_in` on `res`.
pub fn start_session(app: &App, res: &mut Response, signed_in: &SignedIn, now: i64) {
    let session = Session {
        sub: signed_in.user.sub.clone(),
        epoch: signed_in.user.epoch,
        exp: now + app.config.session_ttl,
        auth_time: signed_in.auth_time,
        amr: signed_in.amr.clone(),
        idp: signed_in.idp.clone(),
    };
    let value = sealed::seal(&app.config.signing_key, SESSION_PURPOSE, &session);
    let attrs = cookie_attributes(app, app.config.session_ttl, "Lax");
    set_cookie(res, &format!("{}={value}; {attrs}", cookie_name(app, SESSION_COOKIE)));
}

/// Ends the session cookie on `res` (the session itself ends server-side
/// when the person's epoch moves on).
pub fn end_session_cookie(app: &App, res: &mut Response) {
    let attrs = cookie_attributes(app, 0, "Lax");
    set_cookie(res, &format!("{}=; {attrs}", cookie_name(app, SESSION_COOKIE)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(disabled: bool, epoch: i64) -> User {
        User {
            sub: "za_user_1".into(),
            username: Some("alice".into()),
            email: None,
            name: None,
            disabled,
            created_at: 0,
            epoch,
            email_verified: true,
            tokens_revoked_at: 0,
            upstream: vec![],
            passkey_user: None,
        }
    }

    #[test]
    fn a_session_ends_when_the_epoch_moves_or_the_person_is_disabled() {
        let s = Session {
            sub: "za_user_1".into(),
            epoch: 2,
            exp: 10,
            auth_time: 0,
            amr: vec![Amr::Pwd],
            idp: None,
        };
        let cases = [
            ("same epoch, active", person(false, 2), true),
            ("epoch moved on (password change, sign-out)", person(false, 3), false),
            ("disabled", person(true, 2), false),
            ("someone else", User { sub: "za_user_2".into(), ..person(false, 2) }, false),
        ];
        for (name, p, want) in cases {
            assert_eq!(still_valid(&s, &p), want, "should be {want} because {name}");
        }
    }
}
