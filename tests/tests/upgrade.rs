//! A table written by the earlier release, item shapes and all, keeps
//! working after the upgrade: its people (kept by username, with the
//! password on the same item), their grants and tokens. Nothing is lost:
//! the old tokens keep working, the person signs in with the same password
//! and keeps the same `sub`, and `zeroauth table migrate`'s work moves the
//! rest.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use zeroauth_e2e::{PASSWORD, Server};
use zeroauth_shared::crypto;
use zeroauth_shared::oauth::tokens;
use zeroauth_shared::secret::Password;
use zeroauth_shared::store::dynamodb::DynamoStore;
use zeroauth_shared::store::{PeopleStore, Store};
use zeroauth_shared::testing::fresh_dynamo_store;

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

async fn put(store: &DynamoStore, item: Vec<(&str, AttributeValue)>) {
    let item: HashMap<String, AttributeValue> = item.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    store
        .client()
        .put_item()
        .table_name(store.table())
        .set_item(Some(item))
        .send()
        .await
        .expect("a raw write");
}

async fn exists(store: &DynamoStore, pk: &str, sk: &str) -> bool {
    let out = store
        .client()
        .get_item()
        .table_name(store.table())
        .key("pk", s(pk))
        .key("sk", s(sk))
        .consistent_read(true)
        .send()
        .await
        .expect("a raw read");
    out.item.is_some()
}

/// A person as the earlier release wrote them.
async fn legacy_person(store: &DynamoStore, username: &str, sub: &str, now: i64) {
    let hash = crypto::hash_password(&Password::new(PASSWORD)).expect("a hash");
    put(
        store,
        vec![
            ("pk", s("USER")),
            ("sk", s(username)),
            ("sub", s(sub)),
            ("email", s(&format!("{username}@example.com"))),
            ("name", s("Old Timer")),
            ("password_hash", s(&hash)),
            ("disabled", AttributeValue::Bool(false)),
            ("created_at", n(now - 86_400)),
            ("sign_outs", n(0)),
        ],
    )
    .await;
}

/// A grant and its tokens as the earlier release wrote them: the person by
/// username and sub, no `amr`. Returns (access token, refresh token).
async fn legacy_grant(
    store: &DynamoStore,
    client_id: &str,
    username: &str,
    sub: &str,
    now: i64,
) -> (String, String) {
    let grant_id = tokens::new_grant_id().expect("an id");
    let access = tokens::mint_access(Some(&grant_id)).expect("a token").secret().to_owned();
    let refresh = tokens::mint_refresh(&grant_id).expect("a token").secret().to_owned();
    put(
        store,
        vec![
            ("pk", s(&format!("GRANT#{grant_id}"))),
            ("sk", s("GRANT")),
            ("client_id", s(client_id)),
            ("username", s(username)),
            ("sub", s(sub)),
            ("scope", s("openid profile")),
            ("refresh_digest", s(&tokens::digest(&refresh))),
            ("retired", AttributeValue::L(vec![])),
            ("refresh_expires_at", n(now + 86_400)),
            ("revoked", AttributeValue::Bool(false)),
            ("created_at", n(now - 60)),
            ("expires_at", n(now + 86_400)),
            ("auth_time", n(now - 60)),
        ],
    )
    .await;
    put(
        store,
        vec![
            ("pk", s(&format!("AT#{}", tokens::digest(&access)))),
            ("sk", s("AT")),
            ("grant_id", s(&grant_id)),
            ("client_id", s(client_id)),
            ("username", s(username)),
            ("sub", s(sub)),
            ("scope", s("openid profile")),
            ("issued_at", n(now - 60)),
            ("expires_at", n(now + 3600)),
        ],
    )
    .await;
    (access, refresh)
}

#[tokio::test]
async fn a_table_of_the_earlier_release_keeps_its_people_and_tokens() {
    let store = Arc::new(fresh_dynamo_store().await);
    let s = Server::on_store(store.clone() as Arc<dyn Store>).await;
    let client = s.confidential_client().await;
    let now = s.clock_now();
    legacy_person(&store, "olda", "u-olda", now).await;
    let (access, refresh) = legacy_grant(&store, &client.id, "olda", "u-olda", now).await;

    // Before anyone signs in: the old tokens work, the person is found by
    // the username the records carry.
    let info = s.userinfo(&access).await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(
        (info.json()["sub"].clone(), info.json()["preferred_username"].clone()),
        ("u-olda".into(), "olda".into())
    );
    let seen = s.post_form("/introspect", Some(&client), &[("token", &access)]).await.json();
    assert_eq!((seen["active"].clone(), seen["username"].clone()), (true.into(), "olda".into()));
    let refreshed = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");
    assert_eq!(s.userinfo(&refreshed.field("access_token")).await.json()["sub"], "u-olda");
    assert!(exists(&store, "USER", "olda").await, "reading moves nobody");

    // Signing in with the same password moves the person to the new records.
    let code = s.browser().code_for(&client, "olda", &[]).await;
    let fresh = s.exchange(&client, &code, &[]).await;
    assert_eq!(s.userinfo(&fresh.field("access_token")).await.json()["sub"], "u-olda", "the same sub");
    assert!(!exists(&store, "USER", "olda").await, "the legacy item is gone");
    assert!(exists(&store, "PERSON", "u-olda").await, "the person is kept by sub");
    assert!(exists(&store, "IDENT#username:olda", "IDENT").await, "and found by username");
    assert!(exists(&store, "CRED#u-olda", "password:password").await, "with their password");
    let person = store.get_person("u-olda", None).await.expect("a read").expect("moved");
    assert_eq!(
        (person.email.as_deref(), person.name.as_deref()),
        (Some("olda@example.com"), Some("Old Timer"))
    );
    // Tokens from before the move still work; so does the refresh token
    // the first refresh handed out.
    assert_eq!(s.userinfo(&access).await.status, 200, "the pre-upgrade access token");
    let again = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &refreshed.field("refresh_token"))],
        )
        .await;
    assert_eq!(again.status, 200, "{again:?}");
    s.browser().code_for(&client, "olda", &[]).await;
}

#[tokio::test]
async fn migrating_moves_every_legacy_person_once_and_can_be_run_again() {
    let store = Arc::new(fresh_dynamo_store().await);
    let s = Server::on_store(store.clone() as Arc<dyn Store>).await;
    let client = s.confidential_client().await;
    let now = s.clock_now();
    for (name, sub) in [("oldb", "u-oldb"), ("oldc", "u-oldc")] {
        legacy_person(&store, name, sub, now).await;
    }
    let (access, _) = legacy_grant(&store, &client.id, "oldb", "u-oldb", now).await;
    assert_eq!(store.list_people().await.expect("a list").len(), 2, "legacy people are listed");
    assert_eq!(store.migrate_legacy().await.expect("migrate"), 2);
    assert_eq!(store.migrate_legacy().await.expect("again"), 0, "idempotent");
    assert!(!exists(&store, "USER", "oldb").await && !exists(&store, "USER", "oldc").await);
    assert_eq!(store.list_people().await.expect("a list").len(), 2, "nobody doubled or lost");
    assert_eq!(s.userinfo(&access).await.json()["sub"], "u-oldb");
    s.browser().code_for(&client, "oldc", &[]).await;
}
