//! The federation part of the store suite: providers by id, sign-in states
//! spent once and only by their browser, upstream identities linked to a
//! person and unique across people (SPEC.md sections 10 and 11).

use std::sync::Arc;

use zeroauth_shared::domain::{
    ClaimMapping, Credential, CredentialKind, Provider, ProviderKind, UpstreamLink, UpstreamState, User,
};
use zeroauth_shared::store::{Store, StoreError};

use super::T0;
use super::people::person;

fn provider(id: &str) -> Provider {
    Provider {
        id: id.into(),
        kind: ProviderKind::GitHub,
        name: "GitHub".into(),
        icon: None,
        issuer: "https://github.com".into(),
        client_id: "Iv1.abc".into(),
        scope: "read:user user:email".into(),
        authorization_endpoint: None,
        token_endpoint: None,
        userinfo_endpoint: None,
        claims: ClaimMapping::default(),
        tenants: vec![],
        clients: vec!["app".into()],
        sign_up: true,
        trust_email: true,
        keep_tokens_for: vec![],
        created_at: T0,
    }
}

fn state(key: &str, binding: &str) -> UpstreamState {
    UpstreamState {
        state: key.into(),
        binding: binding.into(),
        provider: "gh".into(),
        verifier: "verifier".into(),
        nonce: Some("nonce".into()),
        pending: "{\"client_id\":\"app\"}".into(),
        created_at: T0,
        expires_at: T0 + 600,
    }
}

fn github(subject: &str) -> UpstreamLink {
    UpstreamLink {
        provider: "gh".into(),
        issuer: "https://github.com".into(),
        subject: subject.into(),
        linked_at: T0,
    }
}

pub async fn providers_are_created_once_listed_updated_and_deleted(store: Arc<dyn Store>) {
    store.create_provider(&provider("gh")).await.unwrap();
    store.create_provider(&provider("corp")).await.unwrap();
    assert!(matches!(store.create_provider(&provider("gh")).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_provider("gh").await.unwrap(), Some(provider("gh")));
    assert_eq!(store.get_provider("nope").await.unwrap(), None);
    let ids: Vec<_> = store.list_providers().await.unwrap().into_iter().map(|p| p.id).collect();
    assert_eq!(ids, ["corp", "gh"]);
    let changed = Provider { name: "GitHub.com".into(), clients: vec![], ..provider("gh") };
    store.update_provider(&changed).await.unwrap();
    assert_eq!(store.get_provider("gh").await.unwrap(), Some(changed));
    let missing = store.update_provider(&provider("gone")).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    assert!(store.delete_provider("gh").await.unwrap());
    assert!(!store.delete_provider("gh").await.unwrap());
    assert_eq!(store.get_provider("gh").await.unwrap(), None);
}

pub async fn an_upstream_state_is_spent_once_and_only_by_its_browser(store: Arc<dyn Store>) {
    store.put_upstream_state(&state("s1", "browser-a")).await.unwrap();
    assert_eq!(store.take_upstream_state("s1", "browser-b", T0).await.unwrap(), None, "another browser");
    assert_eq!(store.take_upstream_state("s2", "browser-a", T0).await.unwrap(), None, "another state");
    let taken = store.take_upstream_state("s1", "browser-a", T0).await.unwrap();
    assert_eq!(taken, Some(state("s1", "browser-a")), "the other browser's try changed nothing");
    assert_eq!(store.take_upstream_state("s1", "browser-a", T0).await.unwrap(), None, "spent");
    store.put_upstream_state(&state("s3", "browser-a")).await.unwrap();
    assert_eq!(store.take_upstream_state("s3", "browser-a", T0 + 600).await.unwrap(), None, "expired");
}

pub async fn an_upstream_state_is_spent_exactly_once_under_8_concurrent_attempts(store: Arc<dyn Store>) {
    store.put_upstream_state(&state("race", "browser")).await.unwrap();
    let tries = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.take_upstream_state("race", "browser", T0).await })
    });
    let mut won = 0;
    for t in tries {
        if t.await.unwrap().unwrap().is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub async fn an_upstream_identity_is_linked_once_and_found_and_freed_with_its_person(store: Arc<dyn Store>) {
    store.create_person(&person("erin"), &[]).await.unwrap();
    store.create_person(&person("frank"), &[]).await.unwrap();
    let id = github("12345").identifier();
    assert_eq!(id.key(), "upstream:https://github.com#12345");
    let mut erin = person("erin");
    erin.upstream.push(github("12345"));
    store.link_identifier(&erin, &id, 0, None).await.unwrap();
    assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some("sub-erin"));
    assert_eq!(store.get_person("sub-erin", None).await.unwrap(), Some(erin.clone()), "the record lists it");
    store.link_identifier(&erin, &id, 0, None).await.unwrap();
    let mut frank = person("frank");
    frank.upstream.push(github("12345"));
    let taken = store.link_identifier(&frank, &id, 0, None).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(store.get_person("sub-frank", None).await.unwrap(), Some(person("frank")), "unchanged");
    let nobody = User { sub: "sub-nobody".into(), ..erin.clone() };
    let other = github("999").identifier();
    assert!(matches!(store.link_identifier(&nobody, &other, 0, None).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.find_identifier(&other).await.unwrap(), None, "nothing half-written");
    // A new person may arrive with an upstream identity already.
    let mut gail = person("gail");
    gail.upstream.push(github("777"));
    store.create_person(&gail, &[]).await.unwrap();
    assert_eq!(
        store.find_identifier(&github("777").identifier()).await.unwrap().as_deref(),
        Some("sub-gail")
    );
    assert!(store.delete_person(&erin).await.unwrap());
    assert_eq!(store.find_identifier(&id).await.unwrap(), None, "freed with the person");
}

pub async fn a_link_writes_nothing_over_a_change_and_drops_the_credential_it_names(store: Arc<dyn Store>) {
    let pw = Credential::password("sub-hana", "$argon2id$h".into(), T0);
    store.create_person(&person("hana"), std::slice::from_ref(&pw)).await.unwrap();
    // Someone signed hana out (epoch 0 to 1) after the link read her at 0.
    let signed_out = User { epoch: 1, ..person("hana") };
    store.update_person(&signed_out, None).await.unwrap();
    let mut stale = person("hana");
    stale.upstream.push(github("555"));
    let id = github("555").identifier();
    let lost = store.link_identifier(&stale, &id, 0, Some(&pw.key())).await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))), "{lost:?}");
    assert_eq!(store.find_identifier(&id).await.unwrap(), None, "nothing half-written");
    assert_eq!(store.get_credentials("sub-hana", CredentialKind::Password).await.unwrap().len(), 1);
    assert_eq!(
        store.get_person("sub-hana", None).await.unwrap(),
        Some(signed_out.clone()),
        "the epoch stays"
    );
    let mut fresh = signed_out;
    fresh.upstream.push(github("555"));
    fresh.epoch = 2;
    store.link_identifier(&fresh, &id, 1, Some(&pw.key())).await.unwrap();
    assert!(store.get_credentials("sub-hana", CredentialKind::Password).await.unwrap().is_empty());
    assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some("sub-hana"));
    assert_eq!(store.get_person("sub-hana", None).await.unwrap(), Some(fresh));
}
