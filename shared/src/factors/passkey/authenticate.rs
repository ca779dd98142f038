//! Signing in with a passkey: as the first factor with no name typed (a
//! discoverable passkey, offered in the browser's autofill or behind a
//! button), or for a person already known (a second factor, a step-up).

use serde_json::Value;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential,
    Uuid,
};

use super::{PasskeyError, amr_of, credential_id, options_json, passkey_field, relying_party, stored};
use crate::app::App;
use crate::domain::{Amr, Credential, CredentialData};

/// A passkey sign-in that checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The key of the passkey credential used ([`Credential::key`]).
    pub key: String,
    /// That credential as it was read.
    pub before: Credential,
    /// The same credential with its new counter, backup state and
    /// `last_used_at`, to store in place of `before` with a
    /// compare-and-swap (always `Some` on success).
    pub after: Option<Credential>,
    /// How the sign-in counts: `hwk` (device-bound) or `swk` (synced), with
    /// `user` and `mfa` (user verification is required).
    pub amr: Vec<Amr>,
}

/// Starts a passkey sign-in. `None`: anyone's discoverable passkey (no
/// `allowCredentials`; the browser offers the passkeys it holds for the RP
/// ID). `Some(creds)`: the passkeys among a known person's credentials
/// (those of other kinds are skipped; none is [`PasskeyError::Unknown`]).
///
/// Returns the options to send (`{"publicKey": {...}}`; the page chooses
/// the mediation) and the state to keep.
pub fn start_authentication(
    app: &App,
    creds: Option<&[Credential]>,
) -> Result<(Value, String), PasskeyError> {
    let rp = relying_party(app)?;
    let (options, state) = match creds {
        None => {
            let (options, state) =
                rp.start_discoverable_authentication().map_err(PasskeyError::from_webauthn)?;
            (options_json(options)?, serde_json::to_string(&state))
        }
        Some(creds) => {
            let passkeys = creds
                .iter()
                .filter_map(stored)
                .map(|s| s.map(|(_, passkey)| passkey))
                .collect::<Result<Vec<_>, _>>()?;
            if passkeys.is_empty() {
                return Err(PasskeyError::Unknown);
            }
            let (options, state) =
                rp.start_passkey_authentication(&passkeys).map_err(PasskeyError::from_webauthn)?;
            (options_json(options)?, serde_json::to_string(&state))
        }
    };
    let mut options = options;
    // webauthn-rs marks a discoverable request "conditional"; whether the
    // browser asks in its autofill or in a dialog is the page's choice.
    if let Some(map) = options.as_object_mut() {
        map.remove("mediation");
    }
    Ok((options, state.map_err(|e| PasskeyError::Setup(e.to_string()))?))
}

/// The user handle (a UUID, hyphenated) a discoverable passkey's answer
/// names, to find its person by [`crate::domain::Identifier::Passkey`]. Not
/// checked yet: [`finish_authentication`] proves it.
pub fn identify(credential_json: &str) -> Option<String> {
    let credential: PublicKeyCredential = serde_json::from_str(credential_json).ok()?;
    let handle = credential.get_user_unique_id()?;
    Uuid::from_slice(handle).ok().map(|u| u.hyphenated().to_string())
}

/// Finishes a passkey sign-in: checks the browser's `credential_json`
/// against the kept `state_json` and the passkey it names among `creds` (the
/// person's credentials as read now). `discoverable`: the ceremony was
/// started with `None` and `creds` are those of the person its user handle
/// names.
///
/// A passkey whose stored counter is above 0 must present a greater one
/// ([`PasskeyError::Cloned`] otherwise, WebAuthn Level 3 section 7.2 step 21).
pub fn finish_authentication(
    app: &App,
    state_json: &str,
    credential_json: &str,
    creds: &[Credential],
    discoverable: bool,
    now: i64,
) -> Result<Verified, PasskeyError> {
    let credential: PublicKeyCredential =
        serde_json::from_str(credential_json).map_err(|_| PasskeyError::Malformed)?;
    let id = credential_id(credential.get_credential_id());
    let before = creds
        .iter()
        .find(|c| c.id == id && matches!(c.data, CredentialData::Passkey(_)))
        .ok_or(PasskeyError::Unknown)?;
    let (data, mut passkey) = stored(before).ok_or(PasskeyError::Unknown)??;
    let unreadable = || PasskeyError::Setup("the authentication state cannot be read".into());
    let rp = relying_party(app)?;
    let result = if discoverable {
        // The person was found by the handle this answer names: it must name one.
        if credential.get_user_unique_id().is_none() {
            return Err(PasskeyError::Unknown);
        }
        let state: DiscoverableAuthentication = serde_json::from_str(state_json).map_err(|_| unreadable())?;
        rp.finish_discoverable_authentication_v2(&credential, state, &passkey)
    } else {
        let state: PasskeyAuthentication = serde_json::from_str(state_json).map_err(|_| unreadable())?;
        rp.finish_passkey_authentication(&credential, &state)
    }
    .map_err(PasskeyError::from_webauthn)?;
    check(&passkey, &result)?;
    passkey.update_credential(&result).ok_or(PasskeyError::Unknown)?;
    let backup_eligible = data.backup_eligible || result.backup_eligible();
    let mut after = before.clone();
    after.data = CredentialData::Passkey(super::PasskeyData {
        passkey: serde_json::to_string(&passkey).map_err(|e| PasskeyError::Setup(e.to_string()))?,
        label: data.label.clone(),
        backup_eligible,
        last_used_at: Some(now),
    });
    Ok(Verified {
        key: before.key(),
        before: before.clone(),
        after: Some(after),
        amr: amr_of(backup_eligible, result.user_verified()),
    })
}

/// What `webauthn-rs` checks already, checked against the passkey as stored
/// now (a non-discoverable state holds the passkeys as they were when the
/// ceremony started): the counter moved forward, the user was verified.
fn check(passkey: &Passkey, result: &AuthenticationResult) -> Result<(), PasskeyError> {
    let stored_counter = passkey_field(passkey, "counter").and_then(|v| v.as_u64()).unwrap_or(0);
    if stored_counter > 0 && u64::from(result.counter()) <= stored_counter {
        return Err(PasskeyError::Cloned);
    }
    if !result.user_verified() {
        return Err(PasskeyError::Refused(webauthn_rs::prelude::WebauthnError::UserNotVerified));
    }
    Ok(())
}
