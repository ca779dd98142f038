//! Passkeys (WebAuthn, SPEC.md section 11) on `webauthn-rs`'s passkey
//! ceremonies: user verification required, attestation `none`, a
//! discoverable credential preferred (the browser reports it through
//! `credProps`), a person's own passkeys excluded when they add one.
//!
//! Each ceremony is two calls: `start_*` gives the options to send the
//! browser and the state to keep server-side (a [`crate::domain::Ceremony`],
//! consumed once); `finish_*` checks the browser's answer against that state.
//! The relying party comes from the configuration only ([`relying_party`]),
//! never from a request's `Host`. [`SCRIPT`] is the page script that runs the
//! browser's side; pages inline it under [`script_hash`] in their CSP.
//!
//! Nothing here logs: the passkeys' public keys and the ceremony states stay
//! out of the logs, and an error names only what went wrong.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Passkey, Url, Uuid, WebauthnError};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::app::App;
use crate::crypto;
use crate::domain::{Amr, Credential, CredentialData, PasskeyData, User};

mod authenticate;
mod register;
#[cfg(test)]
mod tests;

pub use authenticate::{Verified, finish_authentication, identify, start_authentication};
pub use register::{finish_registration, start_registration};

/// The name authenticators show when `ZEROAUTH_RP_NAME` is not set.
pub const DEFAULT_RP_NAME: &str = "ZeroAuth";

/// The label of a passkey whose person gave it none (or one longer than
/// [`MAX_LABEL_CHARS`]).
pub const DEFAULT_LABEL: &str = "Passkey";

/// The longest label a passkey may have, in characters.
pub const MAX_LABEL_CHARS: usize = 64;

/// The page script: it runs the ceremony of a form marked
/// `data-passkey="get"` or `"create"` (options from its `data-options` URL,
/// the credential's JSON into its hidden `credential` input), and offers
/// passkeys in the browser's autofill for a form marked
/// `data-passkey-autofill`. Inline it unescaped, as it is: the CSP allows it
/// by [`script_hash`].
pub const SCRIPT: &str = include_str!("passkey.js");

/// Why a passkey ceremony failed, in words a page can pass on.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The answer does not prove the passkey: a bad signature, another
    /// ceremony's challenge, another site's origin or RP ID, no user
    /// verification.
    #[error("the passkey's answer was refused ({0})")]
    Refused(WebauthnError),
    /// The passkey's signature counter did not move forward: the passkey may
    /// have been copied.
    #[error("the passkey's signature counter did not move forward: it may have been copied")]
    Cloned,
    /// The passkey is not one of the person's (or not registered here).
    #[error("the passkey is not registered for this account")]
    Unknown,
    /// The browser's answer is not a WebAuthn credential.
    #[error("the browser's answer is not a passkey credential")]
    Malformed,
    /// The relying party is misconfigured, or a stored passkey or ceremony
    /// state cannot be read: a server fault.
    #[error("passkeys are not set up correctly on this server: {0}")]
    Setup(String),
}

impl PasskeyError {
    /// `webauthn-rs`'s refusal as one of ours.
    fn from_webauthn(e: WebauthnError) -> Self {
        match e {
            WebauthnError::CredentialPossibleCompromise => Self::Cloned,
            WebauthnError::CredentialNotFound => Self::Unknown,
            WebauthnError::Configuration => Self::Setup("the relying party is invalid".into()),
            WebauthnError::ParseJSONFailure(_)
            | WebauthnError::ParseCBORFailure(_)
            | WebauthnError::ParseBase64Failure(_)
            | WebauthnError::ParseNOMFailure => Self::Malformed,
            other => Self::Refused(other),
        }
    }
}

/// The relying party: the configured RP ID (`ZEROAUTH_RP_ID`, else the
/// issuer's host), the configured origins (the first one, then the rest
/// appended; each must lie under the RP ID) and name.
pub fn relying_party(app: &App) -> Result<Webauthn, PasskeyError> {
    let factors = &app.config.factors;
    let issuer = &app.config.issuer;
    let rp_id = factors.rp_id(issuer);
    let origins = factors
        .origins(issuer)
        .iter()
        .map(|o| Url::parse(o).map_err(|_| PasskeyError::Setup(format!("origin {o:?} is not a URL"))))
        .collect::<Result<Vec<_>, _>>()?;
    let (first, rest) =
        origins.split_first().ok_or_else(|| PasskeyError::Setup("no origin is configured".into()))?;
    let outside =
        |o: &Url| PasskeyError::Setup(format!("origin {} is not under the RP ID {rp_id}", o.as_str()));
    let mut builder = WebauthnBuilder::new(&rp_id, first).map_err(|_| outside(first))?;
    for origin in rest {
        // The builder checks its first origin only; the others must pass the
        // same check, or a browser would refuse every ceremony from them.
        WebauthnBuilder::new(&rp_id, origin).map_err(|_| outside(origin))?;
        builder = builder.append_allowed_origin(origin);
    }
    builder
        .rp_name(factors.rp_name.as_deref().unwrap_or(DEFAULT_RP_NAME))
        .build()
        .map_err(PasskeyError::from_webauthn)
}

/// The person's WebAuthn user handle: their `passkey_user`, or a fresh
/// random (v4) UUID before their first passkey (the caller then stores it on
/// the person and claims its [`crate::domain::Identifier::Passkey`]).
pub fn user_handle(user: &User) -> Result<Uuid, PasskeyError> {
    if let Some(handle) = &user.passkey_user {
        return Uuid::parse_str(handle)
            .map_err(|_| PasskeyError::Setup("the person's passkey user handle is not a UUID".into()));
    }
    let random = crypto::random_bytes(16).map_err(|e| PasskeyError::Setup(e.to_string()))?;
    let mut bytes: [u8; 16] =
        random.try_into().map_err(|_| PasskeyError::Setup("the random source gave too few bytes".into()))?;
    // RFC 9562 5.4: version 4, variant 10.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    Ok(Uuid::from_bytes(bytes))
}

/// The `script-src` source of [`SCRIPT`]: `'sha256-<base64 of its SHA-256>'`.
pub fn script_hash() -> String {
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(SCRIPT.as_bytes())))
}

/// The credential id of a passkey's WebAuthn credential id: the digest of its
/// base64url form (a table sort key is at most 1024 bytes; a WebAuthn
/// credential id may be 1023).
pub fn credential_id(webauthn_id: &[u8]) -> String {
    crypto::digest(&URL_SAFE_NO_PAD.encode(webauthn_id))
}

/// A stored passkey credential's data and its `webauthn-rs` passkey.
fn stored(cred: &Credential) -> Option<Result<(&PasskeyData, Passkey), PasskeyError>> {
    match &cred.data {
        CredentialData::Passkey(data) => Some(
            serde_json::from_str(&data.passkey)
                .map(|p| (data, p))
                .map_err(|_| PasskeyError::Setup("a stored passkey cannot be read".into())),
        ),
        _ => None,
    }
}

/// A field of the credential inside a passkey's JSON (`webauthn-rs` keeps
/// its counter and backup flags private without `danger-credential-internals`).
fn passkey_field(passkey: &Passkey, name: &str) -> Option<Value> {
    serde_json::to_value(passkey).ok()?.get("cred")?.get(name).cloned()
}

/// The options as sent to the browser: `{"publicKey": {...}}` without the
/// `null` members `webauthn-rs` writes (the browser's JSON parsers refuse a
/// `null` where they expect a list).
fn options_json(options: impl serde::Serialize) -> Result<Value, PasskeyError> {
    let mut value = serde_json::to_value(options).map_err(|e| PasskeyError::Setup(e.to_string()))?;
    strip_nulls(&mut value);
    Ok(value)
}

fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// How a passkey sign-in counts: a synced passkey is a software key, a
/// device-bound one hardware; with user verification it is two factors.
fn amr_of(backup_eligible: bool, user_verified: bool) -> Vec<Amr> {
    let key = if backup_eligible { Amr::Swk } else { Amr::Hwk };
    if user_verified { vec![key, Amr::User, Amr::Mfa] } else { vec![key] }
}
