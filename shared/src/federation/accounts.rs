//! What an upstream identity finds or makes (SPEC.md sections 10 and 11):
//! the person it is linked to; else, when its *verified* address is an
//! existing person's, an offer to link that the person must accept by
//! proving the account; else a new person, when the provider and the
//! deployment's sign-up policy allow. Linking is never automatic, an
//! address the provider did not verify never finds anyone, and an
//! unverified local account holding the address is reset (its password
//! removed, its sessions and tokens ended) and handed to the verified owner.

use crate::app::App;
use crate::config::self_service::SignUp;
use crate::crypto;
use crate::domain::{Credential, Identifier, Provider, UpstreamLink, UpstreamProfile, User};
use crate::error::OAuthError;
use crate::store::StoreError;

/// What the identity came to.
#[derive(Debug)]
pub enum Found {
    /// The person to sign in (linked before, or made just now).
    Person(User),
    /// The identity is new and its verified address is this person's: they
    /// prove the account before it is linked.
    Link(User),
    /// Nobody, and nobody may be made: what the page says.
    Refused(&'static str),
}

/// What the page says when the provider may not make new people.
pub const NOT_LINKED: &str = "There is no account for this identity here, and new accounts cannot be \
     created with it. Sign in another way, or ask the operator for an account.";
/// What the page says when the person's organisation may not sign in.
pub const OTHER_TENANT: &str = "Accounts of your organisation cannot sign in here. Sign in another way.";
/// What the page says when a disabled person's identity signs in.
pub const DISABLED: &str = "This account cannot sign in.";

/// The link an identity makes.
pub fn link_of(profile: &UpstreamProfile, now: i64) -> UpstreamLink {
    UpstreamLink {
        provider: profile.provider.clone(),
        issuer: profile.issuer.clone(),
        subject: profile.subject.clone(),
        linked_at: now,
    }
}

/// Finds what `profile` signs in as, making or resetting a person when
/// `provider` and the sign-up policy allow.
pub async fn resolve(app: &App, provider: &Provider, profile: &UpstreamProfile) -> Result<Found, OAuthError> {
    let store = &app.store;
    // Entra: only the tenants the operator named, when they named any.
    let tenant = profile.tenant.as_deref().unwrap_or_default();
    if !provider.tenants.is_empty() && !provider.tenants.iter().any(|t| t == tenant) {
        return Ok(Found::Refused(OTHER_TENANT));
    }
    let identity = link_of(profile, app.now()).identifier();
    let read = |e| OAuthError::store("reading the person")(e);
    if let Some(sub) = store.find_identifier(&identity).await.map_err(read)? {
        return Ok(match store.get_person(&sub, None).await.map_err(read)? {
            Some(p) if p.is_active() => Found::Person(p),
            _ => Found::Refused(DISABLED),
        });
    }
    if let Some(address) = profile.verified_email() {
        let owner = store.find_identifier(&Identifier::email(address)).await.map_err(read)?;
        if let Some(sub) = owner {
            let Some(person) = store.get_person(&sub, None).await.map_err(read)? else {
                return Ok(Found::Refused(NOT_LINKED));
            };
            if !person.is_active() {
                return Ok(Found::Refused(DISABLED));
            }
            if person.email_verified {
                return Ok(Found::Link(person));
            }
            // The address's verified owner takes over an unverified account
            // where they could make one, or where an operator invited it.
            let invited = app.config.self_service.sign_up == SignUp::Invite && provider.sign_up;
            if !may_create(app, provider, profile) && !invited {
                return Ok(Found::Refused(NOT_LINKED));
            }
            return reclaim(app, person, profile).await.map(Found::Person);
        }
    }
    if !may_create(app, provider, profile) {
        return Ok(Found::Refused(NOT_LINKED));
    }
    create(app, profile).await
}

/// Whether a first sign-in through `provider` may make a person: the
/// provider allows it, sign-up is open, and a domain list (if any) has the
/// verified address's domain.
pub fn may_create(app: &App, provider: &Provider, profile: &UpstreamProfile) -> bool {
    let policy = &app.config.self_service;
    let domain_ok = policy.domains.is_empty()
        || profile
            .verified_email()
            .and_then(|a| a.rsplit_once('@'))
            .is_some_and(|(_, d)| policy.allows_domain(&d.to_ascii_lowercase()));
    provider.sign_up && policy.sign_up == SignUp::Open && domain_ok
}

/// A new person with the identity (and its verified address, if any),
/// all claimed at once.
async fn create(app: &App, profile: &UpstreamProfile) -> Result<Found, OAuthError> {
    let now = app.now();
    let random = crypto::random_string(12).map_err(OAuthError::server)?;
    let person = User {
        sub: format!("za_user_{random}"),
        username: None,
        email: profile.verified_email().map(str::to_owned),
        email_verified: true,
        name: profile.name.clone(),
        disabled: false,
        created_at: now,
        epoch: 0,
        tokens_revoked_at: 0,
        upstream: vec![link_of(profile, now)],
        passkey_user: None,
    };
    match app.store.create_person(&person, &[]).await {
        Ok(()) => Ok(Found::Person(person)),
        // The identity or the address was claimed a moment ago (the same
        // person signing in twice at once): try again from the start.
        Err(StoreError::Conflict(_)) => Err(OAuthError::invalid_request(
            "This account was just created in another window. Start again from the application.",
        )),
        Err(e) => Err(OAuthError::store("creating the person")(e)),
    }
}

/// The unverified account holding a verified owner's address becomes the
/// owner's, in one transaction: its password goes, the identity is linked,
/// and the epoch and the tokens' revocation time move on (every session and
/// token family ends) — only if nothing changed it since it was read.
async fn reclaim(app: &App, person: User, profile: &UpstreamProfile) -> Result<User, OAuthError> {
    let now = app.now();
    let link = link_of(profile, now);
    let id = link.identifier();
    let read_epoch = person.epoch;
    let mut owned = person;
    owned.email_verified = true;
    owned.epoch += 1;
    owned.tokens_revoked_at = now;
    owned.upstream.push(link);
    if owned.name.is_none() {
        owned.name = profile.name.clone();
    }
    let password = format!("password:{}", Credential::PASSWORD_ID);
    let written = app.store.link_identifier(&owned, &id, read_epoch, Some(&password)).await;
    written.map_err(linking_failed)?;
    tracing::info!(sub = %owned.sub, provider = %profile.provider, "an unverified account was reset for its address's verified owner");
    Ok(owned)
}

/// A link that did not happen: raced by another change (the page asks to
/// start again), or the store failed.
fn linking_failed(e: StoreError) -> OAuthError {
    match e {
        StoreError::Conflict(_) => OAuthError::invalid_request(
            "This account changed a moment ago (another sign-in or change). Start again from the application.",
        ),
        e => OAuthError::store("linking the identity")(e),
    }
}

/// Links the identity to `person`, who just proved the account.
pub async fn link(app: &App, person: &User, profile: &UpstreamProfile) -> Result<User, OAuthError> {
    let link = link_of(profile, app.now());
    let id = link.identifier();
    let mut linked = person.clone();
    if !linked.upstream.iter().any(|l| l.identifier() == id) {
        linked.upstream.push(link);
    }
    app.store.link_identifier(&linked, &id, person.epoch, None).await.map_err(linking_failed)?;
    Ok(linked)
}
