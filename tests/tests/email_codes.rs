//! Codes mailed to a person, end to end on DynamoDB Local with mail through
//! the SMTP transport to a real SMTP server: as the only factor where the
//! deployment turns it on (an address without an account gets the same
//! page and no mail), and as the second step after a password; the code
//! works once, in the browser that asked, and a recovery code's use is
//! mailed.

use zeroauth_e2e::factors::{enrol_totp, password_step, post_factor, signed_in};
use zeroauth_e2e::federated::id_claims;
use zeroauth_e2e::mailbox;
use zeroauth_e2e::{Browser, PASSWORD, Reply, Server, TestClient};
use zeroauth_shared::admin::{self, NewUser};
use zeroauth_shared::domain::FactorPolicy;

async fn server() -> (Server, TestClient) {
    let s = Server::dynamodb_with_mail(|c| {
        c.factors.email_code_sign_in = true;
        c.factors.policy = FactorPolicy::Optional;
        c.self_service.response_floor_ms = 0;
    })
    .await;
    let client = s.confidential_client().await;
    (s, client)
}

/// A person with a password and an address no other test uses.
async fn person(s: &Server, who: &str) -> (String, String) {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let username = format!("{who}{n}");
    let email = format!("{username}@example.org");
    let new = NewUser {
        username: username.clone(),
        email: Some(email.clone()),
        name: None,
        password: PASSWORD.into(),
    };
    admin::create_user(s.store.as_ref(), new, s.clock_now()).await.expect("a person");
    (username, email)
}

async fn ask_for_code(b: &mut Browser<'_>, client: &TestClient, typed: &str) -> Reply {
    let page = b
        .login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri), ("scope", "openid")])
        .await;
    assert!(page.reply.text.contains("Email me a sign-in code"), "{}", page.reply.text);
    b.submit(&[("request", &page.request), ("username", typed), ("method", "email_code")]).await
}

fn code_of(r: &Reply) -> String {
    assert_eq!(r.status, 303, "{r:?}");
    r.location_params().remove("code").unwrap_or_else(|| panic!("no code in {r:?}"))
}

#[tokio::test]
async fn a_mailed_code_signs_a_person_in_once_and_tells_nobody_who_has_an_account() {
    let (s, client) = server().await;
    let (_, email) = person(&s, "mona").await;
    let before = mailbox::count(&email);
    let mut b = s.browser();
    let page = ask_for_code(&mut b, &client, &email).await;
    assert_eq!(page.status, 200, "{page:?}");
    let mail = mailbox::wait_for(&email, before).await;
    let code = mailbox::code(&mail.text).expect("a code in the mail");

    // An address without an account: the same page, and no mail.
    let nobody = email.replace("mona", "nobody");
    let mut other = s.browser();
    let same = ask_for_code(&mut other, &client, &nobody).await;
    assert_eq!((same.status, same.text.replace(&nobody, "X")), (page.status, page.text.replace(&email, "X")));
    assert_eq!(mailbox::count(&nobody), 0);
    // The code is good only in the browser that asked for it.
    let elsewhere = other.post(&s.url("/login/email"), &[("step", "code"), ("code", &code)]).await;
    assert_eq!(elsewhere.status, 400, "{elsewhere:?}");

    let signed = b.post(&s.url("/login/email"), &[("step", "code"), ("code", &code)]).await;
    // An untrusted client asks for consent next, as the person's session.
    assert_eq!(signed.status, 200, "{signed:?}");
    let request = zeroauth_e2e::hidden_request(&signed.text).expect("the consent form");
    let done = b.submit(&[("request", &request), ("decision", "approve")]).await;
    let claims = id_claims(&s, &client, &code_of(&done)).await;
    assert_eq!(claims["amr"], serde_json::json!(["otp"]), "{claims}");
    assert_eq!(claims["acr"], "urn:zeroauth:acr:sfa", "{claims}");
    let again = b.post(&s.url("/login/email"), &[("step", "code"), ("code", &code)]).await;
    assert_eq!(again.status, 400, "a spent code and an ended flow: {again:?}");
}

#[tokio::test]
async fn a_mailed_code_is_a_second_factor_and_a_used_recovery_code_is_told() {
    let (s, client) = server().await;
    let (username, email) = person(&s, "nils").await;
    let mut b = signed_in(&s, &client, &username).await;
    let (_, codes) = enrol_totp(&s, &mut b).await;

    let mut b = s.browser();
    let page = password_step(&mut b, &client, &username, &[]).await;
    assert!(page.text.contains("Email a code to n"), "{}", page.text);
    let before = mailbox::count(&email);
    let sent = post_factor(&mut b, &page, "email", &[]).await;
    assert_eq!(sent.status, 200, "{sent:?}");
    let code = mailbox::code(&mailbox::wait_for(&email, before).await.text).expect("a code");
    let done = b.post(&s.url("/login/email"), &[("step", "code"), ("code", &code)]).await;
    let claims = id_claims(&s, &client, &code_of(&done)).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "otp", "mfa"]), "{claims}");

    let before = mailbox::count(&email);
    let mut c = s.browser();
    let page = password_step(&mut c, &client, &username, &[]).await;
    let used = post_factor(&mut c, &page, "recovery", &[("code", codes.first().expect("codes"))]).await;
    code_of(&used);
    let notice = mailbox::wait_for(&email, before).await;
    assert!(notice.text.contains("9 recovery codes left"), "{}", notice.text);
}
