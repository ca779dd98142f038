//! Passkey ceremonies end to end against the software authenticator
//! (`zeroauth_e2e::authenticator`), without a browser or a server: what the
//! page script would post goes straight to `factors::passkey`. The attacks a
//! relying party must refuse are refused with the error the page explains.

use std::sync::Arc;

use serde_json::Value;
use zeroauth_e2e::authenticator::{Authenticator, alter_signature};
use zeroauth_shared::App;
use zeroauth_shared::config::Config;
use zeroauth_shared::domain::{Amr, Credential, CredentialData, User};
use zeroauth_shared::factors::passkey::{self, PasskeyError, Verified};
use zeroauth_shared::secret::SigningKey;
use zeroauth_shared::store::memory::MemoryStore;

const ORIGIN: &str = "https://auth.example.com";
const NOW: i64 = 1_800_000_000;

fn app() -> App {
    App::new(Arc::new(MemoryStore::new()), Config::new(ORIGIN, SigningKey::new(vec![9; 32])))
}

fn person() -> User {
    User {
        sub: "sub-claire".into(),
        username: Some("claire".into()),
        email: Some("claire@example.com".into()),
        email_verified: true,
        name: Some("Claire".into()),
        disabled: false,
        created_at: 0,
        epoch: 0,
        tokens_revoked_at: 0,
        upstream: Vec::new(),
        passkey_user: None,
    }
}

/// Registers `auth`'s passkey for `user`; the credential to store.
fn register(app: &App, user: &User, auth: &mut Authenticator) -> Credential {
    let handle = passkey::user_handle(user).expect("a user handle");
    let (options, state) = passkey::start_registration(app, user, handle, &[]).expect("creation options");
    let credential = auth.create(&options).to_string();
    passkey::finish_registration(app, &state, &credential, " Laptop ", &user.sub, NOW).expect("registered")
}

/// A sign-in for the person who holds `creds`, answered by `auth`.
fn sign_in(app: &App, creds: &[Credential], auth: &mut Authenticator) -> Result<Verified, PasskeyError> {
    let (options, state) = passkey::start_authentication(app, Some(creds)).expect("request options");
    let credential = auth.get(&options).to_string();
    passkey::finish_authentication(app, &state, &credential, creds, false, NOW + 60)
}

fn counter_of(cred: &Credential) -> u64 {
    let CredentialData::Passkey(data) = &cred.data else { panic!("not a passkey: {cred:?}") };
    let json: Value = serde_json::from_str(&data.passkey).expect("passkey JSON");
    json["cred"]["counter"].as_u64().expect("a counter")
}

fn refused_for(result: Result<Verified, PasskeyError>, why: &str) {
    match result {
        Err(PasskeyError::Refused(e)) => {
            assert!(e.to_string().to_lowercase().contains(why), "refused for {e}, not {why}")
        }
        other => panic!("expected a refusal for {why}, got {other:?}"),
    }
}

#[test]
fn a_registered_passkey_signs_its_person_in_with_or_without_a_name() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let cred = register(&app, &user, &mut auth);
    assert_eq!(cred.key(), format!("passkey:{}", passkey::credential_id(&auth.credential_id)));
    let CredentialData::Passkey(data) = &cred.data else { panic!("not a passkey") };
    assert_eq!((data.label.as_str(), data.backup_eligible, data.last_used_at), ("Laptop", false, None));

    // Known person: second factor or step-up.
    let verified = sign_in(&app, std::slice::from_ref(&cred), &mut auth).expect("signed in");
    assert_eq!(verified.key, cred.key());
    assert_eq!(verified.before, cred);
    assert_eq!(verified.amr, [Amr::Hwk, Amr::User, Amr::Mfa]);
    let after = verified.after.expect("the updated credential");
    assert_eq!(counter_of(&after), 1);
    assert!(matches!(&after.data, CredentialData::Passkey(p) if p.last_used_at == Some(NOW + 60)));

    // No name typed: the answer names the person by their user handle.
    let (options, state) = passkey::start_authentication(&app, None).expect("request options");
    assert!(auth.allowed_by(&options));
    let credential = auth.get(&options).to_string();
    let handle = passkey::identify(&credential).expect("a user handle");
    let expected = auth.user_handle.as_deref().map(uuid_text);
    assert_eq!(Some(handle), expected);
    let verified = passkey::finish_authentication(&app, &state, &credential, &[after], true, NOW + 120)
        .expect("signed in");
    assert_eq!(counter_of(&verified.after.expect("updated")), 2);
}

fn uuid_text(bytes: &[u8]) -> String {
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[test]
fn a_synced_passkey_is_a_software_key_and_may_keep_its_counter_at_zero() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN).synced();
    let cred = register(&app, &user, &mut auth);
    assert!(matches!(&cred.data, CredentialData::Passkey(p) if p.backup_eligible));
    let first = sign_in(&app, &[cred], &mut auth).expect("signed in");
    assert_eq!(first.amr, [Amr::Swk, Amr::User, Amr::Mfa]);
    let again = sign_in(&app, &[first.after.expect("updated")], &mut auth).expect("signed in again");
    assert_eq!(counter_of(&again.after.expect("updated")), 0);
}

#[test]
fn a_persons_passkeys_are_excluded_when_they_add_another() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let cred = register(&app, &user, &mut auth);
    let handle = passkey::user_handle(&user).expect("handle");
    let (options, _) = passkey::start_registration(&app, &user, handle, &[cred]).expect("options");
    assert!(auth.excluded_by(&options));
    assert!(!Authenticator::new(ORIGIN).excluded_by(&options));
}

#[test]
fn should_fail_because_the_assertion_answers_another_ceremony() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    let (first, _) = passkey::start_authentication(&app, Some(&creds)).expect("options");
    let (_, second_state) = passkey::start_authentication(&app, Some(&creds)).expect("options");
    let replayed = auth.get(&first).to_string();
    refused_for(
        passkey::finish_authentication(&app, &second_state, &replayed, &creds, false, NOW),
        "challenge",
    );
}

#[test]
fn should_fail_because_the_signature_was_altered() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    let (options, state) = passkey::start_authentication(&app, Some(&creds)).expect("options");
    let altered = alter_signature(&auth.get(&options)).to_string();
    refused_for(passkey::finish_authentication(&app, &state, &altered, &creds, false, NOW), "authentication");
}

#[test]
fn should_fail_because_the_origin_is_another_sites() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    auth.origin = "https://auth.example.com.evil.example".into();
    refused_for(sign_in(&app, &creds, &mut auth), "origin");

    let mut phished = Authenticator::new("https://evil.example.net");
    let handle = passkey::user_handle(&user).expect("handle");
    let (options, state) = passkey::start_registration(&app, &user, handle, &[]).expect("options");
    let credential = phished.create(&options).to_string();
    let registered = passkey::finish_registration(&app, &state, &credential, "x", &user.sub, NOW);
    assert!(matches!(registered, Err(PasskeyError::Refused(_))), "{registered:?}");
}

#[test]
fn should_fail_because_the_rp_id_is_another_sites() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    auth.rp_id = Some("evil.example.net".into());
    refused_for(sign_in(&app, &creds, &mut auth), "relying party id");

    let mut other = Authenticator::new(ORIGIN);
    other.rp_id = Some("example.com".into());
    let handle = passkey::user_handle(&user).expect("handle");
    let (options, state) = passkey::start_registration(&app, &user, handle, &[]).expect("options");
    let credential = other.create(&options).to_string();
    let registered = passkey::finish_registration(&app, &state, &credential, "x", &user.sub, NOW);
    assert!(matches!(registered, Err(PasskeyError::Refused(_))), "{registered:?}");
}

#[test]
fn should_fail_because_the_counter_went_backwards() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let cred = register(&app, &user, &mut auth);
    let stored = sign_in(&app, &[cred], &mut auth).expect("signed in").after.expect("updated");
    assert_eq!(counter_of(&stored), 1);
    auth.sign_count = 0; // the next answer carries 1 again: a copy of the key
    assert!(matches!(sign_in(&app, std::slice::from_ref(&stored), &mut auth), Err(PasskeyError::Cloned)));
    auth.count_up = false; // and 0, below the stored 1
    assert!(matches!(sign_in(&app, &[stored], &mut auth), Err(PasskeyError::Cloned)));
}

#[test]
fn should_fail_because_the_counter_is_behind_the_stored_one_though_ahead_of_the_ceremonys() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let cred = register(&app, &user, &mut auth);
    // A ceremony starts while the stored counter is 0 ...
    let (options, state) = passkey::start_authentication(&app, Some(std::slice::from_ref(&cred))).unwrap();
    // ... the key signs in elsewhere up to 5 ...
    auth.sign_count = 4;
    let stored = sign_in(&app, &[cred], &mut auth).expect("signed in").after.expect("updated");
    assert_eq!(counter_of(&stored), 5);
    // ... and a copy answers the first ceremony with 3.
    auth.sign_count = 2;
    let copy = auth.get(&options).to_string();
    let result = passkey::finish_authentication(&app, &state, &copy, &[stored], false, NOW);
    assert!(matches!(result, Err(PasskeyError::Cloned)), "{result:?}");
}

#[test]
fn should_fail_because_the_user_was_not_verified() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    auth.user_verified = false;
    refused_for(sign_in(&app, &creds, &mut auth), "verified");

    let mut unverified = Authenticator::new(ORIGIN);
    unverified.user_verified = false;
    let handle = passkey::user_handle(&user).expect("handle");
    let (options, state) = passkey::start_registration(&app, &user, handle, &[]).expect("options");
    let credential = unverified.create(&options).to_string();
    let registered = passkey::finish_registration(&app, &state, &credential, "x", &user.sub, NOW);
    assert!(matches!(registered, Err(PasskeyError::Refused(_))), "{registered:?}");
}

#[test]
fn should_fail_because_the_passkey_is_not_the_persons() {
    let (app, user) = (app(), person());
    let mut mine = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut mine)];
    let mut stranger = Authenticator::new(ORIGIN);
    register(&app, &person(), &mut stranger);
    assert!(matches!(sign_in(&app, &creds, &mut stranger), Err(PasskeyError::Unknown)));

    // A discoverable answer that names nobody finds nobody.
    let (options, state) = passkey::start_authentication(&app, None).expect("options");
    mine.user_handle = None;
    let anonymous = mine.get(&options).to_string();
    assert_eq!(passkey::identify(&anonymous), None);
    let result = passkey::finish_authentication(&app, &state, &anonymous, &creds, true, NOW);
    assert!(matches!(result, Err(PasskeyError::Unknown)), "{result:?}");
}

#[test]
fn should_fail_because_the_answer_is_not_webauthn() {
    let (app, user) = (app(), person());
    let mut auth = Authenticator::new(ORIGIN);
    let creds = [register(&app, &user, &mut auth)];
    let (options, state) = passkey::start_authentication(&app, Some(&creds)).expect("options");
    let mut answer = auth.get(&options);
    answer["response"]["authenticatorData"] = Value::from("AAAA");
    let result = passkey::finish_authentication(&app, &state, &answer.to_string(), &creds, false, NOW);
    assert!(matches!(result, Err(PasskeyError::Malformed)), "{result:?}");
}
