//! Deciding who signs in: the session's user, or a username and password
//! checked with argon2id and throttled per account and per client IP.

use crate::app::App;
use crate::crypto::{self, DUMMY_PASSWORD_HASH, MAX_PASSWORD_BYTES};
use crate::domain::User;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, client_ip};
use crate::oauth::tokens;
use crate::secret::Password;
use crate::sign_in::hashes;
use crate::sign_in::sealed::PendingRequest;
use crate::sign_in::{SignedIn, signed_in_user};

/// How a sign-in ended.
pub enum Outcome {
    /// Signed in; `clear` is the failure counter to reset, if it had counted any.
    SignedIn {
        /// The person, and when they signed in with their password.
        who: SignedIn,
        /// The per-account (or per-device) counter to reset.
        clear: Option<String>,
        /// After a password sign-in: the device cookie id to set (the
        /// browser's own, or a new one).
        device: Option<String>,
    },
    /// Too many recent failures for this account or address.
    Throttled,
    /// Unknown user, wrong password, or no session; the username to show again.
    BadCredentials(Option<String>),
}

/// What the sign-in reads before deciding.
pub enum Reads {
    /// No username was posted: the session's user, if any.
    Session(Option<SignedIn>),
    /// A username was posted: the user and the failure counters.
    Password(Attempt),
}

/// A password sign-in's reads.
pub struct Attempt {
    username: String,
    /// The browser's device cookie id, when it signed in as this person before.
    device: Option<String>,
    user_key: String,
    ip_key: Option<String>,
    user: Option<User>,
    /// This attempt's number in the account's window, counted before the
    /// password is checked.
    attempt: u32,
    ip_hits: u32,
}

/// Reads, all at once, what signing in needs: the session's user when the
/// form asked no password; otherwise the user and the per-IP failure
/// counter, while this attempt is counted against the account.
///
/// The account's counter is one atomic increment made *before* the password
/// is checked, so however many guesses arrive at once, at most the limit of
/// them are checked per window. If it cannot be counted, nothing is checked:
/// the sign-in fails closed with 503. A browser holding a device cookie for
/// this username (it signed in as them before) is counted on its own counter
/// instead (OWASP's device cookies), so strangers' guesses cannot lock the
/// person out of their own browser.
pub async fn read(
    app: &App,
    req: &Request,
    params: &Params,
    pending: &PendingRequest,
    now: i64,
) -> Result<Reads, OAuthError> {
    let username = params.get_id("username")?.map(|u| u.trim().to_lowercase());
    let Some(username) = username else {
        let session = if pending.force_login { None } else { signed_in_user(app, req, now).await? };
        // OpenID Connect max_age: an older sign-in does not count.
        let session = session.filter(|s| pending.max_age.is_none_or(|m| now - s.auth_time <= m));
        return Ok(Reads::Session(session));
    };
    let device = super::device_for(app, req, &username, now);
    let user_key = match &device {
        Some(id) => format!("login:device:{id}"),
        None => format!("login:user:{username}"),
    };
    let ip_key = client_ip(req).map(|ip| format!("login:ip:{ip}"));
    let store = &app.store;
    let window_end = now + app.config.throttle_window;
    let (user, attempt, ip_hits) =
        tokio::join!(store.get_user(&username), store.hit(&user_key, window_end, now), async {
            match &ip_key {
                Some(k) => store.hits(k, now).await,
                None => Ok(0),
            }
        });
    let attempt = attempt.map_err(|e| {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "Signing in is unavailable for a moment. Try again.",
        )
        .with_cause(e)
    })?;
    let fault = OAuthError::store("reading the sign-in's user and counter");
    let (user, ip_hits) = match (user, ip_hits) {
        (Ok(u), Ok(b)) => (u, b),
        (Err(e), _) | (_, Err(e)) => return Err(fault(e)),
    };
    Ok(Reads::Password(Attempt { username, device, user_key, ip_key, user, attempt, ip_hits }))
}

/// Decides the sign-in: the session's user, or the password checked with
/// argon2id (against a dummy hash for unknown users, so they cost the same
/// time), throttled per account and per client IP.
pub async fn decide(app: &App, params: &Params, reads: Reads, now: i64) -> Result<Outcome, OAuthError> {
    let a = match reads {
        Reads::Session(Some(who)) => return Ok(Outcome::SignedIn { who, clear: None, device: None }),
        Reads::Session(None) => return Ok(Outcome::BadCredentials(None)),
        Reads::Password(a) => a,
    };
    if a.attempt > app.config.max_failures_per_user || a.ip_hits >= app.config.max_failures_per_ip {
        return Ok(Outcome::Throttled);
    }
    let password = Password::new(params.get("password")?.unwrap_or(""));
    let ok = password.secret().len() <= MAX_PASSWORD_BYTES && {
        let hash = a.user.as_ref().map_or(DUMMY_PASSWORD_HASH.to_owned(), |u| u.password_hash.clone());
        let password = password.clone();
        tokio::task::spawn_blocking(move || hashes::verify(&password, &hash))
            .await
            .map_err(OAuthError::server)?
    };
    match a.user {
        // The attempt counted against the account is forgiven.
        Some(user) if ok && user.is_active() => {
            let user = rehash(app, user, password).await;
            let device = match a.device {
                Some(id) => id,
                None => tokens::rng(crypto::random_string(16))?,
            };
            let who = SignedIn { user, auth_time: now };
            Ok(Outcome::SignedIn { who, clear: Some(a.user_key), device: Some(device) })
        }
        _ => {
            count_failure(app, a.ip_key.as_deref(), now).await?;
            Ok(Outcome::BadCredentials(Some(a.username)))
        }
    }
}

/// A person imported with another server's hash gets ZeroAuth's argon2id
/// now that their password is known. The sign-in goes on if it fails: the
/// old hash still works next time.
async fn rehash(app: &App, user: User, password: Password) -> User {
    if !hashes::needs_rehash(&user.password_hash) {
        return user;
    }
    let hashed = tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await;
    let Ok(Ok(new_hash)) = hashed else {
        tracing::warn!("could not rehash an imported password");
        return user;
    };
    let updated = User { password_hash: new_hash, ..user.clone() };
    match app.store.update_user(&updated).await {
        Ok(()) => updated,
        Err(e) => {
            tracing::warn!(error = %e, "could not store a rehashed password");
            user
        }
    }
}

/// Adds one to the address's failure counter. Only failures count there:
/// the many people behind one shared address sign in successfully too.
async fn count_failure(app: &App, ip_key: Option<&str>, now: i64) -> Result<(), OAuthError> {
    let Some(key) = ip_key else {
        return Ok(());
    };
    let window_end = now + app.config.throttle_window;
    app.store
        .hit(key, window_end, now)
        .await
        .map(|_| ())
        .map_err(OAuthError::store("counting a failed sign-in"))
}
