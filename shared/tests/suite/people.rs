//! The people part of the store suite: people by `sub`, identifiers unique
//! and written with the person, credentials of their own.

use std::sync::Arc;

use zeroauth_shared::domain::{Credential, CredentialKind, Identifier, User};
use zeroauth_shared::store::{Store, StoreError};

use super::T0;

pub fn person(name: &str) -> User {
    User {
        sub: format!("sub-{name}"),
        username: Some(name.into()),
        email: Some(format!("{name}@example.com")),
        name: None,
        disabled: false,
        created_at: T0,
        epoch: 0,
        email_verified: true,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    }
}

fn username(name: &str) -> Identifier {
    Identifier::Username(name.into())
}

fn email(address: &str) -> Identifier {
    Identifier::email(address)
}

fn password(name: &str, hash: &str) -> Credential {
    Credential::password(&format!("sub-{name}"), hash.into(), T0)
}

pub async fn people_are_created_once_found_by_sub_and_by_username(store: Arc<dyn Store>) {
    store.create_person(&person("bob"), &[password("bob", "$argon2id$b")]).await.unwrap();
    store.create_person(&person("alice"), &[password("alice", "$argon2id$a")]).await.unwrap();
    let taken = store.create_person(&person("bob"), &[]).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    // Another person may not take a username someone has.
    let thief = User { sub: "sub-mallory".into(), ..person("bob") };
    assert!(matches!(store.create_person(&thief, &[]).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_person("sub-mallory", None).await.unwrap(), None, "nothing of a refused person");
    assert_eq!(store.get_person("sub-alice", None).await.unwrap(), Some(person("alice")));
    assert_eq!(store.find_identifier(&username("alice")).await.unwrap().as_deref(), Some("sub-alice"));
    assert_eq!(store.find_identifier(&username("carol")).await.unwrap(), None);
    let subs: Vec<_> = store.list_people().await.unwrap().into_iter().map(|u| u.sub).collect();
    assert_eq!(subs, ["sub-alice", "sub-bob"]);
    let (found, creds) =
        store.sign_in_lookup(&username("bob"), CredentialKind::Password).await.unwrap().unwrap();
    assert_eq!(found, person("bob"));
    assert_eq!(creds.iter().map(|c| c.password_hash()).collect::<Vec<_>>(), [Some("$argon2id$b")]);
    assert_eq!(store.sign_in_lookup(&username("carol"), CredentialKind::Password).await.unwrap(), None);
}

pub async fn a_person_may_have_no_password_and_gets_one_later(store: Arc<dyn Store>) {
    store.create_person(&person("dana"), &[]).await.unwrap();
    let (_, creds) =
        store.sign_in_lookup(&username("dana"), CredentialKind::Password).await.unwrap().unwrap();
    assert!(creds.is_empty());
    store.put_credential(&password("dana", "$argon2id$d")).await.unwrap();
    let creds = store.get_credentials("sub-dana", CredentialKind::Password).await.unwrap();
    assert_eq!(creds.len(), 1);
    // Replaced, never doubled.
    store.put_credential(&password("dana", "$argon2id$d2")).await.unwrap();
    let creds = store.get_credentials("sub-dana", CredentialKind::Password).await.unwrap();
    assert_eq!(creds.iter().map(|c| c.password_hash()).collect::<Vec<_>>(), [Some("$argon2id$d2")]);
    let orphan = store.put_credential(&password("nobody", "$argon2id$n")).await;
    assert!(matches!(orphan, Err(StoreError::NotFound(_))), "{orphan:?}");
}

pub async fn updating_a_person_moves_the_epoch_and_the_password_together(store: Arc<dyn Store>) {
    store.create_person(&person("erin"), &[password("erin", "$argon2id$old")]).await.unwrap();
    let mut erin = person("erin");
    erin.epoch = 1;
    store.update_person(&erin, Some(&password("erin", "$argon2id$new"))).await.unwrap();
    let (found, creds) =
        store.sign_in_lookup(&username("erin"), CredentialKind::Password).await.unwrap().unwrap();
    assert_eq!(found.epoch, 1);
    assert_eq!(creds.first().and_then(Credential::password_hash), Some("$argon2id$new"));
    erin.disabled = true;
    store.update_person(&erin, None).await.unwrap();
    assert!(store.get_person("sub-erin", None).await.unwrap().unwrap().disabled);
    let missing = store.update_person(&person("frank"), None).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

pub async fn renaming_moves_the_username_and_keeps_the_sub(store: Arc<dyn Store>) {
    store.create_person(&person("gina"), &[password("gina", "$argon2id$g")]).await.unwrap();
    store.create_person(&person("hank"), &[]).await.unwrap();
    let mut renamed = person("gina");
    renamed.username = Some("georgina".into());
    store.rename_person(&renamed, &username("gina"), &username("georgina")).await.unwrap();
    assert_eq!(store.find_identifier(&username("gina")).await.unwrap(), None, "the old name is free");
    assert_eq!(store.find_identifier(&username("georgina")).await.unwrap().as_deref(), Some("sub-gina"));
    let (found, creds) =
        store.sign_in_lookup(&username("georgina"), CredentialKind::Password).await.unwrap().unwrap();
    assert_eq!((found.sub.as_str(), creds.len()), ("sub-gina", 1), "same person, same password");
    // A name someone has is refused, and nothing moves.
    let mut clash = found.clone();
    clash.username = Some("hank".into());
    let refused = store.rename_person(&clash, &username("georgina"), &username("hank")).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.find_identifier(&username("georgina")).await.unwrap().as_deref(), Some("sub-gina"));
    assert_eq!(store.find_identifier(&username("hank")).await.unwrap().as_deref(), Some("sub-hank"));
    // Someone else's name cannot be moved.
    let mut stolen = person("hank");
    stolen.username = Some("h".into());
    let not_theirs = store.rename_person(&stolen, &username("georgina"), &username("h")).await;
    assert!(matches!(not_theirs, Err(StoreError::NotFound(_))), "{not_theirs:?}");
    store.create_person(&person("gina"), &[]).await.map(|_| ()).expect_err("sub-gina is still taken");
    // The renamed person keeps their address, so a newcomer named gina needs another.
    let newcomer = User { sub: "sub-gina-2".into(), ..person("gina") };
    let same_address = store.create_person(&newcomer, &[]).await;
    assert!(matches!(same_address, Err(StoreError::Conflict(_))), "{same_address:?}");
    let newcomer = User { email: Some("gina2@example.com".into()), ..newcomer };
    store.create_person(&newcomer, &[]).await.unwrap();
}

pub async fn deleting_a_person_frees_their_username_and_drops_their_credentials(store: Arc<dyn Store>) {
    store.create_person(&person("ivan"), &[password("ivan", "$argon2id$i")]).await.unwrap();
    assert!(store.delete_person(&person("ivan")).await.unwrap());
    assert!(!store.delete_person(&person("ivan")).await.unwrap());
    assert_eq!(store.get_person("sub-ivan", None).await.unwrap(), None);
    assert_eq!(store.find_identifier(&username("ivan")).await.unwrap(), None);
    assert!(store.get_credentials("sub-ivan", CredentialKind::Password).await.unwrap().is_empty());
    let again = User { sub: "sub-ivan-2".into(), ..person("ivan") };
    store.create_person(&again, &[]).await.unwrap();
}

pub async fn an_address_is_claimed_at_creation_whatever_its_case(store: Arc<dyn Store>) {
    store.create_person(&person("jane"), &[]).await.unwrap();
    assert_eq!(store.find_identifier(&email("jane@example.com")).await.unwrap().as_deref(), Some("sub-jane"));
    assert_eq!(
        store.find_identifier(&email(" JANE@Example.com")).await.unwrap().as_deref(),
        Some("sub-jane")
    );
    let (found, _) =
        store.sign_in_lookup(&email("Jane@example.com"), CredentialKind::Password).await.unwrap().unwrap();
    assert_eq!(found.sub, "sub-jane", "found by address");
    // Another person with the address in another case is refused whole.
    let twin = User { email: Some("JANE@EXAMPLE.COM".into()), ..person("janet") };
    let refused = store.create_person(&twin, &[password("janet", "$argon2id$j")]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.get_person("sub-janet", None).await.unwrap(), None, "nothing of a refused person");
    assert_eq!(store.find_identifier(&username("janet")).await.unwrap(), None, "not even the username");
    assert!(store.get_credentials("sub-janet", CredentialKind::Password).await.unwrap().is_empty());
    // A person with no address claims only the username.
    let none = User { email: None, ..person("jim") };
    store.create_person(&none, &[]).await.unwrap();
    assert_eq!(store.find_identifier(&username("jim")).await.unwrap().as_deref(), Some("sub-jim"));
}

pub async fn changing_the_address_keeps_the_sub_and_frees_the_old_one(store: Arc<dyn Store>) {
    store.create_person(&person("kate"), &[password("kate", "$argon2id$k")]).await.unwrap();
    store.create_person(&person("liam"), &[]).await.unwrap();
    let mut moved = person("kate");
    moved.email = Some("Kate@New.example".into());
    moved.email_verified = false;
    store.rename_person(&moved, &email("kate@example.com"), &email("kate@new.example")).await.unwrap();
    assert_eq!(store.find_identifier(&email("kate@example.com")).await.unwrap(), None, "the old one is free");
    assert_eq!(store.find_identifier(&email("kate@new.example")).await.unwrap().as_deref(), Some("sub-kate"));
    assert_eq!(store.find_identifier(&username("kate")).await.unwrap().as_deref(), Some("sub-kate"));
    let (found, creds) =
        store.sign_in_lookup(&email("kate@new.example"), CredentialKind::Password).await.unwrap().unwrap();
    assert_eq!((found, creds.len()), (moved.clone(), 1), "same person, record replaced, same password");
    // Someone else's address is refused, and nothing moves.
    let mut clash = moved.clone();
    clash.email = Some("liam@example.com".into());
    let refused = store.rename_person(&clash, &email("kate@new.example"), &email("liam@example.com")).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(store.find_identifier(&email("kate@new.example")).await.unwrap().as_deref(), Some("sub-kate"));
    assert_eq!(store.find_identifier(&email("liam@example.com")).await.unwrap().as_deref(), Some("sub-liam"));
    assert_eq!(store.get_person("sub-kate", None).await.unwrap(), Some(moved.clone()), "record unchanged");
    // An address that is not theirs cannot be moved.
    let not_theirs = store.rename_person(&moved, &email("liam@example.com"), &email("k@new.example")).await;
    assert!(matches!(not_theirs, Err(StoreError::NotFound(_))), "{not_theirs:?}");
    // From and to the same: only the record is replaced.
    let mut verified = moved.clone();
    verified.email_verified = true;
    let same = email("kate@new.example");
    store.rename_person(&verified, &same, &same).await.unwrap();
    assert_eq!(store.get_person("sub-kate", None).await.unwrap(), Some(verified));
    assert_eq!(store.find_identifier(&same).await.unwrap().as_deref(), Some("sub-kate"));
    let someone_elses = email("liam@example.com");
    let refused = store.rename_person(&moved, &someone_elses, &someone_elses).await;
    assert!(matches!(refused, Err(StoreError::NotFound(_))), "{refused:?}");
    // The freed address can be someone else's now.
    let newcomer = User { email: Some("kate@example.com".into()), ..person("kat") };
    store.create_person(&newcomer, &[]).await.unwrap();
}

pub async fn deleting_a_person_leaves_alone_what_is_not_theirs(store: Arc<dyn Store>) {
    store.create_person(&person("mia"), &[]).await.unwrap();
    // Nora's record names Mia's address (and an address no item backs, as
    // an earlier release left it): neither is hers to free.
    store.create_person(&User { email: None, ..person("nora") }, &[]).await.unwrap();
    let nora = User { email: Some("mia@example.com".into()), ..person("nora") };
    store.update_person(&nora, None).await.unwrap();
    assert!(store.delete_person(&nora).await.unwrap());
    assert_eq!(store.find_identifier(&email("mia@example.com")).await.unwrap().as_deref(), Some("sub-mia"));
    assert_eq!(store.find_identifier(&username("nora")).await.unwrap(), None, "her own is freed");
    store.create_person(&User { email: None, ..person("olga") }, &[]).await.unwrap();
    let olga = User { email: Some("olga@old.example".into()), ..person("olga") };
    store.update_person(&olga, None).await.unwrap();
    assert!(store.delete_person(&olga).await.unwrap(), "an address with no item does not stop it");
    assert_eq!(store.get_person("sub-olga", None).await.unwrap(), None);
    assert_eq!(store.find_identifier(&username("olga")).await.unwrap(), None);
}

pub async fn verification_and_revocation_times_round_trip(store: Arc<dyn Store>) {
    let mut pat = person("pat");
    pat.email_verified = false;
    store.create_person(&pat, &[]).await.unwrap();
    assert_eq!(store.get_person("sub-pat", None).await.unwrap(), Some(pat.clone()));
    pat.email_verified = true;
    pat.tokens_revoked_at = T0 + 5;
    store.update_person(&pat, None).await.unwrap();
    assert_eq!(store.get_person("sub-pat", None).await.unwrap(), Some(pat.clone()));
    let listed = store.list_people().await.unwrap();
    assert_eq!(listed.iter().find(|p| p.sub == "sub-pat"), Some(&pat));
}

pub async fn an_unbacked_address_is_claimed_once_and_never_from_its_owner(store: Arc<dyn Store>) {
    store.create_person(&person("kate"), &[]).await.unwrap();
    let loose = Identifier::email("Loose@Example.com");
    assert!(store.claim_identifier("sub-kate", &loose).await.unwrap(), "a free address is claimed");
    assert!(
        store.claim_identifier("sub-kate", &loose).await.unwrap(),
        "and is the person's on a second call"
    );
    assert_eq!(store.find_identifier(&loose).await.unwrap().as_deref(), Some("sub-kate"));
    let taken = Identifier::email("kate@example.com");
    assert!(!store.claim_identifier("sub-mallory", &taken).await.unwrap(), "someone else's is not taken");
    assert_eq!(store.find_identifier(&taken).await.unwrap().as_deref(), Some("sub-kate"));
}
