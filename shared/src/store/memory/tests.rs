//! The embedded store's own tests (the shared suite is in shared/tests/store_suite.rs).

use super::shards::{KeyRef, SHARDS, SWEEP_STEP};
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
    // Every shard is swept at least once every SHARDS writes, so what is left
    // is at most what the last SHARDS + 10 seconds wrote.
    let held = store.held();
    assert!(held <= SHARDS + 10, "expired tokens are removed as writes go on: {held} held");
    assert!(store.get_access_token("t9999", 9_999).await.unwrap().is_some(), "live tokens stay");
}

#[tokio::test]
async fn a_backlog_left_by_an_idle_spell_drains_while_writes_go_on() {
    let store = MemoryStore::new();
    for i in 0..1_000 {
        store.put_access_token(&token(format!("old{i}"), 0, 10)).await.unwrap();
    }
    // Much later: each new write removes several expired tokens, and every
    // shard comes up in turn, so enough passes over the shards drain it all.
    let writes = SHARDS * 1_000usize.div_ceil(SWEEP_STEP);
    for i in 0..writes {
        store.put_access_token(&token(format!("new{i}"), 1_000, 3_600)).await.unwrap();
    }
    assert_eq!(store.held(), writes, "the 1,000 expired tokens are gone");
}

#[tokio::test]
async fn an_item_whose_expiry_moved_later_is_not_swept_early() {
    let store = MemoryStore::new();
    let mut shard = store.counters.lock("k");
    shard.insert((1, 10));
    if let Some(c) = shard.get_mut() {
        c.1 = 100;
    }
    shard.schedule(100);
    shard.sweep(50);
    assert!(shard.live(50).is_some(), "the stale queue entry at 10 is skipped");
    shard.sweep(100);
    assert!(shard.get().is_none());
}

#[tokio::test]
async fn tokens_spread_over_many_shards() {
    let store = MemoryStore::new();
    for i in 0..4_096 {
        let digest = crate::crypto::digest(&format!("token {i}"));
        store.put_access_token(&token(digest, 0, 3_600)).await.unwrap();
    }
    let (held, shards) = store.access.spread();
    assert_eq!(held, 4_096);
    // Growth pauses one shard, so there must be many, and keys must reach
    // them: 4,096 keys hashed at random into 256 shards fill fewer than 64
    // with odds far below one in a googol; one map, or a hash ignored, fills one.
    assert!(shards >= 64, "keys spread over the shards: {shards} of {SHARDS} used");
}

#[test]
fn a_digest_is_held_as_its_32_bytes_and_other_keys_as_they_are() {
    let digest = crate::crypto::digest("a token");
    assert!(matches!(KeyRef::new(&digest), KeyRef::Digest(_)), "should hold a digest as bytes");
    let cases = [
        ("should keep a short key as it is", "register:ip:127.0.0.1".to_owned()),
        ("should keep 43 characters that are not base64url as they are", format!("{}.", "a".repeat(42))),
        ("should keep 44 characters of base64url as they are", "A".repeat(44)),
    ];
    for (name, key) in &cases {
        assert_eq!(KeyRef::new(key), KeyRef::Other(key), "{name}");
    }
}

#[test]
fn a_non_canonical_digest_is_not_taken_for_the_canonical_one() {
    let digest = crate::crypto::digest("a token");
    // The last character carries 2 bits and 4 zero bits: setting one of
    // those zero bits decodes to the same 32 bytes with a lax decoder.
    let last = digest.as_bytes()[42];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|c| *c == last).unwrap_or(0);
    let twin = format!("{}{}", &digest[..42], alphabet[index ^ 1] as char);
    assert_ne!(KeyRef::new(&twin), KeyRef::new(&digest));
    assert!(matches!(KeyRef::new(&twin), KeyRef::Other(_)));
}
