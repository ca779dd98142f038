//! Passkeys through HTTP on DynamoDB Local, answered by the software
//! authenticator (`zeroauth_e2e::authenticator`) as the page script would
//! post them: a passkey alone signs its person in, and as a second factor
//! after a password. Every forged or replayed answer gets the page's
//! refusal, no code and no session, the ceremony spent and the passkey's
//! stored counter as it was.

use serde_json::Value;
use zeroauth_e2e::authenticator::{Authenticator, alter_signature};
use zeroauth_e2e::factors::{hidden, password_step, post_factor, signed_in};
use zeroauth_e2e::federated::id_claims;
use zeroauth_e2e::{Browser, Page, Reply, Server, TestClient};
use zeroauth_shared::crypto;
use zeroauth_shared::domain::{CredentialData, CredentialKind, FactorPolicy, Identifier};

const ISSUER: &str = "https://auth.example.com";
const REFUSED: &str = "That passkey did not sign you in.";
const FACTOR_FAILED: &str = "That passkey could not confirm it is you.";
const CEREMONY_COOKIE: &str = "__Host-za_webauthn";
const SESSION_COOKIE: &str = "__Host-za_session";

async fn server() -> (Server, TestClient) {
    let s = Server::dynamodb_with(|c| {
        c.issuer = ISSUER.into();
        c.factors.policy = FactorPolicy::Optional;
    })
    .await;
    let client = s.confidential_client().await;
    s.user("alice").await;
    s.user("bob").await;
    (s, client)
}

/// `POST /passkey/options` with `form`: the options the page script gets.
async fn options(b: &mut Browser<'_>, form: &[(&str, &str)]) -> Value {
    let url = b.server().url("/passkey/options");
    let r = b.post(&url, form).await;
    assert_eq!(r.status, 200, "{r:?}");
    r.json()
}

/// Signs `username` in with their password and adds `auth`'s passkey on
/// the security page.
async fn with_passkey(s: &Server, client: &TestClient, username: &str) -> Authenticator {
    let mut b = signed_in(s, client, username).await;
    let page = b.open(&s.url("/account/security")).await;
    let csrf = hidden(&page.text, "csrf").expect("a csrf token");
    let created = options(&mut b, &[("purpose", "register"), ("csrf", &csrf)]).await;
    let mut auth = Authenticator::new(ISSUER);
    let credential = auth.create(&created).to_string();
    let r = b
        .post(
            &s.url("/account/security"),
            &[("csrf", &csrf), ("action", "add_passkey"), ("credential", &credential), ("label", "Laptop")],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    auth
}

async fn sub_of(s: &Server, username: &str) -> String {
    let found = s.store.find_identifier(&Identifier::Username(username.into())).await;
    found.expect("the store answers").expect("a person")
}

/// The stored counter of `sub`'s one passkey.
async fn counter(s: &Server, sub: &str) -> u64 {
    let creds = s.store.get_credentials(sub, CredentialKind::Passkey).await.expect("the store answers");
    let [cred] = creds.as_slice() else { panic!("one passkey, not {creds:?}") };
    let CredentialData::Passkey(data) = &cred.data else { panic!("not a passkey: {cred:?}") };
    let json: Value = serde_json::from_str(&data.passkey).expect("passkey JSON");
    json["cred"]["counter"].as_u64().expect("a counter")
}

/// The sign-in page, and the discoverable ceremony its script starts.
async fn sign_in_page(b: &mut Browser<'_>, client: &TestClient) -> (Page, Value) {
    let page = b
        .login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri), ("scope", "openid")])
        .await;
    let opts = options(b, &[("purpose", "sign_in"), ("request", &page.request)]).await;
    (page, opts)
}

/// The passkey form of the sign-in page, posted with `credential`.
async fn post_passkey(b: &mut Browser<'_>, page: &Page, credential: &Value) -> Reply {
    let credential = credential.to_string();
    b.submit(&[
        ("request", &page.request),
        ("method", "passkey"),
        ("decision", "approve"),
        ("credential", &credential),
    ])
    .await
}

/// A passkey sign-in asks the person to allow an untrusted client on a
/// page of its own (the passkey form says nothing of it): allows it.
async fn allow(b: &mut Browser<'_>, r: Reply) -> Reply {
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.text.contains("would like to"), "{}", r.text);
    let request = zeroauth_e2e::hidden_request(&r.text).expect("a request on the consent page");
    b.submit(&[("request", &request), ("decision", "approve")]).await
}

/// The answer was refused and nothing was written: no code, no session,
/// this browser's ceremony spent, the stored counter unchanged.
async fn refused(s: &Server, b: &Browser<'_>, r: &Reply, page_says: &str, sub: &str, count: u64) {
    assert_eq!(r.status / 100, 4, "{r:?}");
    assert!(r.text.contains(page_says), "{}", r.text);
    assert!(r.header("location").is_none(), "{r:?}");
    assert!(!b.cookies.contains_key(SESSION_COOKIE), "{:?}", b.cookies.keys());
    if let Some(handle) = b.cookies.get(CEREMONY_COOKIE) {
        let left = s.store.take_ceremony(&crypto::digest(handle), s.clock_now()).await;
        assert!(left.expect("the store answers").is_none(), "the ceremony is spent");
    }
    assert_eq!(counter(s, sub).await, count, "the stored counter is as it was");
}

#[tokio::test]
async fn a_passkey_alone_signs_in_once_per_ceremony_and_forgeries_are_refused() {
    let (s, client) = server().await;
    let mut auth = with_passkey(&s, &client, "alice").await;
    let sub = sub_of(&s, "alice").await;

    // The passkey alone: a code, and an ID token with a hardware key and two factors.
    let mut b = s.browser();
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let answer = auth.get(&opts);
    let asked = post_passkey(&mut b, &page, &answer).await;
    let done = allow(&mut b, asked).await;
    assert_eq!(done.status, 303, "{done:?}");
    let code = done.location_params().remove("code").expect("a code");
    let claims = id_claims(&s, &client, &code).await;
    assert_eq!(claims["amr"], serde_json::json!(["hwk", "user", "mfa"]), "{claims}");
    let count = counter(&s, &sub).await;
    assert_eq!(count, 1, "the counter was written as read");

    // The same answer again, in the same browser (its ceremony is spent) ...
    let mut b = s.browser();
    let (page, _) = sign_in_page(&mut b, &client).await;
    let again = post_passkey(&mut b, &page, &answer).await;
    refused(&s, &b, &again, REFUSED, &sub, count).await;
    // ... and against a new ceremony: the challenge is not this one's.
    let (page, _) = sign_in_page(&mut b, &client).await;
    let replayed = post_passkey(&mut b, &page, &answer).await;
    refused(&s, &b, &replayed, REFUSED, &sub, count).await;

    // An answer to another ceremony of the same browser.
    let (_, first) = sign_in_page(&mut b, &client).await;
    let (page, _) = sign_in_page(&mut b, &client).await;
    let other = auth.get(&first);
    let r = post_passkey(&mut b, &page, &other).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;

    // An altered signature.
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let r = post_passkey(&mut b, &page, &alter_signature(&auth.get(&opts))).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;

    // A page on another origin, and an authenticator answering for another RP ID.
    auth.origin = "https://auth.example.com.evil.example".into();
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let r = post_passkey(&mut b, &page, &auth.get(&opts)).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;
    auth.origin = ISSUER.into();
    auth.rp_id = Some("example.com".into());
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let r = post_passkey(&mut b, &page, &auth.get(&opts)).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;
    auth.rp_id = None;

    // A clone whose counter is behind the stored one.
    auth.sign_count = 0;
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let r = post_passkey(&mut b, &page, &auth.get(&opts)).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;

    // An authenticator that did not verify its user.
    auth.sign_count = 10;
    auth.user_verified = false;
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let r = post_passkey(&mut b, &page, &auth.get(&opts)).await;
    refused(&s, &b, &r, REFUSED, &sub, count).await;

    // No ceremony at all (the cookie never set): refused before any read.
    let mut fresh = s.browser();
    let page = fresh.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    auth.user_verified = true;
    let r = post_passkey(&mut fresh, &page, &auth.get(&opts)).await;
    refused(&s, &fresh, &r, REFUSED, &sub, count).await;

    // The genuine authenticator still signs in afterwards.
    let (page, opts) = sign_in_page(&mut b, &client).await;
    let asked = post_passkey(&mut b, &page, &auth.get(&opts)).await;
    let ok = allow(&mut b, asked).await;
    assert_eq!(ok.status, 303, "{ok:?}");
    assert_eq!(counter(&s, &sub).await, u64::from(auth.sign_count));
}

/// The factor page after alice's password, and the ceremony it starts for
/// her passkeys.
async fn factor_page(b: &mut Browser<'_>, client: &TestClient) -> (Reply, Value) {
    let page = password_step(b, client, "alice", &[]).await;
    assert_eq!(page.status, 200, "a second step is asked: {page:?}");
    let request = zeroauth_e2e::hidden_request(&page.text).expect("a request");
    let step = hidden(&page.text, "step").expect("a step");
    let opts = options(b, &[("purpose", "second_factor"), ("request", &request), ("step", &step)]).await;
    (page, opts)
}

#[tokio::test]
async fn a_passkey_as_a_second_factor_is_alices_own_and_answers_once() {
    let (s, client) = server().await;
    let mut alices = with_passkey(&s, &client, "alice").await;
    let mut bobs = with_passkey(&s, &client, "bob").await;
    let sub = sub_of(&s, "alice").await;
    let count = counter(&s, &sub).await;

    let mut b = s.browser();
    // Posting the factor without any ceremony: the step is not skipped.
    let page = password_step(&mut b, &client, "alice", &[]).await;
    let skipped = post_factor(&mut b, &page, "passkey", &[("credential", "{}")]).await;
    refused(&s, &b, &skipped, FACTOR_FAILED, &sub, count).await;

    // Bob's passkey answering alice's ceremony (an attacker's script ignores allowCredentials).
    let (page, opts) = factor_page(&mut b, &client).await;
    assert!(!bobs.allowed_by(&opts), "only alice's passkeys are offered");
    let credential = bobs.get(&opts).to_string();
    let r = post_factor(&mut b, &page, "passkey", &[("credential", &credential)]).await;
    refused(&s, &b, &r, FACTOR_FAILED, &sub, count).await;

    // An altered signature.
    let (page, opts) = factor_page(&mut b, &client).await;
    let credential = alter_signature(&alices.get(&opts)).to_string();
    let r = post_factor(&mut b, &page, "passkey", &[("credential", &credential)]).await;
    refused(&s, &b, &r, FACTOR_FAILED, &sub, count).await;

    // Her own passkey: two factors, the code issued.
    let (page, opts) = factor_page(&mut b, &client).await;
    let answer = alices.get(&opts).to_string();
    let done = post_factor(&mut b, &page, "passkey", &[("credential", &answer)]).await;
    assert_eq!(done.status, 303, "{done:?}");
    let code = done.location_params().remove("code").expect("a code");
    let claims = id_claims(&s, &client, &code).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "hwk", "user", "mfa"]), "{claims}");
    let count = counter(&s, &sub).await;

    // The same answer replayed in another sign-in.
    let mut other = s.browser();
    let (page, _) = factor_page(&mut other, &client).await;
    let r = post_factor(&mut other, &page, "passkey", &[("credential", &answer)]).await;
    refused(&s, &other, &r, FACTOR_FAILED, &sub, count).await;
}
