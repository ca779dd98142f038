//! The self-service part of the store suite: a browser's flow by its handle
//! digest, and the one live challenge per person and kind, spent once by a
//! matching proof (SPEC.md section 11).

use std::sync::Arc;

use zeroauth_shared::domain::{Challenge, ChallengeKind, Flow, Proof};
use zeroauth_shared::store::Store;

use super::T0;

fn flow(handle: &str) -> Flow {
    Flow {
        handle: handle.into(),
        kind: ChallengeKind::Reset,
        sub: Some("sub-alice".into()),
        email: "Alice@Example.com".into(),
        return_to: Some("sealed-request".into()),
        created_at: T0,
        expires_at: T0 + 1800,
    }
}

/// Alice's challenge of `kind` with code `code`, asked for by the flow `flow-a`.
fn challenge(kind: ChallengeKind, code: &str) -> Challenge {
    Challenge {
        sub: "sub-alice".into(),
        kind,
        email: "alice@example.com".into(),
        code_digest: format!("code-{code}"),
        link_digest: format!("link-{code}"),
        flow: Some("flow-a".into()),
        created_at: T0,
        expires_at: T0 + 1800,
    }
}

fn code<'a>(digest: &'a str, flow: &'a str) -> Proof<'a> {
    Proof::Code { digest, flow }
}

const RESET: ChallengeKind = ChallengeKind::Reset;

pub async fn a_flow_is_stored_found_replaced_and_deleted(store: Arc<dyn Store>) {
    store.put_flow(&flow("h1")).await.unwrap();
    assert_eq!(store.get_flow("h1", T0).await.unwrap(), Some(flow("h1")));
    assert_eq!(store.get_flow("h2", T0).await.unwrap(), None);
    let anonymous = Flow { sub: None, return_to: None, kind: ChallengeKind::Verify, ..flow("h1") };
    store.put_flow(&anonymous).await.unwrap();
    assert_eq!(
        store.get_flow("h1", T0).await.unwrap(),
        Some(anonymous),
        "replaced, fields absent kept absent"
    );
    store.delete_flow("h1").await.unwrap();
    assert_eq!(store.get_flow("h1", T0).await.unwrap(), None);
    store.delete_flow("h1").await.unwrap();
}

pub async fn an_expired_flow_or_challenge_is_absent_while_still_stored(store: Arc<dyn Store>) {
    store.put_flow(&flow("h1")).await.unwrap();
    assert!(store.get_flow("h1", T0 + 1799).await.unwrap().is_some());
    assert_eq!(store.get_flow("h1", T0 + 1800).await.unwrap(), None);
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    let link = Proof::Link { digest: "link-1" };
    assert_eq!(store.consume_challenge("sub-alice", RESET, &link, T0 + 1800).await.unwrap(), None);
    // Refused, not spent: still there for a clock that says it is live.
    assert!(store.consume_challenge("sub-alice", RESET, &link, T0 + 1799).await.unwrap().is_some());
}

pub async fn a_new_challenge_replaces_the_old_one(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "old")).await.unwrap();
    store.put_challenge(&challenge(RESET, "new")).await.unwrap();
    let old = code("code-old", "flow-a");
    assert_eq!(
        store.consume_challenge("sub-alice", RESET, &old, T0).await.unwrap(),
        None,
        "old code refused"
    );
    let old_link = Proof::Link { digest: "link-old" };
    assert_eq!(store.consume_challenge("sub-alice", RESET, &old_link, T0).await.unwrap(), None);
    let spent = store.consume_challenge("sub-alice", RESET, &code("code-new", "flow-a"), T0).await.unwrap();
    assert_eq!(spent, Some(challenge(RESET, "new")));
}

pub async fn challenges_of_other_kinds_and_people_are_their_own(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    store.put_challenge(&challenge(ChallengeKind::Verify, "2")).await.unwrap();
    let bob = Challenge { sub: "sub-bob".into(), ..challenge(RESET, "3") };
    store.put_challenge(&bob).await.unwrap();
    let wrong_kind = code("code-1", "flow-a");
    assert_eq!(
        store.consume_challenge("sub-alice", ChallengeKind::Verify, &wrong_kind, T0).await.unwrap(),
        None
    );
    assert_eq!(store.consume_challenge("sub-bob", RESET, &wrong_kind, T0).await.unwrap(), None);
    for (sub, kind, digest) in [
        ("sub-alice", RESET, "code-1"),
        ("sub-alice", ChallengeKind::Verify, "code-2"),
        ("sub-bob", RESET, "code-3"),
    ] {
        let spent = store.consume_challenge(sub, kind, &code(digest, "flow-a"), T0).await.unwrap();
        assert_eq!(spent.map(|c| (c.sub, c.kind)), Some((sub.to_owned(), kind)), "{sub} {kind:?}");
    }
}

pub async fn a_code_is_good_only_in_its_flow_and_a_link_anywhere(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    let elsewhere = code("code-1", "flow-b");
    assert_eq!(store.consume_challenge("sub-alice", RESET, &elsewhere, T0).await.unwrap(), None);
    let link = Proof::Link { digest: "link-1" };
    assert_eq!(
        store.consume_challenge("sub-alice", RESET, &link, T0).await.unwrap(),
        Some(challenge(RESET, "1"))
    );
    assert_eq!(store.consume_challenge("sub-alice", RESET, &link, T0).await.unwrap(), None, "spent once");
    // An invitation has no flow: its code is good in none, its link anywhere.
    let invite = Challenge { flow: None, ..challenge(ChallengeKind::Invite, "2") };
    store.put_challenge(&invite).await.unwrap();
    for flow in ["flow-a", ""] {
        let typed = code("code-2", flow);
        assert_eq!(
            store.consume_challenge("sub-alice", ChallengeKind::Invite, &typed, T0).await.unwrap(),
            None
        );
    }
    let link = Proof::Link { digest: "link-2" };
    let spent = store.consume_challenge("sub-alice", ChallengeKind::Invite, &link, T0).await.unwrap();
    assert_eq!(spent, Some(invite));
}

pub async fn a_wrong_proof_changes_nothing(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    let wrong = [
        code("code-2", "flow-a"),
        code("link-1", "flow-a"),
        Proof::Link { digest: "code-1" },
        Proof::Link { digest: "" },
    ];
    for proof in &wrong {
        assert_eq!(store.consume_challenge("sub-alice", RESET, proof, T0).await.unwrap(), None, "{proof:?}");
    }
    assert_eq!(store.consume_challenge("nobody", RESET, &code("code-1", "flow-a"), T0).await.unwrap(), None);
    let spent = store.consume_challenge("sub-alice", RESET, &code("code-1", "flow-a"), T0).await.unwrap();
    assert_eq!(spent, Some(challenge(RESET, "1")), "still good after the wrong ones");
}

pub async fn a_challenge_is_spent_exactly_once_under_8_concurrent_attempts(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                // Half type the code in the flow, half follow the link.
                let proof =
                    if i % 2 == 0 { code("code-1", "flow-a") } else { Proof::Link { digest: "link-1" } };
                store.consume_challenge("sub-alice", RESET, &proof, T0 + 1).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for t in tasks {
        if let Some(c) = t.await.unwrap().unwrap() {
            won.push(c);
        }
    }
    assert_eq!(won, [challenge(RESET, "1")], "exactly one attempt gets the challenge");
}

pub async fn a_deleted_challenge_is_gone(store: Arc<dyn Store>) {
    store.put_challenge(&challenge(RESET, "1")).await.unwrap();
    store.put_challenge(&challenge(ChallengeKind::Verify, "2")).await.unwrap();
    store.delete_challenge("sub-alice", RESET).await.unwrap();
    store.delete_challenge("sub-alice", RESET).await.unwrap();
    let link = Proof::Link { digest: "link-1" };
    assert_eq!(store.consume_challenge("sub-alice", RESET, &link, T0).await.unwrap(), None);
    let other = Proof::Link { digest: "link-2" };
    let kept = store.consume_challenge("sub-alice", ChallengeKind::Verify, &other, T0).await.unwrap();
    assert!(kept.is_some(), "the person's challenge of another kind is kept");
}
