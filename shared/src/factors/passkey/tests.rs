//! What can be checked without an authenticator: the relying party from the
//! configuration, the options sent, the refusals of malformed answers, the
//! script's hash. The ceremonies themselves are tested against a software
//! authenticator in `tests/tests/passkeys.rs`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::register::clean_label;
use super::*;
use crate::config::Config;
use crate::domain::Credential;
use crate::secret::SigningKey;
use crate::store::memory::MemoryStore;

fn app_with(issuer: &str, edit: impl FnOnce(&mut Config)) -> App {
    let mut config = Config::new(issuer, SigningKey::new(vec![7; 32]));
    edit(&mut config);
    App::new(Arc::new(MemoryStore::new()), config)
}

fn app() -> App {
    app_with("https://auth.example.com", |_| {})
}

fn person(passkey_user: Option<&str>) -> User {
    User {
        sub: "sub-1".into(),
        username: Some("claire".into()),
        email: None,
        email_verified: false,
        name: Some("Claire".into()),
        disabled: false,
        created_at: 0,
        epoch: 0,
        tokens_revoked_at: 0,
        upstream: Vec::new(),
        passkey_user: passkey_user.map(str::to_owned),
    }
}

/// A stored passkey as `webauthn-rs` serialises one (the key is the
/// WebAuthn specification's example point; it is never used to verify).
fn stored_passkey(sub: &str, raw_id: &[u8]) -> Credential {
    let passkey = json!({"cred": {
        "cred_id": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw_id),
        "cred": {"type_": "ES256", "key": {"EC_EC2": {"curve": "SECP256R1", "x": (vec![1u8; 32]), "y": (vec![2u8; 32])}}},
        "counter": 0, "transports": null, "user_verified": true,
        "backup_eligible": false, "backup_state": false, "registration_policy": "required",
        "extensions": {}, "attestation": {"data": "None", "metadata": "None"}, "attestation_format": "none"
    }});
    Credential {
        sub: sub.into(),
        id: credential_id(raw_id),
        data: CredentialData::Passkey(PasskeyData {
            passkey: passkey.to_string(),
            label: "Laptop".into(),
            backup_eligible: false,
            last_used_at: None,
        }),
        created_at: 0,
    }
}

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.values().any(has_null),
        Value::Array(a) => a.iter().any(has_null),
        _ => false,
    }
}

#[test]
fn the_relying_party_comes_from_the_configuration() {
    assert!(relying_party(&app()).is_ok());
    let rp = relying_party(&app_with("https://auth.example.com", |c| {
        c.factors.rp_id = Some("example.com".into());
        c.factors.origins = vec!["https://auth.example.com".into(), "https://login.example.com".into()];
    }));
    let origins: Vec<String> =
        rp.map(|rp| rp.get_allowed_origins().iter().map(|u| u.as_str().to_owned()).collect()).unwrap();
    assert_eq!(origins, ["https://auth.example.com/", "https://login.example.com/"]);
}

#[test]
fn a_relying_party_outside_its_origins_is_a_setup_error() {
    let other_id = app_with("https://auth.example.com", |c| c.factors.rp_id = Some("example.org".into()));
    assert!(matches!(relying_party(&other_id), Err(PasskeyError::Setup(_))));
    let extra = app_with("https://auth.example.com", |c| {
        c.factors.origins = vec!["https://auth.example.com".into(), "https://evil.example.net".into()];
    });
    assert!(matches!(relying_party(&extra), Err(PasskeyError::Setup(_))));
    // A suffix that is not a parent domain is not under the RP ID.
    let suffix = app_with("https://myexample.com", |c| c.factors.rp_id = Some("example.com".into()));
    assert!(matches!(relying_party(&suffix), Err(PasskeyError::Setup(_))));
}

#[test]
fn creation_options_require_verification_and_exclude_the_persons_passkeys() {
    let user = person(None);
    let handle = user_handle(&user).unwrap();
    let existing = [stored_passkey("sub-1", b"first-key"), Credential::password("sub-1", "$x".into(), 0)];
    let (options, state) = start_registration(&app(), &user, handle, &existing).unwrap();
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"], json!({"id": "auth.example.com", "name": DEFAULT_RP_NAME}));
    assert_eq!(pk["user"]["name"], "claire");
    assert_eq!(pk["user"]["displayName"], "Claire");
    assert_eq!(pk["user"]["id"], json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(handle)));
    assert_eq!(pk["attestation"], "none");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(pk["extensions"]["credProps"], true);
    assert_eq!(pk["excludeCredentials"], json!([{"type": "public-key", "id": "Zmlyc3Qta2V5"}]));
    assert!(pk["pubKeyCredParams"].as_array().is_some_and(|p| p.iter().any(|a| a["alg"] == -7)));
    assert!(!has_null(&options), "{options}");
    assert!(!state.is_empty());
}

#[test]
fn request_options_require_verification() {
    let (discoverable, _) = start_authentication(&app(), None).unwrap();
    let pk = &discoverable["publicKey"];
    assert_eq!(pk["rpId"], "auth.example.com");
    assert_eq!(pk["userVerification"], "required");
    assert_eq!(pk["allowCredentials"], json!([]));
    assert!(discoverable.get("mediation").is_none(), "the page chooses the mediation");
    assert!(!has_null(&discoverable));

    let creds = [stored_passkey("sub-1", b"first-key")];
    let (known, _) = start_authentication(&app(), Some(&creds)).unwrap();
    assert_eq!(known["publicKey"]["allowCredentials"][0]["id"], "Zmlyc3Qta2V5");
    assert_eq!(known["publicKey"]["userVerification"], "required");
    assert!(!has_null(&known));

    let none: &[Credential] = &[Credential::password("sub-1", "$x".into(), 0)];
    assert!(matches!(start_authentication(&app(), Some(none)), Err(PasskeyError::Unknown)));
}

#[test]
fn malformed_answers_are_refused_as_malformed() {
    let app = app();
    let user = person(None);
    let (_, reg_state) = start_registration(&app, &user, user_handle(&user).unwrap(), &[]).unwrap();
    let (_, auth_state) = start_authentication(&app, None).unwrap();
    let creds = [stored_passkey("sub-1", b"first-key")];
    for bad in ["", "{", "null", "{\"id\":\"x\"}", "{\"rawId\":\"!!\",\"type\":\"public-key\"}"] {
        let reg = finish_registration(&app, &reg_state, bad, "Laptop", "sub-1", 0);
        assert!(matches!(reg, Err(PasskeyError::Malformed)), "{bad}: {reg:?}");
        let auth = finish_authentication(&app, &auth_state, bad, &creds, true, 0);
        assert!(matches!(auth, Err(PasskeyError::Malformed)), "{bad}: {auth:?}");
        assert_eq!(identify(bad), None);
    }
}

#[test]
fn user_handles_are_kept_or_made_fresh() {
    let kept = "0b7d2f0e-5c1a-4c3e-9d5e-2a4f6b8c0d1e";
    assert_eq!(user_handle(&person(Some(kept))).unwrap().to_string(), kept);
    assert!(matches!(user_handle(&person(Some("not-a-uuid"))), Err(PasskeyError::Setup(_))));
    let (a, b) = (user_handle(&person(None)).unwrap(), user_handle(&person(None)).unwrap());
    assert_ne!(a, b);
    assert_eq!(a.get_version_num(), 4);
    assert_eq!(a.get_variant(), webauthn_rs::prelude::Uuid::NAMESPACE_DNS.get_variant());
}

#[test]
fn labels_are_trimmed_or_defaulted() {
    assert_eq!(clean_label("  Work laptop "), "Work laptop");
    assert_eq!(clean_label(""), DEFAULT_LABEL);
    assert_eq!(clean_label(" \t\n"), DEFAULT_LABEL);
    assert_eq!(clean_label("Key\u{0}\u{7}"), "Key");
    assert_eq!(clean_label(&"é".repeat(64)), "é".repeat(64));
    assert_eq!(clean_label(&"a".repeat(65)), DEFAULT_LABEL);
}

#[test]
fn the_script_hash_is_a_csp_source() {
    let hash = script_hash();
    let inner = hash.strip_prefix("'sha256-").and_then(|h| h.strip_suffix('\'')).unwrap();
    assert_eq!(STANDARD.decode(inner).map(|d| d.len()).ok(), Some(32));
    // Inlined as it is (its hash must match), so it must not end its own element.
    for banned in ["eval(", "new Function", "http://", "https://", "import(", "innerHTML", "</script", "<!--"]
    {
        assert!(!SCRIPT.contains(banned), "the script must not use {banned}");
    }
}

#[test]
fn amr_tells_synced_from_device_bound_passkeys() {
    assert_eq!(amr_of(false, true), [Amr::Hwk, Amr::User, Amr::Mfa]);
    assert_eq!(amr_of(true, true), [Amr::Swk, Amr::User, Amr::Mfa]);
    assert_eq!(amr_of(true, false), [Amr::Swk]);
}
