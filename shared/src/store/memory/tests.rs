//! The embedded store's own tests (the shared suite is in shared/tests/store_suite.rs).

use super::*;
use crate::oauth::Scope;

fn token(digest: String, issued_at: i64, ttl: i64) -> AccessTokenRecord {
    AccessTokenRecord {
        digest,
        grant_id: None,
        client_id: "c".into(),
        username: None,
        sub: None,
        scope: Scope::from_stored("a"),
        issued_at,
        expires_at: issued_at + ttl,
        audience: None,
        kind: Default::default(),
    }
}

#[tokio::test]
async fn memory_stays_proportional_to_live_tokens() {
    let store = MemoryStore::new();
    // One token a "second" for 10,000 seconds, each living 10 seconds.
    for i in 0..10_000 {
        store.put_access_token(&token(format!("t{i}"), i, 10)).await.unwrap();
    }
    assert!(store.held() <= 11, "expired tokens are removed as writes go on: {} held", store.held());
    assert!(store.get_access_token("t9999", 9_999).await.unwrap().is_some(), "live tokens stay");
}

#[tokio::test]
async fn a_backlog_left_by_an_idle_spell_drains_while_writes_go_on() {
    let store = MemoryStore::new();
    for i in 0..1_000 {
        store.put_access_token(&token(format!("old{i}"), 0, 10)).await.unwrap();
    }
    // Much later: each new write removes several expired tokens.
    for i in 0..100 {
        store.put_access_token(&token(format!("new{i}"), 1_000, 3_600)).await.unwrap();
    }
    assert_eq!(store.held(), 100, "the 1,000 expired tokens are gone after 100 writes");
}

#[tokio::test]
async fn an_item_whose_expiry_moved_later_is_not_swept_early() {
    let store = MemoryStore::new();
    let mut t = store.lock();
    t.counters.insert("k", (1, 10));
    t.counters.items.insert("k".into(), (1, 100));
    t.counters.schedule("k", 100);
    t.sweep(50);
    assert!(t.counters.live("k", 50).is_some(), "the stale queue entry at 10 is skipped");
    t.sweep(100);
    assert!(t.counters.items.is_empty());
}
