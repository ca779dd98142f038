//! Second factors end to end on DynamoDB Local: an authenticator app set up
//! from the key the security page shows and its codes made by `totp-rs`;
//! the second step asked after a password, a TOTP step accepted once,
//! guesses throttled like passwords, recovery codes spent once, a second
//! factor that cannot be skipped, `acr_values` stepping a session up (and
//! asking only for what is missing), the `required` policy setting a factor
//! up at the next sign-in, and `acr`, `amr` and `auth_time` in the ID token,
//! introspection and discovery.

use zeroauth_e2e::factors::{
    code_at, enrol_totp, hidden, password_step, post_factor, shown_codes, signed_in,
};
use zeroauth_e2e::federated::id_claims;
use zeroauth_e2e::{Server, TestClient};
use zeroauth_shared::domain::FactorPolicy;

const MFA: &str = "urn:zeroauth:acr:mfa";

async fn server(policy: FactorPolicy) -> (Server, TestClient) {
    let s = Server::dynamodb_with(|c| c.factors.policy = policy).await;
    let client = s.confidential_client().await;
    s.user("alice").await;
    (s, client)
}

fn code_of(r: &zeroauth_e2e::Reply) -> String {
    assert_eq!(r.status, 303, "{r:?}");
    r.location_params().remove("code").unwrap_or_else(|| panic!("no code in {r:?}"))
}

#[tokio::test]
async fn a_person_with_an_authenticator_app_is_asked_for_a_code_once_per_step() {
    let (s, client) = server(FactorPolicy::Optional).await;
    let mut b = signed_in(&s, &client, "alice").await;
    let (key, codes) = enrol_totp(&s, &mut b).await;
    assert_eq!(codes.len(), 10, "recovery codes come with the first factor");

    // The password alone no longer issues a code: the factor page does.
    let mut b = s.browser();
    let page = password_step(&mut b, &client, "alice", &[]).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Code from your authenticator app"), "{}", page.text);
    let code = code_at(&key, s.clock_now());
    let done = post_factor(&mut b, &page, "totp", &[("code", &code)]).await;
    let claims = id_claims(&s, &client, &code_of(&done)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{claims}");
    assert_eq!(claims["acr"], MFA, "{claims}");
    assert!(claims["auth_time"].as_i64().is_some(), "{claims}");

    // The same code, in the same step, in another browser: refused.
    let mut other = s.browser();
    let page = password_step(&mut other, &client, "alice", &[]).await;
    let again = post_factor(&mut other, &page, "totp", &[("code", &code)]).await;
    assert_eq!(again.status, 400, "{again:?}");
    assert!(again.text.contains("each works once"), "{}", again.text);
    // One step on (the window allows one step of skew each way), a new code passes.
    s.advance(30);
    let next = post_factor(&mut other, &again, "totp", &[("code", &code_at(&key, s.clock_now()))]).await;
    assert_eq!(next.status, 303, "{next:?}");
    // A code two steps away is outside the window.
    s.advance(30);
    let mut third = s.browser();
    let page = password_step(&mut third, &client, "alice", &[]).await;
    let far = post_factor(&mut third, &page, "totp", &[("code", &code_at(&key, s.clock_now() + 60))]).await;
    assert_eq!(far.status, 400, "{far:?}");
}

#[tokio::test]
async fn guessed_codes_are_throttled_like_passwords() {
    let (s, client) = server(FactorPolicy::Optional).await;
    let mut b = signed_in(&s, &client, "alice").await;
    let (key, _) = enrol_totp(&s, &mut b).await;
    let mut b = s.browser();
    let mut page = password_step(&mut b, &client, "alice", &[]).await;
    let right = code_at(&key, s.clock_now());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..10 {
        page = post_factor(&mut b, &page, "totp", &[("code", wrong)]).await;
        assert_eq!(page.status, 400, "{page:?}");
    }
    // Past the limit even the right code is not checked.
    let throttled = post_factor(&mut b, &page, "totp", &[("code", &right)]).await;
    assert_eq!(throttled.status, 429, "{throttled:?}");
}

#[tokio::test]
async fn a_recovery_code_works_once_and_the_second_factor_cannot_be_skipped() {
    let (s, client) = server(FactorPolicy::Optional).await;
    let mut b = signed_in(&s, &client, "alice").await;
    let (_, codes) = enrol_totp(&s, &mut b).await;
    let code = codes.first().expect("recovery codes").clone();

    let mut b = s.browser();
    let page = password_step(&mut b, &client, "alice", &[]).await;
    // Posting straight to the finish with the first factor's step issues nothing.
    let skipped = post_factor(&mut b, &page, "done", &[]).await;
    assert_eq!(skipped.status, 400, "{skipped:?}");
    let forged = b
        .post(
            &s.url("/login/factor"),
            &[
                ("request", &hidden(&page.text, "request").unwrap_or_default()),
                ("step", "x.y"),
                ("factor", "totp"),
            ],
        )
        .await;
    assert_eq!(forged.status, 400, "{forged:?}");
    let used = post_factor(&mut b, &page, "recovery", &[("code", &code.to_uppercase())]).await;
    code_of(&used);

    let mut again = s.browser();
    let page = password_step(&mut again, &client, "alice", &[]).await;
    let twice = post_factor(&mut again, &page, "recovery", &[("code", &code)]).await;
    assert_eq!(twice.status, 400, "{twice:?}");
    assert!(twice.text.contains("used before"), "{}", twice.text);
}

#[tokio::test]
async fn acr_values_step_a_session_up_asking_only_for_the_second_factor() {
    let (s, _) = server(FactorPolicy::Off).await;
    let client = s.client(|c| c.trusted = true).await;
    let mut b = signed_in(&s, &client, "alice").await;
    let (key, _) = enrol_totp(&s, &mut b).await;
    // Policy off: the session's password is enough for a plain request…
    let plain = b
        .authorize(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri), ("scope", "openid")])
        .await;
    assert_eq!(plain.status, 303, "a trusted client's code at once: {plain:?}");
    // …but one asking for multi-factor gets the factor page, without the password again.
    let params = [
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("acr_values", MFA),
    ];
    let step = b.authorize(&params).await;
    assert_eq!(step.status, 200, "{step:?}");
    assert!(step.text.contains("Code from your authenticator app"), "{}", step.text);
    assert!(!step.text.contains("name=\"password\""), "the password is not asked again");
    let none = b.authorize(&[params.as_slice(), &[("prompt", "none")]].concat()).await;
    assert_eq!(
        none.location_params().get("error").map(String::as_str),
        Some("interaction_required"),
        "{none:?}"
    );
    let done = post_factor(&mut b, &step, "totp", &[("code", &code_at(&key, s.clock_now()))]).await;
    let claims = id_claims(&s, &client, &code_of(&done)).await;
    assert_eq!(claims["acr"], MFA, "{claims}");

    let doc = s.browser().open(&s.url("/.well-known/openid-configuration")).await.json();
    assert_eq!(doc["acr_values_supported"], serde_json::json!(["urn:zeroauth:acr:sfa", MFA, "phr"]), "{doc}");
    // Asking for a passkey when the person has none offers to add one.
    let mut fresh = s.browser();
    let page = password_step(&mut fresh, &client, "alice", &[("acr_values", "phr")]).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Add a passkey"), "{}", page.text);
}

#[tokio::test]
async fn under_the_required_policy_a_person_sets_a_factor_up_at_their_next_sign_in() {
    let (s, client) = server(FactorPolicy::Required).await;
    let mut b = s.browser();
    let page = password_step(&mut b, &client, "alice", &[]).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Set up a second factor"), "{}", page.text);
    let key = zeroauth_e2e::factors::shown_key(&page.text);
    let setup = hidden(&page.text, "setup").expect("a set-up");
    let wrong = post_factor(&mut b, &page, "totp_setup", &[("setup", &setup), ("code", "12345x")]).await;
    assert_eq!(wrong.status, 400, "{wrong:?}");
    let on = post_factor(
        &mut b,
        &page,
        "totp_setup",
        &[("setup", &setup), ("code", &code_at(&key, s.clock_now()))],
    )
    .await;
    assert_eq!(on.status, 200, "{on:?}");
    assert_eq!(shown_codes(&on.text).len(), 10, "{}", on.text);
    let done = post_factor(&mut b, &on, "done", &[]).await;
    let claims = id_claims(&s, &client, &code_of(&done)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{claims}");

    // The only factor cannot be removed under this policy.
    let page = b.open(&s.url("/account/security")).await;
    let csrf = hidden(&page.text, "csrf").expect("csrf");
    let r = b.post(&s.url("/account/security"), &[("csrf", &csrf), ("action", "remove_totp")]).await;
    assert_eq!(r.status, 400, "{r:?}");
    assert!(r.text.contains("last second factor"), "{}", r.text);
    // And a change without the CSRF token, or from a stale sign-in, is refused.
    let r = b.post(&s.url("/account/security"), &[("action", "recovery")]).await;
    assert_eq!(r.status, 403, "{r:?}");
    s.advance(601);
    let r = b.post(&s.url("/account/security"), &[("csrf", &csrf), ("action", "recovery")]).await;
    assert_eq!(r.status, 403, "{r:?}");
}

#[tokio::test]
async fn introspection_tells_how_the_person_signed_in() {
    let (s, client) = server(FactorPolicy::Optional).await;
    let mut b = signed_in(&s, &client, "alice").await;
    let (key, _) = enrol_totp(&s, &mut b).await;
    let mut b = s.browser();
    let page = password_step(&mut b, &client, "alice", &[]).await;
    let done = post_factor(&mut b, &page, "totp", &[("code", &code_at(&key, s.clock_now()))]).await;
    let tokens = s.exchange(&client, &code_of(&done), &[]).await.json();
    let access = tokens["access_token"].as_str().expect("an access token");
    let r = s.post_form("/introspect", Some(&client), &[("token", access)]).await.json();
    assert_eq!(r["active"], true, "{r}");
    assert_eq!(r["acr"], MFA, "{r}");
    assert_eq!(r["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{r}");
    assert!(r["auth_time"].as_i64().is_some(), "{r}");
}
