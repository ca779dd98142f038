//! The second step of a sign-in: after a first factor (or a session) the
//! person proves a second one when the deployment or the client requires it,
//! when they set one up (policy `optional`), or when the client asked for
//! more with `acr_values` — and only what is missing is asked for (a
//! session with a password is not asked for the password again).
//!
//! The first factor's result travels sealed in the factor page
//! ([`FactorStep`]), bound to the interaction's form (and so to the CSRF
//! cookie): nothing is written until a factor passes, and a code is issued
//! only by [`proceed`], which a posted step reaches only through a factor's
//! check.

use serde::{Deserialize, Serialize};

use super::finish::complete;
use super::interaction::PendingRequest;
use super::methods::Success;
use super::sealed;
use super::self_service::account;
use super::session::SignedIn;
use crate::app::App;
use crate::crypto;
use crate::domain::{Acr, Amr, Client, Credential, CredentialKind, FactorPolicy, User};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response};
use crate::oauth::tokens;

pub mod enrol;
pub mod page;

/// Signing purpose of the sealed step.
pub const STEP_PURPOSE: &str = "second-factor";
/// How long the factor page stays good: 10 minutes.
pub const STEP_TTL: i64 = 600;

/// A sign-in part-way: who passed which factor, what level is needed, and
/// the interaction's form it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorStep {
    /// The person.
    pub sub: String,
    /// Their credential epoch when the first factor passed: a change since
    /// (a reset, a sign-out) ends the step.
    pub epoch: i64,
    /// When the first factor passed.
    pub auth_time: i64,
    /// How (RFC 8176).
    pub amr: Vec<Amr>,
    /// The upstream provider of the first factor, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The level the sign-in must reach.
    pub need: Acr,
    /// The interaction's form id: the step is good only with that request.
    pub form: String,
    /// This step's random id (it keys the mailed code of an email factor).
    pub id: String,
    /// Epoch seconds after which the step is refused.
    pub exp: i64,
}

impl sealed::Expiring for FactorStep {
    fn exp(&self) -> i64 {
        self.exp
    }
}

impl FactorStep {
    /// The step for `who`, needing `need`, in `pending`'s interaction.
    pub fn new(who: &SignedIn, need: Acr, pending: &PendingRequest, now: i64) -> Result<Self, OAuthError> {
        Ok(Self {
            sub: who.user.sub.clone(),
            epoch: who.user.epoch,
            auth_time: who.auth_time,
            amr: who.amr.clone(),
            idp: who.idp.clone(),
            need,
            form: pending.form.clone(),
            id: tokens::rng(crypto::random_string(16))?,
            exp: (now + STEP_TTL).min(pending.exp.max(now + 60)),
        })
    }

    /// Sealed for the page.
    pub fn seal(&self, app: &App) -> String {
        sealed::seal(&app.config.signing_key, STEP_PURPOSE, self)
    }

    /// The person signed in by this step and `factor` (`amr` of the second
    /// factor) at `now`: both factors' `amr` and `mfa`.
    pub fn passed(&self, user: User, factor: &[Amr], now: i64) -> SignedIn {
        let mut amr = self.amr.clone();
        for a in factor.iter().chain([&Amr::Mfa]) {
            if !amr.contains(a) {
                amr.push(*a);
            }
        }
        SignedIn { user, auth_time: now, amr, idp: self.idp.clone() }
    }
}

/// A posted step, opened: it must verify, be unexpired and belong to the
/// interaction `pending` (its form).
pub fn open(
    app: &App,
    sealed_step: &str,
    pending: &PendingRequest,
    now: i64,
) -> Result<FactorStep, OAuthError> {
    sealed::open::<FactorStep>(&app.config.signing_key, STEP_PURPOSE, sealed_step, now)
        .filter(|s| crypto::ct_eq(&s.form, &pending.form))
        .ok_or_else(|| {
            OAuthError::invalid_request(
                "This sign-in page has expired or was altered. Start again from the application.",
            )
        })
}

/// The person's second factors, read at once.
#[derive(Debug, Clone, Default)]
pub struct Factors {
    /// Their passkeys.
    pub passkeys: Vec<Credential>,
    /// Their TOTP app, if set up.
    pub totp: Option<Credential>,
    /// How many recovery codes they have left.
    pub recovery: usize,
    /// Their verified address, when codes can be mailed to it.
    pub email: Option<String>,
}

impl Factors {
    /// Whether the person set up a factor of their own (a mailed code is
    /// not one: it is there for everyone with a verified address).
    pub fn enrolled(&self) -> bool {
        !self.passkeys.is_empty() || self.totp.is_some()
    }

    /// Whether any factor reaches `need`.
    pub fn can_reach(&self, need: Acr) -> bool {
        match need {
            Acr::Single => true,
            Acr::Multi => self.enrolled() || self.email.is_some(),
            Acr::PhishingResistant => !self.passkeys.is_empty(),
        }
    }
}

/// Reads the person's factors: passkeys, TOTP and recovery codes at once.
pub async fn factors(app: &App, user: &User) -> Result<Factors, OAuthError> {
    let store = &app.store;
    let (passkeys, totp, recovery) = tokio::join!(
        store.get_credentials(&user.sub, CredentialKind::Passkey),
        store.get_credentials(&user.sub, CredentialKind::Totp),
        store.get_credentials(&user.sub, CredentialKind::Recovery),
    );
    const READ: &str = "reading the person's factors";
    let email = user.email.clone().filter(|_| user.email_verified && app.mail_enabled());
    Ok(Factors {
        passkeys: passkeys.map_err(OAuthError::store(READ))?,
        totp: totp.map_err(OAuthError::store(READ))?.into_iter().next(),
        recovery: recovery.map_err(OAuthError::store(READ))?.len(),
        email,
    })
}

/// The second-factor policy for `client`'s sign-ins.
pub fn policy(app: &App, client: &Client) -> FactorPolicy {
    client.tokens.second_factor.unwrap_or(app.config.factors.policy)
}

/// Whether `who` must prove more before `pending`'s code is issued: the
/// level needed and the person's factors, or `None`. Reads nothing when
/// the sign-in is strong enough whatever the person has.
pub async fn due(
    app: &App,
    client: &Client,
    pending: &PendingRequest,
    who: &SignedIn,
) -> Result<Option<(Acr, Factors)>, OAuthError> {
    let policy = policy(app, client);
    let have = Acr::of(&who.amr);
    let asked = pending.acr.unwrap_or(Acr::Single);
    if have >= asked && (have >= Acr::Multi || policy == FactorPolicy::Off) {
        return Ok(None);
    }
    let factors = factors(app, &who.user).await?;
    let by_policy = match policy {
        FactorPolicy::Required => Acr::Multi,
        FactorPolicy::Optional if factors.enrolled() => Acr::Multi,
        _ => Acr::Single,
    };
    let need = asked.max(by_policy);
    Ok((have < need).then_some((need, factors)))
}

/// Where a sign-in goes once a method (or a factor, or the session) let the
/// person in: verify their address first if the deployment holds them back,
/// then the second step if one is due, else the code.
pub async fn proceed(
    app: &App,
    req: &Request,
    client: &Client,
    pending: &PendingRequest,
    done: Success<'_>,
) -> Result<Response, OAuthError> {
    if account::needs_verification(app, &done.who.user) {
        return account::ask_to_verify(app, req, pending, &done.who.user).await;
    }
    match due(app, client, pending, &done.who).await? {
        Some((need, factors)) => {
            let step = FactorStep::new(&done.who, need, pending, app.now())?;
            page::ask(app, None, client, pending, &step, &factors, None)
        }
        None => complete(app, client, pending, done).await,
    }
}

/// After a method whose button was not the consent form's "Allow" (a
/// passkey, a mailed code): the person is signed in, and an untrusted
/// client's consent page comes next, as after an upstream provider; its
/// "Allow" goes on through [`proceed`]. A trusted client goes on at once.
pub async fn consent_then_proceed(
    app: &App,
    req: &Request,
    client: &Client,
    pending: &PendingRequest,
    done: Success<'_>,
) -> Result<Response, OAuthError> {
    if client.is_trusted() {
        return proceed(app, req, client, pending, done).await;
    }
    let Success { who, cleanup, cookies } = done;
    if let Some(c) = cleanup {
        c.await;
    }
    let back = serde_json::to_string(pending).map_err(OAuthError::server)?;
    let mut res = account::resume(app, req, &back, Some(who), None).await?;
    for c in cookies {
        crate::http::set_cookie(&mut res, &c);
    }
    Ok(res)
}

/// `prompt=none` cannot show the factor page.
pub fn interaction_required() -> OAuthError {
    OAuthError::new(ErrorCode::InteractionRequired, "prompt=none was asked but a second factor is needed")
}
