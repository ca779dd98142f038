//! DynamoDB faults on the real SDK path (an SDK interceptor in front of
//! DynamoDB Local, `zeroauth_e2e::faults`), with the timeouts and retries
//! ZeroAuth deploys. A fault that outlasts the SDK's retries answers 503 with
//! `Retry-After` and `temporarily_unavailable`; after it, nothing is
//! half-written: the same request made again succeeds exactly once.
//!
//! Also finding 13 of the security review: a replay whose revocation write
//! fails still revokes the family (the revocation is retried).

use std::sync::Arc;
use std::time::Instant;

use zeroauth_e2e::faults::{Fault, Faults, faulty_store};
use zeroauth_e2e::{PASSWORD, Reply, Server, TestClient};
use zeroauth_shared::store::dynamodb::MAX_ATTEMPTS;

/// Every attempt the SDK makes for one call.
const ONE_CALL: usize = MAX_ATTEMPTS as usize;

async fn server() -> (Server, Faults, TestClient) {
    let (store, faults) = faulty_store().await;
    let s = Server::on_store(Arc::new(store)).await;
    let c = s.confidential_client().await;
    s.user("alice").await;
    (s, faults, c)
}

fn assert_unavailable(r: &Reply) {
    assert_eq!((r.status, r.field("error")), (503, "temporarily_unavailable".into()), "{r:?}");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"), "{r:?}");
}

async fn refresh(s: &Server, c: &TestClient, rt: &str) -> Reply {
    s.post_form("/token", Some(c), &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_code_exchange_answers_503_and_leaves_the_code_unspent() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    faults.inject("TransactWriteItems", Fault::Throttle, ONE_CALL);
    assert_unavailable(&s.exchange(&c, &code, &[]).await);
    assert_eq!(faults.left(), 0, "every attempt met the fault");
    let again = s.exchange(&c, &code, &[]).await;
    assert_eq!(again.status, 200, "the code was not spent by the failed exchange: {again:?}");
    assert_eq!(s.userinfo(&again.field("access_token")).await.status, 200);
    let third = s.exchange(&c, &code, &[]).await;
    assert_eq!((third.status, third.field("error")), (400, "invalid_grant".into()), "{third:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_throttle_is_absorbed_by_the_sdk_retry() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    faults.inject("TransactWriteItems", Fault::Throttle, 1);
    let r = s.exchange(&c, &code, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(faults.left(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_exchange_whose_answer_was_lost_issues_its_tokens_once() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    // The transaction is carried out and its answer lost; the SDK's retry
    // carries the same ClientRequestToken, so DynamoDB answers it as done.
    faults.inject("TransactWriteItems", Fault::LoseAnswer, 1);
    let r = s.exchange(&c, &code, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(faults.left(), 0);
    assert_eq!(s.userinfo(&r.field("access_token")).await.status, 200, "the family is alive");
    let replay = s.exchange(&c, &code, &[]).await;
    assert_eq!((replay.status, replay.field("error")), (400, "invalid_grant".into()), "{replay:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_rotation_leaves_the_old_refresh_token_working() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let first = s.exchange(&c, &code, &[]).await;
    let (access, rt) = (first.field("access_token"), first.field("refresh_token"));
    faults.inject("TransactWriteItems", Fault::Throttle, ONE_CALL);
    assert_unavailable(&refresh(&s, &c, &rt).await);
    assert_eq!(s.userinfo(&access).await.status, 200, "a failed rotation revokes nothing");
    let rotated = refresh(&s, &c, &rt).await;
    assert_eq!(rotated.status, 200, "the old refresh token was not half-rotated: {rotated:?}");
    let reuse = refresh(&s, &c, &rt).await;
    assert_eq!((reuse.status, reuse.field("error")), (400, "invalid_grant".into()), "{reuse:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_connection_on_client_credentials_answers_503() {
    let (s, faults, _) = server().await;
    let m = s
        .client(|c| {
            c.grants = vec!["client_credentials".into()];
            c.redirect_uris = vec![];
            c.scope = Some("read:reports".into());
        })
        .await;
    faults.inject("PutItem", Fault::Drop, ONE_CALL);
    assert_unavailable(&s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await);
    let ok = s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await;
    assert_eq!(ok.status, 200, "{ok:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_never_answers_is_given_up_on_with_503() {
    let (s, faults, c) = server().await;
    faults.inject("GetItem", Fault::Hang, ONE_CALL);
    let started = Instant::now();
    let r = s.post_form("/token", Some(&c), &[("grant_type", "client_credentials")]).await;
    assert_unavailable(&r);
    let took = started.elapsed();
    assert!(took.as_secs() < 8, "the operation timeout bounds the wait (took {took:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_that_cannot_be_stored_sends_temporarily_unavailable_to_the_client() {
    let (s, faults, c) = server().await;
    let mut b = s.browser();
    let page =
        b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri), ("state", "s-1")]).await;
    faults.inject("PutItem", Fault::Throttle, ONE_CALL);
    let r = b.approve(&page, "alice").await;
    assert_eq!(r.status, 303, "{r:?}");
    let location = r.header("location").unwrap_or_default();
    assert!(location.starts_with(&c.redirect_uri), "{location}");
    let p = r.location_params();
    assert_eq!(p.get("error").map(String::as_str), Some("temporarily_unavailable"), "{location}");
    assert_eq!(p.get("state").map(String::as_str), Some("s-1"));
    assert!(!p.contains_key("code"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_that_cannot_be_counted_is_refused_without_checking_the_password() {
    // Finding 2: count first, and fail closed when the count cannot be made.
    let (s, faults, c) = server().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    faults.inject("UpdateItem", Fault::Throttle, ONE_CALL);
    let r = b
        .submit(&[
            ("request", &page.request),
            ("username", "alice"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(r.status, 503, "{r:?}");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert!(r.header("location").is_none() && r.header("set-cookie").is_none(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_revokes_its_family_even_when_the_first_writes_fail() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let access = s.exchange(&c, &code, &[]).await.field("access_token");
    // The first two revocation calls fail after all their attempts.
    faults.inject("UpdateItem", Fault::Throttle, 2 * ONE_CALL);
    let replay = s.exchange(&c, &code, &[]).await;
    assert_eq!((replay.status, replay.field("error")), (400, "invalid_grant".into()), "{replay:?}");
    assert_eq!(faults.left(), 0, "every injected fault was met");
    assert_eq!(s.userinfo(&access).await.status, 401, "the family did not outlive the replay");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_refresh_token_revokes_its_family_even_when_the_first_writes_fail() {
    let (s, faults, c) = server().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let first = s.exchange(&c, &code, &[]).await.field("refresh_token");
    let second = refresh(&s, &c, &first).await.field("refresh_token");
    faults.inject("UpdateItem", Fault::Throttle, 2 * ONE_CALL);
    let reuse = refresh(&s, &c, &first).await;
    assert_eq!((reuse.status, reuse.field("error")), (400, "invalid_grant".into()), "{reuse:?}");
    assert_eq!(faults.left(), 0, "every injected fault was met");
    let after = refresh(&s, &c, &second).await;
    assert_eq!((after.status, after.field("error")), (400, "invalid_grant".into()), "the family is revoked");
}
