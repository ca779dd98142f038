//! People get in on their own, end to end on DynamoDB Local, with every
//! mail sent through the SMTP transport to a real SMTP server
//! (`scripts/smtp-sink`, started by `scripts/test`) and read back from the
//! MIME message it received: sign-up, verification by code and by link,
//! reset, email change, invitations, and the rules (no enumeration, burnt
//! codes, mail limits, one account per address).

use zeroauth_e2e::mailbox::{self, Received};
use zeroauth_e2e::{Browser, PASSWORD, Reply, Server, TestClient, form_encode, hidden_request};
use zeroauth_shared::domain::Identifier;
use zeroauth_shared::sign_in::self_service::SignUp;

const NEW_PASSWORD: &str = "violet ledger mountain tram";

/// A server that lets people sign up and mails through SMTP, with no
/// response floor (the tests compare answers, not timings).
async fn server() -> (Server, TestClient) {
    let s = Server::dynamodb_with_mail(|c| {
        c.self_service.sign_up = SignUp::Open;
        c.self_service.response_floor_ms = 0;
    })
    .await;
    let client = s.confidential_client().await;
    (s, client)
}

/// An address no other test uses.
fn address(who: &str) -> String {
    let n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("{who}.{n}@example.org")
}

fn location(r: &Reply) -> String {
    r.header("location").unwrap_or_else(|| panic!("no Location in {r:?}"))
}

/// The `href` of the link whose text is `label`.
fn link_to(html: &str, label: &str) -> String {
    let end = html.find(&format!(">{label}</a>")).unwrap_or_else(|| panic!("no link {label:?} in {html}"));
    let start = html.get(..end).and_then(|h| h.rfind("href=\"")).expect("an href") + "href=\"".len();
    html.get(start..end).and_then(|h| h.split('"').next()).expect("the href").replace("&amp;", "&")
}

async fn post(b: &mut Browser<'_>, url: &str, form: &[(&str, &str)]) -> Reply {
    b.post(url, form).await
}

/// Signs up from the client's sign-in page and returns the code page's reply.
async fn sign_up(s: &Server, b: &mut Browser<'_>, client: &TestClient, email: &str) -> Reply {
    let page = b
        .login_page(&[
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email profile"),
        ])
        .await;
    let sign_up_url = link_to(&page.reply.text, "Create an account");
    let form = b.open(&sign_up_url).await;
    assert_eq!(form.status, 200, "{form:?}");
    let request = hidden_request(&form.text).expect("the sign-up form keeps the request");
    // "I already have an account" leads back to the same request's sign-in page.
    let back = b.open(&link_to(&form.text, "I already have an account")).await;
    assert!(back.status == 200 && back.text.contains("Email or username"), "{back:?}");
    let r = post(
        b,
        &s.url("/signup"),
        &[("request", &request), ("email", email), ("name", "Ada Lovelace"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status, 303, "{r:?}");
    r
}

fn code_of(m: &Received) -> String {
    mailbox::code(&m.text).unwrap_or_else(|| panic!("no code in {}", m.text))
}

/// Decodes a JWT's claims (unverified: the signature is the OIDC tests' matter).
fn claims(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

#[tokio::test]
async fn a_person_signs_up_verifies_resets_and_signs_in_again() {
    let (s, client) = server().await;
    let email = address("ada");
    let mut b = s.browser();
    let before = mailbox::count(&email);
    let r = sign_up(&s, &mut b, &client, &email).await;
    assert_eq!(location(&r), s.url("/verify"));
    let mail = mailbox::wait_for(&email, before).await;
    assert!(mail.subject.contains("Verify"), "{}", mail.subject);
    assert!(!mail.subject.contains(&code_of(&mail)), "no code in the subject");
    // The code page, then the code: back at the request, signed in.
    let page = b.open(&location(&r)).await;
    assert!(page.text.contains(&email), "{}", page.text);
    let back = post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", &code_of(&mail))]).await;
    assert_eq!(back.status, 200, "{back:?}");
    assert!(back.text.contains("Signed in as"), "{}", back.text);
    let request = hidden_request(&back.text).expect("the request, sealed afresh");
    let done = b.submit(&[("request", &request), ("decision", "approve")]).await;
    assert_eq!(done.status, 303, "{done:?}");
    let code = done.location_params().remove("code").expect("a code");
    let tokens = s.exchange(&client, &code, &[]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let id = claims(&tokens.field("id_token"));
    assert_eq!(id["email"], serde_json::json!(email));
    assert_eq!(id["email_verified"], serde_json::json!(true));
    let refresh = tokens.field("refresh_token");

    // Forgot the password: a fresh browser asks for a reset by mail.
    let mut other = s.browser();
    let page = other.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    let reset_url = link_to(&page.reply.text, "Forgot your password?");
    let form = other.open(&reset_url).await;
    let request = hidden_request(&form.text).expect("the reset form keeps the request");
    let back = other.open(&link_to(&form.text, "Back to sign in")).await;
    assert!(back.status == 200 && back.text.contains("Email or username"), "{back:?}");
    let before = mailbox::count(&email);
    let asked =
        post(&mut other, &s.url("/reset"), &[("step", "request"), ("request", &request), ("email", &email)])
            .await;
    assert_eq!((asked.status, location(&asked)), (303, s.url("/reset?step=code")));
    let mail = mailbox::wait_for(&email, before).await;
    let link = mailbox::link(&mail.text, "/reset?t=").expect("a reset link");
    // The link opens a page whose button posts: a GET changes nothing.
    let page = other.open(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Change my password"));
    let token = hidden_value(&page.text, "t");
    let before = mailbox::count(&email);
    let changed =
        post(&mut other, &s.url("/reset"), &[("step", "link"), ("t", &token), ("password", NEW_PASSWORD)])
            .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert!(changed.text.contains("Sign in with your new password"), "{}", changed.text);
    assert!(!changed.text.contains("Signed in as"), "a reset never signs in");
    let notice = mailbox::wait_for(&email, before).await;
    assert!(notice.subject.to_lowercase().contains("password"), "{}", notice.subject);
    // The link is spent.
    let again =
        post(&mut other, &s.url("/reset"), &[("step", "link"), ("t", &token), ("password", NEW_PASSWORD)])
            .await;
    assert_eq!(again.status, 400);
    // Every token family of the person stopped.
    let refreshed = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(refreshed.status, 400, "{refreshed:?}");
    // The first browser's session ended too.
    let page = b.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    assert!(!page.reply.text.contains("Signed in as"), "the session ended");
    // The new password signs in, by email.
    let r = b
        .submit(&[
            ("request", &page.request),
            ("username", &email),
            ("password", NEW_PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    assert!(r.location_params().contains_key("code"));
}

/// Status, Location and body of an answer, and its cookies' names: what
/// must not differ between an address with an account and one without.
fn shape(r: &Reply) -> (u16, Option<String>, String, Vec<String>) {
    let mut cookies: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split('=').next().map(str::to_owned))
        .collect();
    cookies.sort();
    (r.status, r.header("location"), r.text.clone(), cookies)
}

#[tokio::test]
async fn nothing_tells_whether_an_address_has_an_account() {
    let (s, client) = server().await;
    let known = address("known");
    let unknown = address("unknown");
    // `known` has an account.
    let mut b = s.browser();
    sign_up(&s, &mut b, &client, &known).await;
    let before_known = mailbox::count(&known);
    let before_unknown = mailbox::count(&unknown);

    // Reset: the same answer, byte for byte; only the account's address is mailed.
    let (mut x, mut y) = (s.browser(), s.browser());
    let a = post(&mut x, &s.url("/reset"), &[("step", "request"), ("email", &known)]).await;
    let z = post(&mut y, &s.url("/reset"), &[("step", "request"), ("email", &unknown)]).await;
    assert_eq!(shape(&a), shape(&z));
    let (pa, pz) = (x.open(&location(&a)).await, y.open(&location(&z)).await);
    assert_eq!(pa.text.replace(&known, "ADDRESS"), pz.text.replace(&unknown, "ADDRESS"), "the code pages");
    mailbox::wait_for(&known, before_known).await;
    // Resend: the same again.
    let ra = post(&mut x, &s.url("/reset"), &[("step", "resend")]).await;
    let rz = post(&mut y, &s.url("/reset"), &[("step", "resend")]).await;
    assert_eq!(shape(&ra), shape(&rz));
    // A wrong code: the same.
    let wa =
        post(&mut x, &s.url("/reset"), &[("step", "code"), ("code", "000000"), ("password", NEW_PASSWORD)])
            .await;
    let wz =
        post(&mut y, &s.url("/reset"), &[("step", "code"), ("code", "000000"), ("password", NEW_PASSWORD)])
            .await;
    assert_eq!(wa.status, wz.status);
    assert_eq!(wa.text.replace(&known, "ADDRESS"), wz.text.replace(&unknown, "ADDRESS"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mailbox::count(&unknown), before_unknown, "nothing is mailed to an unknown address");

    // Sign-up with a taken address: the same answer as a new one, and a mail
    // saying there is an account (and how to reset) instead of an error.
    let fresh = address("fresh");
    let before = mailbox::count(&known);
    let (mut p, mut q) = (s.browser(), s.browser());
    let taken =
        post(&mut p, &s.url("/signup"), &[("email", &known), ("name", "Ada"), ("password", PASSWORD)]).await;
    let new =
        post(&mut q, &s.url("/signup"), &[("email", &fresh), ("name", "Ada"), ("password", PASSWORD)]).await;
    assert_eq!(shape(&taken), shape(&new));
    let exists = mailbox::wait_for(&known, before).await;
    assert!(exists.text.contains("already has an account"), "{}", exists.text);
    assert!(exists.text.contains("/reset"), "{}", exists.text);
}

#[tokio::test]
async fn five_wrong_codes_burn_the_code_and_a_new_one_replaces_it() {
    let (s, client) = server().await;
    let email = address("burn");
    let mut b = s.browser();
    let before = mailbox::count(&email);
    sign_up(&s, &mut b, &client, &email).await;
    let first = code_of(&mailbox::wait_for(&email, before).await);
    // Letters are not a code: refused without counting.
    let letters = post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", "12a456")]).await;
    assert_eq!(letters.status, 400);
    assert!(letters.text.contains("6 digits"));
    let wrong = if first == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", wrong)]).await;
        assert_eq!(r.status, 400);
    }
    let burnt = post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", &first)]).await;
    assert_eq!(burnt.status, 400);
    assert!(burnt.text.contains("no longer works"), "{}", burnt.text);
    // "Send a new code" gives the flow a new code and five more tries.
    let before = mailbox::count(&email);
    let resent = post(&mut b, &s.url("/verify"), &[("step", "resend")]).await;
    assert_eq!((resent.status, location(&resent)), (303, s.url("/verify?sent=1")));
    let fresh = code_of(&mailbox::wait_for(&email, before).await);
    let wrong = if fresh == "000000" { "111111" } else { "000000" };
    assert_eq!(post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", wrong)]).await.status, 400);
    if fresh != first {
        let old = post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", &first)]).await;
        assert_eq!(old.status, 400, "the burnt code stays burnt");
    }
    // A new code replaces the old one: the old is refused in a new flow too.
    let before = mailbox::count(&email);
    let mut again = s.browser();
    let page = again.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    let r = again
        .submit(&[
            ("request", &page.request),
            ("username", &email),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    // Unverified: the sign-in is held back and a code is mailed.
    assert_eq!((r.status, location(&r)), (303, s.url("/verify")), "{r:?}");
    let second = code_of(&mailbox::wait_for(&email, before).await);
    if second != first {
        let old = post(&mut again, &s.url("/verify"), &[("step", "code"), ("code", &first)]).await;
        assert_eq!(old.status, 400, "the first code was replaced");
    }
    let ok = post(&mut again, &s.url("/verify"), &[("step", "code"), ("code", &second)]).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok.text.contains("Signed in as"));
}

#[tokio::test]
async fn mail_to_one_address_is_limited_per_hour() {
    let (s, _client) = server().await;
    let email = address("limited");
    let mut b = s.browser();
    for _ in 0..5 {
        let r = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", &email)]).await;
        assert_eq!(r.status, 303, "{r:?}");
    }
    let r = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", &email)]).await;
    assert_eq!(r.status, 429, "{r:?}");
    assert!(r.header("retry-after").is_some_and(|v| v.parse::<i64>().is_ok_and(|n| n > 0)));
    assert!(r.text.contains("Try again in"), "{}", r.text);
    // Another address is not held back by it.
    let other = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", &address("other"))]).await;
    assert_eq!(other.status, 303);
    // An hour later the address may be mailed again.
    s.advance(3601);
    let later = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", &email)]).await;
    assert_eq!(later.status, 303);
}

#[tokio::test]
async fn two_sign_ups_racing_for_one_address_make_one_account() {
    let (s, _client) = server().await;
    let email = address("race");
    let before = mailbox::count(&email);
    let mut runs = Vec::new();
    for i in 0..4 {
        let url = s.url("/signup");
        let http = s.http.clone();
        let body = form_encode(&[("email", &email), ("name", &format!("Racer {i}")), ("password", PASSWORD)]);
        runs.push(tokio::spawn(async move {
            http.post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for r in runs {
        assert_eq!(r.await.ok().and_then(Result::ok), Some(303));
    }
    let people = s.store.list_people().await.expect("people");
    let ours: Vec<_> = people.iter().filter(|p| p.email.as_deref() == Some(email.as_str())).collect();
    assert_eq!(ours.len(), 1, "exactly one account: {ours:?}");
    // One verification mail and three "you already has an account" mails.
    let mut subjects = Vec::new();
    for n in 0..4 {
        subjects.push(mailbox::wait_for(&email, before + n).await.text);
    }
    assert_eq!(subjects.iter().filter(|t| t.contains("already has an account")).count(), 3, "{subjects:?}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_page_and_writes_nothing() {
    let (s, _client) = server().await;
    let mut b = s.browser();
    let long = format!("{}@example.org", "a".repeat(250));
    let injected = format!("{}\r\nBcc: victim@example.org", address("inject"));
    for bad in
        ["not-an-address", "two@@example.org", "a@b", long.as_str(), injected.as_str(), "a b@example.org"]
    {
        let r =
            post(&mut b, &s.url("/signup"), &[("email", bad), ("name", "X"), ("password", PASSWORD)]).await;
        assert_eq!(r.status, 400, "{bad:?}: {r:?}");
        assert!(r.text.contains("not valid") || r.text.contains("too long"), "{bad:?}: {}", r.text);
        let r = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", bad)]).await;
        assert_eq!(r.status, 400, "{bad:?}");
    }
    // A name with a line break, a weak password: refused, nothing made.
    let email = address("bad");
    let r = post(
        &mut b,
        &s.url("/signup"),
        &[("email", &email), ("name", "Eve\r\nBcc: x@y.org"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status, 400);
    let r = post(&mut b, &s.url("/signup"), &[("email", &email), ("name", "Eve"), ("password", "password1")])
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("too common"), "{}", r.text);
    assert!(!r.text.contains("password1"), "the password is never echoed");
    let r =
        post(&mut b, &s.url("/signup"), &[("email", &email), ("name", "Eve"), ("password", "short")]).await;
    assert!(r.status == 400 && r.text.contains("at least 8"));
    assert!(
        s.store
            .list_people()
            .await
            .expect("people")
            .iter()
            .all(|p| p.email.as_deref() != Some(email.as_str()))
    );
    // An altered link token; a code with no flow.
    let r = b.open(&s.url("/verify?t=verify.za_user_x.AAAA")).await;
    assert_eq!(r.status, 400);
    let altered = format!("reset.za_user_x.{}", "A".repeat(43));
    let r = post(&mut b, &s.url("/reset"), &[("step", "link"), ("t", &altered), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(r.status, 400);
    let r = post(&mut s.browser(), &s.url("/verify"), &[("step", "code"), ("code", "123456")]).await;
    assert_eq!(r.status, 400);
    // A disabled person asking for a reset: the usual answer, no mail.
    s.user("dora").await;
    zeroauth_shared::admin::set_disabled(s.store.as_ref(), "dora", true).await.expect("disable");
    let before = mailbox::count("dora@example.com");
    let r = post(&mut b, &s.url("/reset"), &[("step", "request"), ("email", "dora@example.com")]).await;
    assert_eq!(r.status, 303);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(mailbox::count("dora@example.com"), before);
}

#[tokio::test]
async fn a_signed_in_person_changes_their_address_and_keeps_their_sub() {
    let (s, client) = server().await;
    let old = address("mover");
    let new = address("moved");
    let mut b = s.browser();
    let before = mailbox::count(&old);
    sign_up(&s, &mut b, &client, &old).await;
    let code = code_of(&mailbox::wait_for(&old, before).await);
    post(&mut b, &s.url("/verify"), &[("step", "code"), ("code", &code)]).await;
    let sub = s
        .store
        .list_people()
        .await
        .expect("people")
        .into_iter()
        .find(|p| p.email.as_deref() == Some(old.as_str()))
        .expect("the person")
        .sub;
    // A reset asked for before the change: its link must not outlive it.
    let before_reset = mailbox::count(&old);
    post(&mut s.browser(), &s.url("/reset"), &[("step", "request"), ("email", &old)]).await;
    let reset_mail = mailbox::wait_for(&old, before_reset).await;
    let reset_link = mailbox::link(&reset_mail.text, "/reset?t=").expect("a reset link");
    let page = b.open(&s.url("/account/email")).await;
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = hidden_value(&page.text, "csrf");
    // Without the form's CSRF token (a post from another page): refused.
    let forged = post(&mut b, &s.url("/account/email"), &[("step", "request"), ("email", &new)]).await;
    assert_eq!(forged.status, 403, "{forged:?}");
    let (before_old, before_new) = (mailbox::count(&old), mailbox::count(&new));
    let r = post(&mut b, &s.url("/account/email"), &[("step", "request"), ("email", &new), ("csrf", &csrf)])
        .await;
    assert_eq!((r.status, location(&r)), (303, s.url("/verify")), "{r:?}");
    let mail = mailbox::wait_for(&new, before_new).await;
    let link = mailbox::link(&mail.text, "/verify?t=").expect("a link");
    // The link works in any browser (a phone, say).
    let mut phone = s.browser();
    let page = phone.open(&link).await;
    let token = hidden_value(&page.text, "t");
    let done = post(&mut phone, &s.url("/verify"), &[("step", "link"), ("t", &token)]).await;
    assert_eq!(done.status, 200, "{done:?}");
    assert!(done.text.contains(&new));
    let notice = mailbox::wait_for(&old, before_old).await;
    assert!(notice.text.contains(&new), "the old address is told: {}", notice.text);
    let person = s.store.get_person(&sub, None).await.expect("read").expect("still there");
    assert_eq!(person.email.as_deref(), Some(new.as_str()));
    // The new address signs in; the old one no longer does.
    let mut c = s.browser();
    let page = c.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    let r = c
        .submit(&[
            ("request", &page.request),
            ("username", &old),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(r.status, 401);
    let r = c
        .submit(&[
            ("request", &hidden_request(&r.text).expect("form")),
            ("username", &new),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    // Without a session the page asks to sign in first; with one older
    // than 10 minutes, to sign in again.
    assert_eq!(s.browser().open(&s.url("/account/email")).await.status, 401);
    s.advance(601);
    assert_eq!(c.open(&s.url("/account/email")).await.status, 403);
    // The reset mailed to the old address resets nothing now.
    let mut late = s.browser();
    let page = late.open(&reset_link).await;
    let token = hidden_value(&page.text, "t");
    let r = post(&mut late, &s.url("/reset"), &[("step", "link"), ("t", &token), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(r.status, 400, "{r:?}");
}

/// The value of a hidden field.
fn hidden_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html.get(start..).and_then(|h| h.split('"').next()).expect("a value").to_owned()
}

#[tokio::test]
async fn people_of_an_earlier_release_are_found_by_email_after_the_migration() {
    let (s, client) = server().await;
    // An earlier release kept the address in the record only.
    s.user("olga").await;
    let store = s.store.as_ref();
    let sub = store.find_identifier(&Identifier::Username("olga".into())).await.expect("read").expect("olga");
    let mut olga = store.get_person(&sub, None).await.expect("read").expect("olga");
    let email = address("olga");
    olga.email = Some(email.clone());
    store.update_person(&olga, None).await.expect("an address without its identifier");
    let before = mailbox::count(&email);
    post(&mut s.browser(), &s.url("/reset"), &[("step", "request"), ("email", &email)]).await;
    let claimed = zeroauth_shared::admin::claim_emails(store).await.expect("claim");
    assert_eq!((claimed.claimed, claimed.clashes.len()), (1, 0));
    assert_eq!(zeroauth_shared::admin::claim_emails(store).await.expect("again").claimed, 0, "idempotent");
    post(&mut s.browser(), &s.url("/reset"), &[("step", "request"), ("email", &email)]).await;
    let mail = mailbox::wait_for(&email, before).await;
    assert!(mail.subject.to_lowercase().contains("password"), "only the reset after the migration mails");
    assert_eq!(mailbox::count(&email), before + 1);
    // A sign-up with the address now finds the account.
    let r = post(
        &mut s.browser(),
        &s.url("/signup"),
        &[("email", &email), ("name", "O"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        s.store
            .list_people()
            .await
            .expect("people")
            .iter()
            .filter(|p| p.email.as_deref() == Some(email.as_str()))
            .count(),
        1
    );
    // A username that looks like an address still signs in as a username.
    s.user("ops@corp.example").await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
    let r = b
        .submit(&[
            ("request", &page.request),
            ("username", "ops@corp.example"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(r.status, 303, "{r:?}");
}

#[tokio::test]
async fn an_invited_person_sets_up_their_account_whether_sign_up_is_by_invitation_or_off() {
    for (policy, refused) in [(SignUp::Invite, 403), (SignUp::Off, 404)] {
        let s = Server::dynamodb_with_mail(|c| {
            c.self_service.sign_up = policy;
            c.self_service.response_floor_ms = 0;
        })
        .await;
        let email = address("invited");
        // Without an invitation, sign-up is refused.
        let form = [("email", email.as_str()), ("name", "I"), ("password", PASSWORD)];
        assert_eq!(post(&mut s.browser(), &s.url("/signup"), &form).await.status, refused, "{policy:?}");
        let before = mailbox::count(&email);
        s.invite(&email).await;
        let link =
            mailbox::link(&mailbox::wait_for(&email, before).await.text, "/signup?t=").expect("a link");
        let mut b = s.browser();
        let page = b.open(&link).await;
        assert!(page.text.contains("Set up your account"), "{}", page.text);
        let token = hidden_value(&page.text, "t");
        let accept = [("t", token.as_str()), ("name", "Invitee"), ("password", PASSWORD)];
        let r = post(&mut b, &s.url("/signup"), &accept).await;
        assert_eq!(r.status, 200, "{policy:?}: {r:?}");
        assert_eq!(post(&mut b, &s.url("/signup"), &accept).await.status, 400, "the invitation is spent");
        let client = s.confidential_client().await;
        let mut c = s.browser();
        let page = c.login_page(&[("client_id", &client.id), ("redirect_uri", &client.redirect_uri)]).await;
        let signed_in = [("request", page.request.as_str()), ("username", &email), ("password", PASSWORD)];
        let r = c.submit(&[signed_in.as_slice(), &[("decision", "approve")]].concat()).await;
        assert_eq!(r.status, 303, "verified by the invitation: {r:?}");
    }
}
