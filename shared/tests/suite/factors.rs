//! The second-factor part of the store suite: credentials replaced only as
//! they were read, recovery codes spent once, factors changed together with
//! the person's record at the epoch read, ceremonies taken once, and the
//! passkey user handle as an identifier of the person (SPEC.md section 11).

use std::sync::Arc;

use zeroauth_shared::crypto::digest;
use zeroauth_shared::domain::{
    Ceremony, CeremonyKind, Credential, CredentialData, CredentialKind, Identifier, PasskeyData, TotpData,
    User,
};
use zeroauth_shared::store::{Store, StoreError};

use super::T0;
use super::people::person;

fn totp(name: &str, last_step: i64) -> Credential {
    Credential {
        sub: format!("sub-{name}"),
        id: "totp".into(),
        data: CredentialData::Totp(TotpData { sealed_secret: "sealed".into(), last_step }),
        created_at: T0,
    }
}

fn recovery(name: &str, code: &str) -> Credential {
    Credential {
        sub: format!("sub-{name}"),
        id: digest(code),
        data: CredentialData::Recovery {},
        created_at: T0,
    }
}

fn passkey(name: &str, credential_id: &str) -> Credential {
    let data = PasskeyData {
        passkey: format!("{{\"cred\":{{\"cred_id\":\"{credential_id}\",\"counter\":0}}}}"),
        label: "Laptop".into(),
        backup_eligible: true,
        last_used_at: None,
    };
    Credential {
        sub: format!("sub-{name}"),
        id: digest(credential_id),
        data: CredentialData::Passkey(data),
        created_at: T0,
    }
}

fn ceremony(handle: &str, expires_at: i64) -> Ceremony {
    Ceremony {
        handle: digest(handle),
        kind: CeremonyKind::PasskeyAuthentication,
        sub: Some("sub-ivy".into()),
        data: "{\"ast\":{\"challenge\":\"c\"}}".into(),
        expires_at,
    }
}

async fn keys(store: &dyn Store, sub: &str) -> Vec<String> {
    let mut all = Vec::new();
    for kind in
        [CredentialKind::Password, CredentialKind::Passkey, CredentialKind::Totp, CredentialKind::Recovery]
    {
        all.extend(store.get_credentials(sub, kind).await.unwrap().iter().map(Credential::key));
    }
    all.sort();
    all
}

pub async fn a_credential_is_replaced_only_as_it_was_read(store: Arc<dyn Store>) {
    store.create_person(&person("ann"), &[totp("ann", 1)]).await.unwrap();
    assert!(store.replace_credential(&totp("ann", 1), &totp("ann", 2)).await.unwrap());
    assert!(!store.replace_credential(&totp("ann", 1), &totp("ann", 3)).await.unwrap(), "stale: refused");
    assert_eq!(store.get_credentials("sub-ann", CredentialKind::Totp).await.unwrap(), [totp("ann", 2)]);
    let mut used = passkey("ann", "key-1");
    assert!(!store.replace_credential(&used, &used).await.unwrap(), "a credential that is gone");
    assert!(store.get_credentials("sub-ann", CredentialKind::Passkey).await.unwrap().is_empty(), "not made");
    let crossed = store.replace_credential(&totp("ann", 2), &recovery("ann", "x")).await;
    assert!(matches!(crossed, Err(StoreError::Backend(_))), "another key: {crossed:?}");
    // A passkey's data changes as it is used.
    store.put_credential(&used).await.unwrap();
    let mut after = used.clone();
    if let CredentialData::Passkey(p) = &mut after.data {
        p.last_used_at = Some(T0 + 5);
    }
    assert!(store.replace_credential(&used, &after).await.unwrap());
    used = after;
    assert_eq!(store.get_credentials("sub-ann", CredentialKind::Passkey).await.unwrap(), [used]);
}

pub async fn of_8_concurrent_replacements_of_one_credential_one_wins(store: Arc<dyn Store>) {
    store.create_person(&person("ben"), &[totp("ben", 1)]).await.unwrap();
    let tries = (0..8).map(|i| {
        let store = store.clone();
        tokio::spawn(async move { store.replace_credential(&totp("ben", 1), &totp("ben", 10 + i)).await })
    });
    let mut won = Vec::new();
    for (i, t) in tries.enumerate() {
        if t.await.unwrap().unwrap() {
            won.push(10 + i as i64);
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let stored = store.get_credentials("sub-ben", CredentialKind::Totp).await.unwrap();
    assert_eq!(stored, [totp("ben", won[0])], "the winner's write is the one kept");
}

pub async fn a_recovery_code_is_spent_once(store: Arc<dyn Store>) {
    let codes = [recovery("cat", "code-1"), recovery("cat", "code-2")];
    store.create_person(&person("cat"), &codes).await.unwrap();
    assert!(store.delete_credential("sub-cat", &codes[0].key()).await.unwrap());
    assert!(!store.delete_credential("sub-cat", &codes[0].key()).await.unwrap(), "spent");
    assert!(!store.delete_credential("sub-nobody", &codes[1].key()).await.unwrap(), "not theirs");
    assert_eq!(keys(store.as_ref(), "sub-cat").await, [codes[1].key()]);
}

pub async fn a_recovery_code_is_spent_exactly_once_under_8_concurrent_attempts(store: Arc<dyn Store>) {
    let code = recovery("dan", "race");
    store.create_person(&person("dan"), std::slice::from_ref(&code)).await.unwrap();
    let tries = (0..8).map(|_| {
        let (store, key) = (store.clone(), code.key());
        tokio::spawn(async move { store.delete_credential("sub-dan", &key).await })
    });
    let mut won = 0;
    for t in tries {
        if t.await.unwrap().unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert!(keys(store.as_ref(), "sub-dan").await.is_empty());
}

pub async fn factors_change_together_with_the_record(store: Arc<dyn Store>) {
    let pw = Credential::password("sub-eve", "$argon2id$e".into(), T0);
    let old = [recovery("eve", "old-1"), recovery("eve", "old-2")];
    store.create_person(&person("eve"), &[pw.clone(), old[0].clone(), old[1].clone()]).await.unwrap();
    let eve = User { epoch: 1, ..person("eve") };
    let new = [totp("eve", 0), recovery("eve", "new-1")];
    let delete = [old[0].key(), old[1].key()];
    store.change_factors(&eve, 0, &new, &delete).await.unwrap();
    assert_eq!(store.get_person("sub-eve", None).await.unwrap(), Some(eve.clone()));
    let mut expected = vec![pw.key(), new[0].key(), new[1].key()];
    expected.sort();
    assert_eq!(keys(store.as_ref(), "sub-eve").await, expected);
    assert_eq!(store.get_credentials("sub-eve", CredentialKind::Totp).await.unwrap(), [totp("eve", 0)]);
    // A credential already there is replaced; the record alone may change too.
    let again = User { epoch: 2, ..person("eve") };
    store.change_factors(&again, 1, &[totp("eve", 7)], &[]).await.unwrap();
    assert_eq!(store.get_credentials("sub-eve", CredentialKind::Totp).await.unwrap(), [totp("eve", 7)]);
    store.change_factors(&again, 2, &[], &[]).await.unwrap();
    assert_eq!(store.get_person("sub-eve", None).await.unwrap(), Some(again));
}

pub async fn a_factor_change_writes_nothing_over_a_moved_epoch(store: Arc<dyn Store>) {
    let code = recovery("fay", "code");
    store.create_person(&person("fay"), std::slice::from_ref(&code)).await.unwrap();
    // Someone signed fay out (epoch 0 to 1) after the change read her at 0.
    let signed_out = User { epoch: 1, ..person("fay") };
    store.update_person(&signed_out, None).await.unwrap();
    let stale = User { epoch: 1, name: Some("Stale".into()), ..person("fay") };
    let lost = store.change_factors(&stale, 0, &[totp("fay", 0)], &[code.key()]).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    assert_eq!(store.get_person("sub-fay", None).await.unwrap(), Some(signed_out), "the record stays");
    assert_eq!(keys(store.as_ref(), "sub-fay").await, [code.key()], "nothing written, nothing removed");
}

pub async fn a_factor_change_for_no_one_is_not_found(store: Arc<dyn Store>) {
    let ghost = person("ghost");
    let missing = store.change_factors(&ghost, 0, &[totp("ghost", 0)], &[]).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    assert_eq!(store.get_person("sub-ghost", None).await.unwrap(), None, "no record made");
    assert!(keys(store.as_ref(), "sub-ghost").await.is_empty(), "no credential made");
}

pub async fn a_factor_change_deleting_a_gone_credential_changes_nothing(store: Arc<dyn Store>) {
    let kept = recovery("gus", "kept");
    store.create_person(&person("gus"), std::slice::from_ref(&kept)).await.unwrap();
    let gus = User { epoch: 1, ..person("gus") };
    let gone = recovery("gus", "spent").key();
    let refused = store.change_factors(&gus, 0, &[totp("gus", 0)], &[kept.key(), gone]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.get_person("sub-gus", None).await.unwrap(), Some(person("gus")), "the record stays");
    assert_eq!(keys(store.as_ref(), "sub-gus").await, [kept.key()], "the other delete was not made either");
}

pub async fn a_malformed_factor_change_is_refused(store: Arc<dyn Store>) {
    store.create_person(&person("hal"), &[]).await.unwrap();
    let hal = User { epoch: 1, ..person("hal") };
    let foreign = store.change_factors(&hal, 0, &[totp("someone", 0)], &[]).await;
    assert!(matches!(foreign, Err(StoreError::Backend(_))), "another person's credential: {foreign:?}");
    let twice = store.change_factors(&hal, 0, &[totp("hal", 0)], &[totp("hal", 0).key()]).await;
    assert!(matches!(twice, Err(StoreError::Backend(_))), "one key twice: {twice:?}");
    assert_eq!(store.get_person("sub-hal", None).await.unwrap(), Some(person("hal")));
    assert!(keys(store.as_ref(), "sub-hal").await.is_empty());
}

pub async fn a_ceremony_is_taken_once_and_never_once_expired(store: Arc<dyn Store>) {
    let c = ceremony("one", T0 + 300);
    store.put_ceremony(&c).await.unwrap();
    assert_eq!(store.take_ceremony(&digest("other"), T0).await.unwrap(), None, "another handle");
    assert_eq!(store.take_ceremony(&c.handle, T0 + 10).await.unwrap(), Some(c.clone()));
    assert_eq!(store.take_ceremony(&c.handle, T0 + 11).await.unwrap(), None, "taken");
    // A new ceremony under a handle replaces the one there.
    let first = Ceremony { kind: CeremonyKind::TotpEnrollment, ..ceremony("two", T0 + 300) };
    let second = Ceremony { data: "second".into(), ..first.clone() };
    store.put_ceremony(&first).await.unwrap();
    store.put_ceremony(&second).await.unwrap();
    assert_eq!(store.take_ceremony(&first.handle, T0).await.unwrap(), Some(second));
    let old = Ceremony { sub: None, ..ceremony("old", T0 + 300) };
    store.put_ceremony(&old).await.unwrap();
    assert_eq!(store.take_ceremony(&old.handle, T0 + 300).await.unwrap(), None, "expired");
    assert_eq!(store.take_ceremony(&old.handle, T0 + 301).await.unwrap(), None, "and never returned");
}

pub async fn a_ceremony_is_taken_exactly_once_under_8_concurrent_attempts(store: Arc<dyn Store>) {
    let c = ceremony("race", T0 + 300);
    store.put_ceremony(&c).await.unwrap();
    let tries = (0..8).map(|_| {
        let (store, handle) = (store.clone(), c.handle.clone());
        tokio::spawn(async move { store.take_ceremony(&handle, T0).await })
    });
    let mut won = 0;
    for t in tries {
        if let Some(taken) = t.await.unwrap().unwrap() {
            assert_eq!(taken, c);
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub async fn a_passkey_user_is_an_identifier_of_the_person(store: Arc<dyn Store>) {
    let handle = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    let id = Identifier::Passkey(handle.into());
    let ivy = User { passkey_user: Some(handle.into()), ..person("ivy") };
    assert!(ivy.identifiers().contains(&id));
    store.create_person(&ivy, &[passkey("ivy", "key-1")]).await.unwrap();
    assert_eq!(store.get_person("sub-ivy", None).await.unwrap(), Some(ivy.clone()), "round-trips");
    assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some("sub-ivy"));
    let (found, creds) = store.sign_in_lookup(&id, CredentialKind::Passkey).await.unwrap().unwrap();
    assert_eq!((found, creds), (ivy.clone(), vec![passkey("ivy", "key-1")]));
    let thief = User { sub: "sub-jon".into(), username: None, email: None, ..ivy.clone() };
    assert!(matches!(store.create_person(&thief, &[]).await, Err(StoreError::Conflict(_))));
    assert!(store.delete_person(&ivy).await.unwrap());
    assert_eq!(store.find_identifier(&id).await.unwrap(), None, "freed with the person");
    assert!(keys(store.as_ref(), "sub-ivy").await.is_empty(), "the passkey went with them");
}

pub async fn the_first_passkey_points_its_user_handle_at_the_person(store: Arc<dyn Store>) {
    let handle = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let id = Identifier::Passkey(handle.into());
    store.create_person(&person("kim"), &[]).await.unwrap();
    store.create_person(&person("lou"), &[]).await.unwrap();
    let kim = User { epoch: 1, passkey_user: Some(handle.into()), ..person("kim") };
    store.change_factors(&kim, 0, &[passkey("kim", "key-1")], &[]).await.unwrap();
    assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some("sub-kim"));
    // A second passkey keeps the handle, which is already hers.
    let kim2 = User { epoch: 2, ..kim.clone() };
    store.change_factors(&kim2, 1, &[passkey("kim", "key-2")], &[]).await.unwrap();
    assert_eq!(store.get_credentials("sub-kim", CredentialKind::Passkey).await.unwrap().len(), 2);
    // Another person cannot take her handle, and nothing of theirs is written.
    let lou = User { epoch: 1, passkey_user: Some(handle.into()), ..person("lou") };
    let taken = store.change_factors(&lou, 0, &[passkey("lou", "key-3")], &[]).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(store.get_person("sub-lou", None).await.unwrap(), Some(person("lou")));
    assert!(keys(store.as_ref(), "sub-lou").await.is_empty());
    assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some("sub-kim"));
}

/// A person record without an `epoch` attribute reads as epoch 0, and a
/// factor change read at 0 holds on it.
#[tokio::test]
async fn dynamodb_a_record_without_an_epoch_changes_at_epoch_0() {
    use zeroauth_shared::store::PeopleStore;
    let store = zeroauth_shared::testing::fresh_dynamo_store().await;
    store.create_person(&person("max"), &[]).await.unwrap();
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("PERSON".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("sub-max".into()))
        .update_expression("REMOVE epoch")
        .send()
        .await
        .unwrap();
    assert_eq!(store.get_person("sub-max", None).await.unwrap(), Some(person("max")));
    let max = User { epoch: 1, ..person("max") };
    zeroauth_shared::store::FactorStore::change_factors(&store, &max, 0, &[totp("max", 0)], &[])
        .await
        .unwrap();
    assert_eq!(store.get_person("sub-max", None).await.unwrap(), Some(max));
}
