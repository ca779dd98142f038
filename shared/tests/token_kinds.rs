//! An access-token record's kind survives every store, and a record the
//! previous release wrote (no kind; a `jwt:` or `apikey:` prefix on its
//! digest where it was not opaque) is read with the right one.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use zeroauth_shared::domain::{AccessTokenKind, AccessTokenRecord};
use zeroauth_shared::oauth::Scope;
use zeroauth_shared::store::TokenStore;
use zeroauth_shared::store::dynamodb::item::access_key;
use zeroauth_shared::store::file::FileStore;
use zeroauth_shared::store::memory::MemoryStore;
use zeroauth_shared::testing::fresh_dynamo_store;

const T0: i64 = 1_800_000_000;
const KINDS: [AccessTokenKind; 3] = [AccessTokenKind::Opaque, AccessTokenKind::Jwt, AccessTokenKind::ApiKey];

fn record(digest: &str, kind: AccessTokenKind) -> AccessTokenRecord {
    AccessTokenRecord {
        digest: digest.into(),
        grant_id: None,
        client_id: "c1".into(),
        username: None,
        sub: None,
        scope: Scope::from_stored("read"),
        issued_at: T0,
        expires_at: T0 + 3600,
        audience: None,
        kind,
    }
}

fn temp_file() -> std::path::PathBuf {
    let rand = zeroauth_shared::crypto::random_string(9).unwrap();
    std::env::temp_dir().join(format!("zeroauth-token-kinds-{rand}.db"))
}

async fn each_kind_comes_back(store: Arc<dyn TokenStore>) {
    for kind in KINDS {
        let digest = format!("d-{}", kind.as_str());
        store.put_access_token(&record(&digest, kind)).await.unwrap();
        let read = store.get_access_token(&digest, T0).await.unwrap();
        assert_eq!(read, Some(record(&digest, kind)), "the {kind:?} record comes back as it was");
    }
}

#[tokio::test]
async fn each_kind_comes_back_from_the_memory_store() {
    each_kind_comes_back(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn each_kind_comes_back_from_the_file_store() {
    each_kind_comes_back(Arc::new(FileStore::open(&temp_file()).unwrap())).await;
}

#[tokio::test]
async fn each_kind_comes_back_from_dynamodb() {
    each_kind_comes_back(Arc::new(fresh_dynamo_store().await)).await;
}

/// Stored digest, the digest and kind it reads as once its kind is gone.
const LEGACY: [(&str, &str, AccessTokenKind); 3] = [
    ("plain-digest", "plain-digest", AccessTokenKind::Opaque),
    ("jwt:j1", "j1", AccessTokenKind::Jwt),
    ("apikey:k1", "k1", AccessTokenKind::ApiKey),
];

#[tokio::test]
async fn a_file_store_row_without_a_kind_reads_with_the_kind_its_digest_said() {
    let path = temp_file();
    let store = FileStore::open(&path).unwrap();
    let sql = rusqlite::Connection::open(&path).unwrap();
    for (stored, digest, kind) in LEGACY {
        store.put_access_token(&record(stored, AccessTokenKind::Opaque)).await.unwrap();
        let changed = sql
            .execute("UPDATE access_tokens SET body = json_remove(body, '$.kind') WHERE id = ?1", [stored])
            .unwrap();
        assert_eq!(changed, 1, "the row of {stored} lost its kind");
        let read = store.get_access_token(stored, T0).await.unwrap();
        assert_eq!(read, Some(record(digest, kind)), "{stored}");
    }
}

#[tokio::test]
async fn a_dynamodb_item_without_a_kind_reads_with_the_kind_its_digest_said() {
    let store = fresh_dynamo_store().await;
    for (stored, digest, kind) in LEGACY {
        // Written with its kind named, so the item has the attribute to remove.
        store.put_access_token(&record(stored, AccessTokenKind::ApiKey)).await.unwrap();
        let (pk, sk) = access_key(stored);
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression("REMOVE kind")
            .condition_expression("attribute_exists(kind)")
            .send()
            .await
            .unwrap_or_else(|e| panic!("removing the kind of {stored}: {e:?}"));
        let read = store.get_access_token(stored, T0).await.unwrap();
        assert_eq!(read, Some(record(digest, kind)), "{stored}");
    }
}
