//! Signing in through upstream providers, end to end on DynamoDB Local,
//! against the upstream stub (`zeroauth_e2e::upstream`: OpenID Connect,
//! GitHub's and Entra's shapes, on https loopback): a first sign-in makes
//! the person, ZeroAuth's own consent page always comes before the code,
//! and every forged, replayed, altered or misbehaving answer gets a page
//! and nothing stored. Who an identity signs in as is in
//! `federation_accounts.rs`.

use zeroauth_e2e::federated::{
    allow, at_provider, authorize_params, id_claims, people, setup, sign_in, to_provider,
};
use zeroauth_e2e::upstream::{Tamper, UpstreamUser};
use zeroauth_shared::admin;

#[tokio::test]
async fn a_first_sign_in_makes_the_person_and_zeroauth_asks_consent_for_every_client() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    up.sign_in_as(UpstreamUser::new("upstream-dave", "dave@upstream.example"));
    // The button works with the identifier field filled in (a login_hint,
    // the browser's autofill): it is not a password attempt.
    let mut b = s.browser();
    let page = b.login_page(&authorize_params(&client)).await;
    let r = b.submit(&[("request", &page.request), ("username", "dave"), ("provider", "up")]).await;
    assert_eq!(r.status, 303, "{r:?}");
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Allow Test App?") && page.text.contains("Signed in as"), "{}", page.text);
    // What ZeroAuth sent the provider: state, PKCE S256, a nonce, the callback.
    let sent = up.last_params("/authorize").expect("the provider was asked");
    assert_eq!(sent.get("code_challenge_method").map(String::as_str), Some("S256"));
    assert!(
        sent.get("nonce").is_some_and(|n| n.len() >= 43) && sent.get("state").is_some_and(|n| n.len() >= 43)
    );
    assert_eq!(sent.get("redirect_uri"), Some(&s.url("/federation/callback")));
    let code = allow(&mut b, &page).await;
    let claims = id_claims(&s, &client, &code).await;
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    assert_eq!(claims["idp"], "up");
    assert_eq!(claims["email"], "dave@upstream.example");
    assert_eq!(claims["email_verified"], true);
    let sub = claims["sub"].as_str().expect("sub").to_owned();
    assert!(sub.starts_with("za_user_") && sub != "upstream-dave", "ZeroAuth's own sub: {sub}");
    // Another client, with the person signed in at the provider (which
    // skips its consent): ZeroAuth still asks for that client.
    let other = s.client(|c| c.name = "Other App".into()).await;
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &other).await;
    assert!(page.text.contains("Allow Other App?"), "{}", page.text);
    let code = allow(&mut b, &page).await;
    assert_eq!(id_claims(&s, &other, &code).await["sub"], sub.as_str(), "the same person");
    assert_eq!(people(&s).await.len(), 1);
}

#[tokio::test]
async fn the_state_is_this_browsers_spent_once_and_never_guessed() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let mut b = s.browser();
    let out = to_provider(&mut b, &client).await;
    let back = at_provider(&up, &out).await;
    s.catch_up();
    // Another browser (no binding cookie, or its own) gets a page and spends nothing.
    let mut other = s.browser();
    let _ = to_provider(&mut other, &client).await;
    for r in [s.http.get(&back).send().await.expect("answer"), {
        let cookie = other.cookie_pairs().join("; ");
        s.http.get(&back).header("cookie", cookie).send().await.expect("answer")
    }] {
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap_or_default().contains("did not start in this browser"));
    }
    let altered = back.replace("state=", "state=x");
    assert_eq!(b.open(&altered).await.status, 400, "an altered state");
    let missing = back.split("state=").next().unwrap_or_default().to_owned();
    assert_eq!(b.open(&missing).await.status, 400, "no state");
    let page = b.open(&back).await;
    assert_eq!(page.status, 200, "the right browser still gets in: {page:?}");
    let replay = b.open(&back).await;
    assert_eq!(replay.status, 400, "a replayed callback: {replay:?}");
}

#[tokio::test]
async fn a_refusal_at_the_provider_reaches_the_client_and_its_errors_get_a_page() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let mut b = s.browser();
    up.deny_next();
    let r = sign_in(&mut b, &up, &client).await;
    assert_eq!(r.status, 303, "{r:?}");
    let p = r.location_params();
    assert_eq!(p.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(p.get("state").map(String::as_str), Some("client-state"));
    assert_eq!(p.get("iss"), Some(&s.issuer));
    up.error_next("server_error");
    let r = sign_in(&mut b, &up, &client).await;
    assert_eq!(r.status, 502, "{r:?}");
    assert!(r.text.contains("Signing in with Upstream did not work"), "{}", r.text);
    assert!(people(&s).await.is_empty());
}

#[tokio::test]
async fn an_id_token_that_does_not_verify_signs_nobody_in() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let mut b = s.browser();
    let refused = [
        Tamper::WrongAud,
        Tamper::WrongIss,
        Tamper::WrongNonce,
        Tamper::NoNonce,
        Tamper::Expired,
        Tamper::IssuedInFuture,
        Tamper::AlgNone,
        Tamper::Hs256WithPublicKey,
        Tamper::UnknownKid,
        Tamper::SignedByOtherKey,
        Tamper::NoIdToken,
        Tamper::MultipleAudNoAzp,
    ];
    for t in refused {
        up.tamper_next(t.clone());
        let r = sign_in(&mut b, &up, &client).await;
        assert_eq!(r.status, 502, "{t:?}: {r:?}");
        assert!(r.text.contains("did not work"), "{t:?}: {}", r.text);
    }
    assert!(people(&s).await.is_empty(), "nobody was made");
    up.tamper_next(Tamper::Es256);
    let r = sign_in(&mut b, &up, &client).await;
    assert_eq!(r.status, 200, "an ES256 ID token is fine: {r:?}");
}

#[tokio::test]
async fn a_slow_or_huge_provider_is_cut_off() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let mut b = s.browser();
    for huge in [true, false] {
        up.huge_next(huge);
        let r = sign_in(&mut b, &up, &client).await;
        assert_eq!(r.status, 502, "{r:?}");
        assert!(r.text.contains("larger than"), "{}", r.text);
    }
    up.slow_next(std::time::Duration::from_secs(8));
    let started = std::time::Instant::now();
    let r = sign_in(&mut b, &up, &client).await;
    assert_eq!(r.status, 502, "{r:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "not waited out");
    assert!(people(&s).await.is_empty());
}

#[tokio::test]
async fn without_sign_up_only_linked_people_get_in_and_unoffered_providers_are_refused() {
    let (s, up, client) = setup("oidc", |p| p.sign_up = Some(false)).await;
    up.sign_in_as(UpstreamUser::new("nobody-yet", "new@upstream.example"));
    let r = sign_in(&mut s.browser(), &up, &client).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert!(r.text.contains("new accounts cannot be created"), "{}", r.text);
    assert!(people(&s).await.is_empty());
    // A client the provider is not offered to: no button, and a forged one is refused.
    admin::update_provider(s.store.as_ref(), "up", |p| p.clients = vec![client.id.clone()])
        .await
        .expect("update");
    let other = s.client(|c| c.name = "Other".into()).await;
    let mut b = s.browser();
    let page = b.login_page(&authorize_params(&other)).await;
    assert!(!page.reply.text.contains("Continue with"), "{}", page.reply.text);
    let r = b.submit(&[("request", &page.request), ("provider", "up")]).await;
    assert_eq!(r.status, 400, "{r:?}");
}

#[tokio::test]
async fn a_self_registered_client_is_named_unverified_on_the_consent_page_after_the_provider() {
    let (s, up, _) = setup("oidc", |_| {}).await;
    // The MCP-proxy case: a client that registered itself, the person
    // signed in at the provider already (it asks nothing).
    let attacker = s.client(|c| c.name = "Totally Legit MCP".into()).await;
    let mut stored = s.store.get_client(&attacker.id).await.expect("read").expect("the client");
    stored.source = zeroauth_shared::domain::ClientSource::Registration;
    s.store.update_client(&stored).await.expect("update");
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &attacker).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Allow Totally Legit MCP?"), "{}", page.text);
    assert!(page.text.contains("is not verified by this server"), "{}", page.text);
    assert!(page.text.contains("<strong>app.example</strong>"), "the redirect host is named: {}", page.text);
    assert!(page.header("location").is_none(), "no code before the person allows");
}
