//! Adding a passkey: the creation options, then the new credential.

use serde_json::Value;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use super::{
    DEFAULT_LABEL, MAX_LABEL_CHARS, PasskeyError, credential_id, options_json, passkey_field, relying_party,
    stored,
};
use crate::app::App;
use crate::domain::{Credential, CredentialData, PasskeyData, User};

/// Starts adding a passkey for `user` under the user handle `handle`
/// ([`super::user_handle`]), excluding the passkeys in `existing` (the
/// person's credentials; those of other kinds are skipped). Returns the
/// options to send (`{"publicKey": {...}}`) and the state to keep.
pub fn start_registration(
    app: &App,
    user: &User,
    handle: Uuid,
    existing: &[Credential],
) -> Result<(Value, String), PasskeyError> {
    let rp = relying_party(app)?;
    let exclude = existing
        .iter()
        .filter_map(stored)
        .map(|s| s.map(|(_, passkey)| passkey.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let name = user.display_name();
    let display = user.name.as_deref().unwrap_or(name);
    let (options, state) = rp
        .start_passkey_registration(handle, name, display, Some(exclude))
        .map_err(PasskeyError::from_webauthn)?;
    let mut options = options_json(options)?;
    // webauthn-rs asks for a server-side credential ("discouraged") and
    // learns through credProps what it got; a discoverable one is what lets
    // a person sign in without typing a name, so ask for it where it is cheap.
    if let Some(selection) = options.pointer_mut("/publicKey/authenticatorSelection") {
        selection["residentKey"] = Value::from("preferred");
        selection["requireResidentKey"] = Value::from(false);
    }
    let state = serde_json::to_string(&state).map_err(|e| PasskeyError::Setup(e.to_string()))?;
    Ok((options, state))
}

/// Finishes adding a passkey: checks the browser's `credential_json`
/// against the kept `state_json`, and returns the credential to store for
/// `sub`, named `label` (trimmed; [`DEFAULT_LABEL`] when empty or longer
/// than [`MAX_LABEL_CHARS`]).
///
/// The caller must still refuse a credential id another person registered.
pub fn finish_registration(
    app: &App,
    state_json: &str,
    credential_json: &str,
    label: &str,
    sub: &str,
    now: i64,
) -> Result<Credential, PasskeyError> {
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(credential_json).map_err(|_| PasskeyError::Malformed)?;
    let state: PasskeyRegistration = serde_json::from_str(state_json)
        .map_err(|_| PasskeyError::Setup("the registration state cannot be read".into()))?;
    let passkey = relying_party(app)?
        .finish_passkey_registration(&credential, &state)
        .map_err(PasskeyError::from_webauthn)?;
    let backup_eligible =
        passkey_field(&passkey, "backup_eligible").and_then(|v| v.as_bool()).unwrap_or(false);
    let json = serde_json::to_string(&passkey).map_err(|e| PasskeyError::Setup(e.to_string()))?;
    Ok(Credential {
        sub: sub.to_owned(),
        id: credential_id(passkey.cred_id()),
        data: CredentialData::Passkey(PasskeyData {
            passkey: json,
            label: clean_label(label),
            backup_eligible,
            last_used_at: None,
        }),
        created_at: now,
    })
}

/// `label` trimmed, without control characters; [`DEFAULT_LABEL`] when that
/// leaves nothing or more than [`MAX_LABEL_CHARS`] characters.
pub(super) fn clean_label(label: &str) -> String {
    let label: String = label.chars().filter(|c| !c.is_control()).collect();
    let label = label.trim();
    match label.chars().count() {
        1..=MAX_LABEL_CHARS => label.to_owned(),
        _ => DEFAULT_LABEL.to_owned(),
    }
}
