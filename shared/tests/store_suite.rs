//! One store suite, run against the embedded store, the file store (SQLite)
//! and DynamoDB Local.

use std::sync::Arc;

use zeroauth_shared::domain::{
    AccessTokenRecord, ApiKey, Client, ClientSource, CodeRecord, Dialect, Grant, GrantType, LastRotation,
    Resource,
};
use zeroauth_shared::oauth::Scope;
use zeroauth_shared::store::memory::MemoryStore;
use zeroauth_shared::store::{
    ConsumeOutcome, FactorStore, FlowStore, Issuance, PeopleStore, RotateOutcome, Rotation, Store,
    StoreError, retire,
};
use zeroauth_shared::testing::fresh_dynamo_store;

const T0: i64 = 1_800_000_000;

#[path = "suite/factors.rs"]
mod factors;
#[path = "suite/federation.rs"]
mod federation;
#[path = "suite/flows.rs"]
mod flows;
#[path = "suite/people.rs"]
mod people;
use factors::*;
use federation::*;
use flows::*;
use people::*;

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(zeroauth_shared::store::memory::MemoryStore::new())).await
                }
            )*
        }
        mod file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(super::fresh_file_store())).await
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(zeroauth_shared::testing::fresh_dynamo_store().await)).await
                }
            )*
        }
    };
}

suite!(
    clients_are_created_once_listed_updated_and_deleted,
    a_self_registered_client_keeps_its_source_and_expiry,
    resources_are_created_once_listed_and_deleted,
    a_client_is_found_by_its_aliases_which_no_other_client_can_take,
    api_keys_are_created_found_touched_listed_and_revoked,
    the_resource_a_code_names_reaches_its_grant_and_access_token,
    a_rotation_remembers_its_sealed_pair_and_the_next_one_replaces_it,
    people_are_created_once_found_by_sub_and_by_username,
    a_person_may_have_no_password_and_gets_one_later,
    updating_a_person_moves_the_epoch_and_the_password_together,
    renaming_moves_the_username_and_keeps_the_sub,
    deleting_a_person_frees_their_username_and_drops_their_credentials,
    an_address_is_claimed_at_creation_whatever_its_case,
    changing_the_address_keeps_the_sub_and_frees_the_old_one,
    deleting_a_person_leaves_alone_what_is_not_theirs,
    an_unbacked_address_is_claimed_once_and_never_from_its_owner,
    verification_and_revocation_times_round_trip,
    providers_are_created_once_listed_updated_and_deleted,
    an_upstream_state_is_spent_once_and_only_by_its_browser,
    an_upstream_state_is_spent_exactly_once_under_8_concurrent_attempts,
    an_upstream_identity_is_linked_once_and_found_and_freed_with_its_person,
    a_link_writes_nothing_over_a_change_and_drops_the_credential_it_names,
    a_credential_is_replaced_only_as_it_was_read,
    of_8_concurrent_replacements_of_one_credential_one_wins,
    a_recovery_code_is_spent_once,
    a_recovery_code_is_spent_exactly_once_under_8_concurrent_attempts,
    factors_change_together_with_the_record,
    a_factor_change_writes_nothing_over_a_moved_epoch,
    a_factor_change_for_no_one_is_not_found,
    a_factor_change_deleting_a_gone_credential_changes_nothing,
    a_malformed_factor_change_is_refused,
    a_ceremony_is_taken_once_and_never_once_expired,
    a_ceremony_is_taken_exactly_once_under_8_concurrent_attempts,
    a_passkey_user_is_an_identifier_of_the_person,
    the_first_passkey_points_its_user_handle_at_the_person,
    a_flow_is_stored_found_replaced_and_deleted,
    an_expired_flow_or_challenge_is_absent_while_still_stored,
    a_new_challenge_replaces_the_old_one,
    challenges_of_other_kinds_and_people_are_their_own,
    a_code_is_good_only_in_its_flow_and_a_link_anywhere,
    a_wrong_proof_changes_nothing,
    a_challenge_is_spent_exactly_once_under_8_concurrent_attempts,
    a_deleted_challenge_is_gone,
    expired_code_is_invisible_even_while_still_stored,
    code_is_consumed_exactly_once_under_32_concurrent_consumers,
    consumed_code_is_recognised_as_replayed_after_its_validity,
    code_past_its_validity_cannot_be_consumed,
    retried_consume_with_the_same_id_is_not_a_replay,
    unknown_code_is_invalid,
    refresh_rotation_lets_one_of_16_concurrent_rotations_win,
    rotated_refresh_token_presented_again_is_reused,
    expired_refresh_token_does_not_rotate,
    retried_rotation_is_not_a_reuse,
    retired_digests_keep_their_order,
    revoking_a_grant_kills_its_whole_family,
    access_token_past_expiry_is_invisible,
    access_token_looked_up_with_the_wrong_grant_is_invisible,
    standalone_access_token_can_be_revoked,
    throttle_counter_counts_within_its_window_and_restarts_after,
);

/// A file store in a new file of its own under the system's temporary directory.
fn fresh_file_store() -> zeroauth_shared::store::file::FileStore {
    let name =
        format!("zeroauth-suite-{}.db", zeroauth_shared::crypto::random_string(9).expect("randomness"));
    let path = std::env::temp_dir().join(name);
    zeroauth_shared::store::file::FileStore::open(&path).unwrap_or_else(|e| panic!("{e}"))
}

// Keep the unused-import lint quiet for the helpers the macro names by path.
#[allow(dead_code)]
fn _types(_: MemoryStore) {}
#[allow(dead_code)]
async fn _dynamo() {
    let _ = fresh_dynamo_store;
}

fn client(id: &str) -> Client {
    Client {
        client_id: id.into(),
        name: format!("App {id}"),
        secret_hash: Some("hash".into()),
        redirect_uris: vec!["https://app.example/cb".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: Scope::from_stored("openid profile"),
        trusted: false,
        disabled: false,
        created_at: T0,
        tokens: Default::default(),
        source: Default::default(),
        expires_at: None,
        dialect: Default::default(),
    }
}

fn code(digest: &str) -> CodeRecord {
    CodeRecord {
        digest: digest.into(),
        client_id: "c1".into(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scope: Scope::from_stored("openid"),
        username: Some("alice".into()),
        sub: "sub-alice".into(),
        code_challenge: Some("challenge".into()),
        nonce: None,
        state: Some("a b&é".into()),
        issued_at: T0,
        valid_until: T0 + 30,
        expires_at: T0 + 600,
        redeemed: None,
        auth_time: 0,
        amr: vec![],
        idp: None,
        upstream: None,
        resource: None,
    }
}

fn grant(id: &str, refresh_digest: &str) -> Grant {
    Grant {
        grant_id: id.into(),
        client_id: "c1".into(),
        username: Some("alice".into()),
        sub: "sub-alice".into(),
        scope: Scope::from_stored("openid"),
        refresh_digest: Some(refresh_digest.into()),
        retired_digests: vec![],
        refresh_expires_at: T0 + 86_400,
        revoked: false,
        created_at: T0,
        expires_at: T0 + 86_400,
        auth_time: 0,
        amr: vec![],
        idp: None,
        upstream: None,
        resource: None,
        last_rotation: None,
    }
}

fn access(digest: &str, grant_id: Option<&str>) -> AccessTokenRecord {
    AccessTokenRecord {
        digest: digest.into(),
        grant_id: grant_id.map(str::to_owned),
        client_id: "c1".into(),
        username: Some("alice".into()),
        sub: Some("sub-alice".into()),
        scope: Scope::from_stored("openid"),
        issued_at: T0,
        expires_at: T0 + 3600,
        audience: None,
        kind: Default::default(),
    }
}

fn issuance(n: usize) -> Issuance {
    let gid = format!("grant-{n}");
    Issuance {
        consume_id: format!("consume-{n}"),
        grant: grant(&gid, &format!("rt-{n}")),
        access: Some(access(&format!("at-{n}"), Some(&gid))),
    }
}

fn rotation(presented: &str, new: &str, at: &str, gid: &str) -> Rotation {
    Rotation {
        retired: vec![presented.into()],
        presented_digest: presented.into(),
        new_digest: new.into(),
        new_refresh_expires_at: T0 + 2 * 86_400,
        access: Some(access(at, Some(gid))),
        last: None,
        upstream: None,
    }
}

/// Stores a grant with its first access token by redeeming a code for it.
async fn seed_grant(store: &dyn Store, n: usize) -> Issuance {
    let iss = issuance(n);
    store.put_code(&code(&format!("seed-code-{n}"))).await.unwrap();
    assert_eq!(
        store.consume_code(&format!("seed-code-{n}"), &iss, T0).await.unwrap(),
        ConsumeOutcome::Consumed
    );
    iss
}

async fn clients_are_created_once_listed_updated_and_deleted(store: Arc<dyn Store>) {
    store.create_client(&client("b")).await.unwrap();
    store.create_client(&client("a")).await.unwrap();
    assert!(matches!(store.create_client(&client("a")).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_client("a").await.unwrap(), Some(client("a")));
    assert_eq!(store.get_client("zz").await.unwrap(), None);
    let ids: Vec<_> = store.list_clients().await.unwrap().into_iter().map(|c| c.client_id).collect();
    assert_eq!(ids, ["a", "b"]);
    let mut changed = client("a");
    changed.secret_hash = None;
    changed.trusted = true;
    store.update_client(&changed).await.unwrap();
    assert_eq!(store.get_client("a").await.unwrap(), Some(changed));
    assert!(matches!(store.update_client(&client("nope")).await, Err(StoreError::NotFound(_))));
    assert!(store.delete_client("a").await.unwrap());
    assert!(!store.delete_client("a").await.unwrap());
    assert_eq!(store.get_client("a").await.unwrap(), None);
}

async fn a_self_registered_client_keeps_its_source_and_expiry(store: Arc<dyn Store>) {
    let mut registered = client("dcr");
    registered.source = ClientSource::Registration;
    registered.expires_at = Some(T0 + 86_400);
    store.create_client(&registered).await.unwrap();
    assert_eq!(store.get_client("dcr").await.unwrap(), Some(registered.clone()));
    registered.expires_at = Some(T0 + 2 * 86_400);
    store.update_client(&registered).await.unwrap();
    assert_eq!(store.get_client("dcr").await.unwrap().and_then(|c| c.expires_at), Some(T0 + 2 * 86_400));
}

async fn a_client_is_found_by_its_aliases_which_no_other_client_can_take(store: Arc<dyn Store>) {
    let mut gate = client("gate_1");
    gate.dialect =
        Dialect { client_id_aliases: vec!["my-gate".into(), "gate-alias".into()], ..Default::default() };
    store.create_client(&gate).await.unwrap();
    assert_eq!(store.get_client("my-gate").await.unwrap(), Some(gate.clone()), "found by its alias");
    assert_eq!(store.get_client("gate_1").await.unwrap(), Some(gate.clone()), "and by its id");
    let ids: Vec<_> = store.list_clients().await.unwrap().into_iter().map(|c| c.client_id).collect();
    assert_eq!(ids, ["gate_1"], "aliases are not listed as clients");

    // An alias can take neither an id nor another alias, nor an id an alias;
    // a refused client leaves none of its aliases behind.
    let mut thief = client("thief");
    thief.dialect.client_id_aliases = vec!["fresh".into(), "my-gate".into()];
    assert!(matches!(store.create_client(&thief).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_client("thief").await.unwrap(), None);
    assert_eq!(store.get_client("fresh").await.unwrap(), None, "nothing half-written");
    thief.dialect.client_id_aliases = vec!["gate_1".into()];
    assert!(matches!(store.create_client(&thief).await, Err(StoreError::Conflict(_))));
    assert!(matches!(store.create_client(&client("gate-alias")).await, Err(StoreError::Conflict(_))));

    let mut renamed = gate.clone();
    renamed.name = "Renamed".into();
    store.update_client(&renamed).await.unwrap();
    assert_eq!(store.get_client("gate-alias").await.unwrap().map(|c| c.name), Some("Renamed".into()));
    assert!(store.delete_client("gate_1").await.unwrap());
    assert_eq!(store.get_client("my-gate").await.unwrap(), None);
    store.create_client(&client("my-gate")).await.unwrap();
    assert_eq!(
        store.get_client("my-gate").await.unwrap().map(|c| c.client_id),
        Some("my-gate".into()),
        "freed"
    );
}

fn api_key(id: &str, expires_at: i64) -> ApiKey {
    ApiKey {
        id: id.into(),
        digest: format!("digest-{id}"),
        client_id: "app".into(),
        username: Some("alice".into()),
        sub: Some("sub-alice".into()),
        scope: Scope::from_stored("read:user"),
        created_at: T0,
        expires_at,
        last_used_at: None,
    }
}

async fn api_keys_are_created_found_touched_listed_and_revoked(store: Arc<dyn Store>) {
    store.create_api_key(&api_key("k2", T0 + 100)).await.unwrap();
    store.create_api_key(&api_key("k1", T0 + 100)).await.unwrap();
    store.create_api_key(&api_key("old", T0 + 10)).await.unwrap();
    assert!(matches!(store.create_api_key(&api_key("k1", T0 + 5)).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.get_api_key("k1", T0).await.unwrap(), Some(api_key("k1", T0 + 100)));
    assert_eq!(store.get_api_key("old", T0 + 10).await.unwrap(), None, "expired is absent while stored");
    store.touch_api_key("k1", T0 + 60).await.unwrap();
    assert_eq!(store.get_api_key("k1", T0).await.unwrap().and_then(|k| k.last_used_at), Some(T0 + 60));
    let ids: Vec<_> = store.list_api_keys(T0 + 20).await.unwrap().into_iter().map(|k| k.id).collect();
    assert_eq!(ids, ["k1", "k2"]);
    assert!(store.delete_api_key("k1").await.unwrap());
    assert!(!store.delete_api_key("k1").await.unwrap());
    store.touch_api_key("k1", T0 + 70).await.unwrap();
    assert_eq!(
        store.get_api_key("k1", T0).await.unwrap(),
        None,
        "a use after revocation does not bring it back"
    );
}

fn resource(uri: &str) -> Resource {
    Resource {
        uri: uri.into(),
        scopes: Scope::from_stored("mcp:tools mcp:read"),
        clients: vec!["resource-server".into()],
        created_at: T0,
    }
}

async fn resources_are_created_once_listed_and_deleted(store: Arc<dyn Store>) {
    store.create_resource(&resource("https://b.example/mcp")).await.unwrap();
    store.create_resource(&resource("https://a.example/api")).await.unwrap();
    assert!(matches!(
        store.create_resource(&resource("https://a.example/api")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.get_resource("https://a.example/api").await.unwrap(),
        Some(resource("https://a.example/api"))
    );
    assert_eq!(store.get_resource("https://a.example/api/").await.unwrap(), None, "URIs match exactly");
    let uris: Vec<_> = store.list_resources().await.unwrap().into_iter().map(|r| r.uri).collect();
    assert_eq!(uris, ["https://a.example/api", "https://b.example/mcp"]);
    assert!(store.delete_resource("https://a.example/api").await.unwrap());
    assert!(!store.delete_resource("https://a.example/api").await.unwrap());
    assert_eq!(store.get_resource("https://a.example/api").await.unwrap(), None);
}

async fn the_resource_a_code_names_reaches_its_grant_and_access_token(store: Arc<dyn Store>) {
    let uri = "https://mcp.example/mcp";
    let mut c = code("bound");
    c.resource = Some(uri.into());
    store.put_code(&c).await.unwrap();
    assert_eq!(store.get_code("bound", T0).await.unwrap().and_then(|c| c.resource).as_deref(), Some(uri));
    let mut iss = issuance(7);
    iss.grant.resource = Some(uri.into());
    if let Some(at) = iss.access.as_mut() {
        at.audience = Some(uri.into());
    }
    assert_eq!(store.consume_code("bound", &iss, T0).await.unwrap(), ConsumeOutcome::Consumed);
    let grant = store.get_grant("grant-7", T0).await.unwrap().unwrap();
    assert_eq!(grant.resource.as_deref(), Some(uri));
    let at = store.find_access_token("at-7", Some("grant-7"), T0).await.unwrap().unwrap();
    assert_eq!(at.audience.as_deref(), Some(uri));
}

async fn a_rotation_remembers_its_sealed_pair_and_the_next_one_replaces_it(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 8).await;
    let last = LastRotation { presented_digest: "rt-8".into(), at: T0 + 5, sealed: "sealed-pair".into() };
    let mut first = rotation("rt-8", "rt-8b", "at-8b", "grant-8");
    first.last = Some(last.clone());
    assert_eq!(store.rotate_refresh("grant-8", &first, T0 + 5).await.unwrap(), RotateOutcome::Rotated);
    let grant = store.get_grant("grant-8", T0 + 5).await.unwrap().unwrap();
    assert_eq!(grant.last_rotation, Some(last));
    let mut second = rotation("rt-8b", "rt-8c", "at-8c", "grant-8");
    second.retired = vec!["rt-8".into(), "rt-8b".into()];
    assert_eq!(store.rotate_refresh("grant-8", &second, T0 + 6).await.unwrap(), RotateOutcome::Rotated);
    let grant = store.get_grant("grant-8", T0 + 6).await.unwrap().unwrap();
    assert_eq!(grant.last_rotation, None, "a rotation without grace forgets the previous pair");
}

async fn expired_code_is_invisible_even_while_still_stored(store: Arc<dyn Store>) {
    store.put_code(&code("d1")).await.unwrap();
    assert!(store.get_code("d1", T0 + 599).await.unwrap().is_some());
    assert_eq!(store.get_code("d1", T0 + 600).await.unwrap(), None);
    assert_eq!(store.consume_code("d1", &issuance(1), T0 + 600).await.unwrap(), ConsumeOutcome::Invalid);
}

async fn code_is_consumed_exactly_once_under_32_concurrent_consumers(store: Arc<dyn Store>) {
    store.put_code(&code("d1")).await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.consume_code("d1", &issuance(i), T0 + 1).await })
        })
        .collect();
    let mut consumed = 0;
    let mut replayed = 0;
    for t in tasks {
        match t.await.unwrap().unwrap() {
            ConsumeOutcome::Consumed => consumed += 1,
            ConsumeOutcome::Replayed { .. } => replayed += 1,
            ConsumeOutcome::Invalid => panic!("a live code was reported invalid"),
        }
    }
    assert_eq!((consumed, replayed), (1, 31));
    let stored = store.get_code("d1", T0 + 1).await.unwrap().unwrap();
    let winner = stored.redeemed.unwrap().grant_id;
    assert!(store.get_grant(&winner, T0 + 1).await.unwrap().is_some(), "the winner's grant was stored");
}

async fn consumed_code_is_recognised_as_replayed_after_its_validity(store: Arc<dyn Store>) {
    store.put_code(&code("d1")).await.unwrap();
    assert_eq!(store.consume_code("d1", &issuance(1), T0 + 5).await.unwrap(), ConsumeOutcome::Consumed);
    assert_eq!(
        store.consume_code("d1", &issuance(2), T0 + 31).await.unwrap(),
        ConsumeOutcome::Replayed { grant_id: "grant-1".into() }
    );
    assert!(store.get_grant("grant-2", T0 + 31).await.unwrap().is_none(), "a replay writes nothing");
}

async fn code_past_its_validity_cannot_be_consumed(store: Arc<dyn Store>) {
    store.put_code(&code("d1")).await.unwrap();
    assert_eq!(store.consume_code("d1", &issuance(1), T0 + 30).await.unwrap(), ConsumeOutcome::Invalid);
    assert!(store.get_grant("grant-1", T0 + 30).await.unwrap().is_none(), "nothing half-written");
    assert!(store.find_access_token("at-1", Some("grant-1"), T0 + 30).await.unwrap().is_none());
}

async fn retried_consume_with_the_same_id_is_not_a_replay(store: Arc<dyn Store>) {
    store.put_code(&code("d1")).await.unwrap();
    let iss = issuance(1);
    assert_eq!(store.consume_code("d1", &iss, T0 + 1).await.unwrap(), ConsumeOutcome::Consumed);
    assert_eq!(store.consume_code("d1", &iss, T0 + 2).await.unwrap(), ConsumeOutcome::Consumed);
}

async fn unknown_code_is_invalid(store: Arc<dyn Store>) {
    assert_eq!(store.consume_code("nope", &issuance(1), T0).await.unwrap(), ConsumeOutcome::Invalid);
    assert_eq!(store.get_code("nope", T0).await.unwrap(), None);
}

async fn refresh_rotation_lets_one_of_16_concurrent_rotations_win(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = rotation("rt-1", &format!("rt-new-{i}"), &format!("at-new-{i}"), "grant-1");
                store.rotate_refresh("grant-1", &r, T0 + 10).await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| **o == RotateOutcome::Rotated).count(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| *o != RotateOutcome::Invalid), "{outcomes:?}");
}

async fn rotated_refresh_token_presented_again_is_reused(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let first = rotation("rt-1", "rt-2", "at-2", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &first, T0 + 10).await.unwrap(), RotateOutcome::Rotated);
    let g = store.get_grant("grant-1", T0 + 10).await.unwrap().unwrap();
    assert_eq!(g.refresh_digest.as_deref(), Some("rt-2"));
    assert!(store.find_access_token("at-2", Some("grant-1"), T0 + 10).await.unwrap().is_some());
    let again = rotation("rt-1", "rt-3", "at-3", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &again, T0 + 20).await.unwrap(), RotateOutcome::Reused);
    let never = rotation("rt-never", "rt-4", "at-4", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &never, T0 + 20).await.unwrap(), RotateOutcome::Invalid);
    assert!(store.find_access_token("at-3", Some("grant-1"), T0 + 20).await.unwrap().is_none());
}

async fn expired_refresh_token_does_not_rotate(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let r = rotation("rt-1", "rt-2", "at-2", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &r, T0 + 86_400).await.unwrap(), RotateOutcome::Invalid);
    assert_eq!(store.get_grant("grant-1", T0 + 86_400).await.unwrap(), None);
}

async fn retried_rotation_is_not_a_reuse(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let r = rotation("rt-1", "rt-2", "at-2", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &r, T0 + 10).await.unwrap(), RotateOutcome::Rotated);
    assert_eq!(store.rotate_refresh("grant-1", &r, T0 + 11).await.unwrap(), RotateOutcome::Rotated);
}

async fn revoking_a_grant_kills_its_whole_family(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let r = rotation("rt-1", "rt-2", "at-2", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &r, T0 + 10).await.unwrap(), RotateOutcome::Rotated);
    store.revoke_grant("grant-1").await.unwrap();
    for at in ["at-1", "at-2"] {
        assert!(store.find_access_token(at, Some("grant-1"), T0 + 11).await.unwrap().is_none());
    }
    let next = rotation("rt-2", "rt-3", "at-3", "grant-1");
    assert_eq!(store.rotate_refresh("grant-1", &next, T0 + 12).await.unwrap(), RotateOutcome::Invalid);
    assert!(store.get_grant("grant-1", T0 + 12).await.unwrap().unwrap().revoked);
    store.revoke_grant("never-existed").await.unwrap();
    assert!(store.get_grant("never-existed", T0).await.unwrap().is_none(), "revoking creates nothing");
}

async fn access_token_past_expiry_is_invisible(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    assert!(store.find_access_token("at-1", Some("grant-1"), T0 + 3599).await.unwrap().is_some());
    assert!(store.find_access_token("at-1", Some("grant-1"), T0 + 3600).await.unwrap().is_none());
}

async fn access_token_looked_up_with_the_wrong_grant_is_invisible(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    seed_grant(store.as_ref(), 2).await;
    assert!(store.find_access_token("at-1", Some("grant-2"), T0).await.unwrap().is_none());
    assert!(store.find_access_token("at-1", None, T0).await.unwrap().is_none());
}

async fn standalone_access_token_can_be_revoked(store: Arc<dyn Store>) {
    store.put_access_token(&access("cc-1", None)).await.unwrap();
    let found = store.find_access_token("cc-1", None, T0).await.unwrap().unwrap();
    assert_eq!(found.client_id, "c1");
    store.revoke_access_token("cc-1").await.unwrap();
    assert!(store.find_access_token("cc-1", None, T0).await.unwrap().is_none());
    store.revoke_access_token("cc-1").await.unwrap();
}

async fn throttle_counter_counts_within_its_window_and_restarts_after(store: Arc<dyn Store>) {
    assert_eq!(store.hits("ip:1", T0).await.unwrap(), 0);
    for expected in 1..=3 {
        assert_eq!(store.hit("ip:1", T0 + 60, T0 + 1).await.unwrap(), expected);
    }
    assert_eq!(store.hits("ip:1", T0 + 59).await.unwrap(), 3);
    assert_eq!(store.hits("ip:1", T0 + 60).await.unwrap(), 0, "expired window reads as zero");
    assert_eq!(store.hit("ip:1", T0 + 120, T0 + 61).await.unwrap(), 1, "a new window starts at one");
    store.clear("ip:1").await.unwrap();
    assert_eq!(store.hits("ip:1", T0 + 61).await.unwrap(), 0);
}

async fn retired_digests_keep_their_order(store: Arc<dyn Store>) {
    seed_grant(store.as_ref(), 1).await;
    let mut presented = "rt-1".to_owned();
    for i in 2..=12 {
        let g = store.get_grant("grant-1", T0).await.unwrap().unwrap();
        let mut r = rotation(&presented, &format!("rt-{i}"), &format!("at-{i}"), "grant-1");
        r.retired = retire(&g.retired_digests, &presented);
        assert_eq!(store.rotate_refresh("grant-1", &r, T0 + i).await.unwrap(), RotateOutcome::Rotated);
        presented = format!("rt-{i}");
    }
    let g = store.get_grant("grant-1", T0).await.unwrap().unwrap();
    let expected: Vec<String> = (1..=11).map(|i| format!("rt-{i}")).collect();
    assert_eq!(g.retired_digests, expected, "oldest first, so the oldest are the ones dropped");
}

/// People of an earlier release as a legacy `USER` item (DynamoDB) or
/// `users` row (file): two of them sharing an address, as that release allowed.
const LEGACY: [(&str, &str); 2] = [("olda", "u-olda"), ("oldb", "u-oldb")];
const SHARED_ADDRESS: &str = "Shared@Example.com";

/// The moved people kept their username, sub and address, and claimed no
/// address, so both moved and either may be deleted.
async fn legacy_people_moved_with_their_usernames_only(store: &dyn Store) {
    use zeroauth_shared::domain::Identifier;
    for (name, sub) in LEGACY {
        let id = Identifier::Username(name.into());
        assert_eq!(store.find_identifier(&id).await.unwrap().as_deref(), Some(sub));
        let moved = store.get_person(sub, None).await.unwrap().unwrap();
        assert_eq!((moved.email.as_deref(), moved.email_verified), (Some(SHARED_ADDRESS), true));
    }
    assert_eq!(store.find_identifier(&Identifier::email(SHARED_ADDRESS)).await.unwrap(), None);
    let olda = store.get_person("u-olda", None).await.unwrap().unwrap();
    assert!(store.delete_person(&olda).await.unwrap(), "an address with no item does not stop a delete");
    assert_eq!(store.find_identifier(&Identifier::Username("olda".into())).await.unwrap(), None);
}

#[tokio::test]
async fn dynamodb_legacy_people_sharing_an_address_both_move() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let store = fresh_dynamo_store().await;
    for (name, sub) in LEGACY {
        let s = |v: &str| AttributeValue::S(v.into());
        store
            .client()
            .put_item()
            .table_name(store.table())
            .item("pk", s("USER"))
            .item("sk", s(name))
            .item("sub", s(sub))
            .item("email", s(SHARED_ADDRESS))
            .item("password_hash", s("$argon2id$old"))
            .item("disabled", AttributeValue::Bool(false))
            .item("created_at", AttributeValue::N(T0.to_string()))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(store.migrate_legacy().await.unwrap(), 2);
    legacy_people_moved_with_their_usernames_only(&store).await;
}

#[tokio::test]
async fn a_file_of_an_earlier_release_opens_and_moves_people_sharing_an_address() {
    let path = fresh_file_store().path().to_owned();
    {
        // As the earlier release left it: people in `users`, no flow or ceremony tables.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE flows; DROP TABLE challenges; DROP TABLE ceremonies;").unwrap();
        for (name, sub) in LEGACY {
            let body = serde_json::json!({
                "username": name, "sub": sub, "email": SHARED_ADDRESS, "name": null,
                "password_hash": "$argon2id$old", "disabled": false, "created_at": T0,
            });
            conn.execute(
                "INSERT INTO users (id, expires_at, body) VALUES (?1, NULL, ?2)",
                rusqlite::params![name, body.to_string()],
            )
            .unwrap();
        }
    }
    let store = zeroauth_shared::store::file::FileStore::open(&path).unwrap_or_else(|e| panic!("{e}"));
    legacy_people_moved_with_their_usernames_only(&store).await;
    let flow = zeroauth_shared::domain::Flow {
        handle: "h".into(),
        kind: zeroauth_shared::domain::ChallengeKind::Verify,
        sub: None,
        email: "a@example.com".into(),
        return_to: None,
        created_at: T0,
        expires_at: T0 + 60,
    };
    store.put_flow(&flow).await.unwrap();
    assert_eq!(store.get_flow("h", T0).await.unwrap(), Some(flow), "the flow tables were added");
    let ceremony = zeroauth_shared::domain::Ceremony {
        handle: "c".into(),
        kind: zeroauth_shared::domain::CeremonyKind::TotpEnrollment,
        sub: Some("u-oldb".into()),
        data: "sealed".into(),
        expires_at: T0 + 60,
    };
    store.put_ceremony(&ceremony).await.unwrap();
    assert_eq!(store.take_ceremony("c", T0).await.unwrap(), Some(ceremony), "and the ceremonies'");
}
