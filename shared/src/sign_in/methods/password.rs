//! The password method: a username and password, checked with argon2id (or
//! an imported scheme, rehashed on success), throttled per account and per
//! client address. A browser the person signed in from before carries a
//! device cookie and is counted on its own (OWASP's device cookies), so
//! strangers' guesses cannot lock the person out of their own browser.

use async_trait::async_trait;
use http::StatusCode;
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use super::{Attempt, Fields, Method, Outcome, Retry, Success};
use crate::app::App;
use crate::crypto::{self, DUMMY_PASSWORD_HASH, MAX_PASSWORD_BYTES};
use crate::domain::{Amr, Credential, CredentialKind, Identifier, User};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, client_ip, cookie};
use crate::oauth::tokens;
use crate::secret::Password as Secret;
use crate::sign_in::session::SignedIn;
use crate::sign_in::{cookie_attributes, cookie_name, hashes, sealed};

/// What the page says after any failed sign-in: it does not tell an unknown
/// username from a wrong password.
pub const BAD_CREDENTIALS: &str = "The email, username or password is not right.";
/// What the page says while sign-ins are throttled.
pub const THROTTLED: &str = "Too many failed sign-ins. Wait a few minutes, then try again.";

/// Cookie marking a browser someone signed in from (named through [`cookie_name`]).
pub const DEVICE_COOKIE: &str = "za_device";
/// Signing purpose of the device cookie.
pub const DEVICE_PURPOSE: &str = "device";
/// How long a browser is remembered as one its person signed in from: 90 days.
pub const DEVICE_TTL: i64 = 90 * 24 * 3600;

/// A browser a person signed in from before: its failed sign-ins are
/// counted on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// The username signed in with.
    pub username: String,
    /// This cookie's random id, the key of its own failure counter.
    pub id: String,
    /// Epoch seconds after which the cookie is refused.
    pub exp: i64,
}

impl sealed::Expiring for Device {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The password method.
pub struct Password;

#[async_trait]
impl Method for Password {
    fn name(&self) -> &'static str {
        "password"
    }

    /// A typed identifier, unless a "Continue with …" button was pressed
    /// (the identifier may be filled in by a hint or the browser).
    fn chosen(&self, params: &Params) -> bool {
        params.get("username").ok().flatten().is_some()
            && params.get("provider").ok().flatten().is_none()
            && params.get("method").ok().flatten().is_none()
    }

    async fn sign_in<'a>(&self, a: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError> {
        let username = a.params.get_id("username")?.map(|u| u.trim().to_lowercase()).unwrap_or_default();
        let reads = read(a, &username).await?;
        let limits = &a.app.config;
        if reads.attempt > limits.max_failures_per_user || reads.ip_hits >= limits.max_failures_per_ip {
            return Ok(retry(StatusCode::TOO_MANY_REQUESTS, THROTTLED, None));
        }
        let password = Secret::new(a.params.get("password")?.unwrap_or(""));
        let stored = reads.found.as_ref().and_then(|(_, creds)| creds.first()).cloned();
        let ok = verify(&password, stored.as_ref().and_then(Credential::password_hash)).await?;
        match reads.found {
            // The attempt counted against the account is forgiven.
            Some((user, _)) if ok && user.is_active() => {
                if let Some(cred) = stored {
                    rehash(a.app, &cred, password).await;
                }
                Ok(Outcome::SignedIn(success(a, user, reads.device, reads.counter)?))
            }
            _ => {
                count_failure(a.app, reads.ip_key.as_deref(), a.now).await?;
                Ok(retry(StatusCode::UNAUTHORIZED, BAD_CREDENTIALS, Some(username)))
            }
        }
    }

    fn fields(&self, view: &Fields<'_>) -> Markup {
        html! {
            label for="username" { "Email or username" }
            input type="text" id="username" name="username" autocomplete="username webauthn" required
                value=[view.prefill] autofocus;
            label for="password" { "Password" }
            input type="password" id="password" name="password" autocomplete="current-password" required;
        }
    }
}

fn retry<'a>(status: StatusCode, message: &'static str, prefill: Option<String>) -> Outcome<'a> {
    Outcome::Retry(Retry { status, message, prefill })
}

/// What the method reads before deciding.
struct Reads {
    /// The browser's device cookie id, when it signed in as this person before.
    device: Option<String>,
    /// The account's (or the device's) failure counter.
    counter: String,
    ip_key: Option<String>,
    found: Option<(User, Vec<Credential>)>,
    /// This attempt's number in the account's window, counted before the
    /// password is checked.
    attempt: u32,
    ip_hits: u32,
}

/// Reads, all at once, the person and their password and the per-address
/// failure counter, while this attempt is counted against the account.
///
/// The account's counter is one atomic increment made *before* the password
/// is checked, so however many guesses arrive at once, at most the limit of
/// them are checked per window. If it cannot be counted, nothing is checked:
/// the sign-in fails closed with 503.
async fn read(a: &Attempt<'_>, username: &str) -> Result<Reads, OAuthError> {
    let device = device_for(a.app, a.req, username, a.now);
    let counter = match &device {
        Some(id) => format!("login:device:{id}"),
        None => format!("login:user:{username}"),
    };
    let ip_key = client_ip(a.req).map(|ip| format!("login:ip:{ip}"));
    let store = &a.app.store;
    let window_end = a.now + a.app.config.throttle_window;
    let id = identifier(username);
    let (found, attempt, ip_hits) = tokio::join!(
        store.sign_in_lookup(&id, CredentialKind::Password),
        store.hit(&counter, window_end, a.now),
        async {
            match &ip_key {
                Some(k) => store.hits(k, a.now).await,
                None => Ok(0),
            }
        }
    );
    let attempt = attempt.map_err(|e| {
        OAuthError::new(
            ErrorCode::TemporarilyUnavailable,
            "Signing in is unavailable for a moment. Try again.",
        )
        .with_cause(e)
    })?;
    let fault = OAuthError::store("reading the sign-in's person and counter");
    let (found, ip_hits) = match (found, ip_hits) {
        (Ok(f), Ok(b)) => (f, b),
        (Err(e), _) | (_, Err(e)) => return Err(fault(e)),
    };
    // A username may look like an address (imports often use addresses as
    // usernames): no person by that address, then the username.
    let found = match (found, &id) {
        (None, Identifier::Email(_)) => {
            let by_name = Identifier::Username(username.to_owned());
            let found = store.sign_in_lookup(&by_name, CredentialKind::Password).await;
            found.map_err(OAuthError::store("reading the sign-in's person"))?
        }
        (found, _) => found,
    };
    Ok(Reads { device, counter, ip_key, found, attempt, ip_hits })
}

/// What a typed sign-in name finds the person by: an email address when
/// it has an `@` and a dot after it, else a username.
pub fn identifier(typed: &str) -> Identifier {
    match typed.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => Identifier::email(typed),
        _ => Identifier::Username(typed.to_owned()),
    }
}

/// Checks the password against `hash`, or against a dummy hash when there
/// is none (an unknown username, a person without a password), so both
/// cost the same time.
async fn verify(password: &Secret, hash: Option<&str>) -> Result<bool, OAuthError> {
    if password.secret().len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let hash = hash.unwrap_or(DUMMY_PASSWORD_HASH).to_owned();
    let password = password.clone();
    tokio::task::spawn_blocking(move || hashes::verify(&password, &hash)).await.map_err(OAuthError::server)
}

/// The signed-in person, the device cookie to set and the counter to reset.
fn success<'a>(
    a: &Attempt<'a>,
    user: User,
    device: Option<String>,
    counter: String,
) -> Result<Success<'a>, OAuthError> {
    let app = a.app;
    let id = match device {
        Some(id) => id,
        None => tokens::rng(crypto::random_string(16))?,
    };
    let username = user.username.clone().unwrap_or_default();
    let device = Device { username, id, exp: a.now + DEVICE_TTL };
    let value = sealed::seal(&app.config.signing_key, DEVICE_PURPOSE, &device);
    let cookie =
        format!("{}={value}; {}", cookie_name(app, DEVICE_COOKIE), cookie_attributes(app, DEVICE_TTL, "Lax"));
    let cleanup = Box::pin(async move {
        if let Err(e) = app.store.clear(&counter).await {
            tracing::warn!(error = %e, "could not reset the failed sign-in counter");
        }
    });
    let who = SignedIn { user, auth_time: a.now, amr: vec![Amr::Pwd], idp: None };
    Ok(Success { who, cleanup: Some(cleanup), cookies: vec![cookie] })
}

/// The id of this browser's device cookie, if it has a valid one for `username`.
fn device_for(app: &App, req: &Request, username: &str, now: i64) -> Option<String> {
    let raw = cookie(req.headers(), &cookie_name(app, DEVICE_COOKIE))?;
    sealed::open::<Device>(&app.config.signing_key, DEVICE_PURPOSE, raw, now)
        .filter(|d| d.username == username)
        .map(|d| d.id)
}

/// A person imported with another server's hash gets ZeroAuth's argon2id
/// now that their password is known. The sign-in goes on if it fails: the
/// old hash still works next time. The epoch stays: it is the same password.
async fn rehash(app: &App, stored: &Credential, password: Secret) {
    if !stored.password_hash().is_some_and(hashes::needs_rehash) {
        return;
    }
    let hashed = tokio::task::spawn_blocking(move || crypto::hash_password(&password)).await;
    let Ok(Ok(new_hash)) = hashed else {
        tracing::warn!("could not rehash an imported password");
        return;
    };
    let updated = Credential::password(&stored.sub, new_hash, stored.created_at);
    if let Err(e) = app.store.put_credential(&updated).await {
        tracing::warn!(error = %e, "could not store a rehashed password");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Params {
        crate::http::parse_form(body.as_bytes()).unwrap_or_default()
    }

    #[test]
    fn the_method_is_chosen_by_a_posted_username() {
        let cases = [
            ("username=alice&password=x&decision=approve", true),
            ("username=&decision=approve", false),
            ("decision=approve", false),
            ("password=x&decision=approve", false),
        ];
        for (body, want) in cases {
            assert_eq!(Password.chosen(&form(body)), want, "{body}");
        }
    }

    #[test]
    fn its_fields_escape_the_prefill() {
        let html = Password.fields(&Fields { prefill: Some("\"><script>") }).into_string();
        assert!(html.contains("name=\"username\"") && html.contains("name=\"password\""));
        assert!(!html.contains("<script>"));
    }
}
