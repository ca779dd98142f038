//! Second factors, end to end: sign in through a client, set up an
//! authenticator app on the security page from the key it shows, and make
//! its codes with `totp-rs` (an implementation nobody here wrote) at the
//! server's clock.

use totp_rs::{Algorithm, Builder, Secret};

use crate::{Browser, PASSWORD, Reply, Server, TestClient, hidden_request};

/// The value of the hidden field `name` in the first form that has one.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    html.get(start..)?.split('"').next().map(|v| v.replace("&amp;", "&"))
}

/// The TOTP key the page shows for manual entry.
pub fn shown_key(html: &str) -> String {
    let start =
        html.find("<code class=\"secret\">").expect("a key on the page") + "<code class=\"secret\">".len();
    html.get(start..).and_then(|h| h.split('<').next()).expect("the key").replace(' ', "")
}

/// The recovery codes a page shows once.
pub fn shown_codes(html: &str) -> Vec<String> {
    let Some(list) = html.split("<ul class=\"codes\">").nth(1) else { return Vec::new() };
    let list = list.split("</ul>").next().unwrap_or("");
    list.split("<code>").skip(1).filter_map(|c| c.split('<').next()).map(str::to_owned).collect()
}

/// The code of the authenticator app with `key` (base32) at `at`.
pub fn code_at(key: &str, at: i64) -> String {
    let secret = Secret::try_from_base32(key).expect("a base32 key");
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(secret)
        .build()
        .expect("an RFC 6238 authenticator");
    totp.generate(u64::try_from(at).expect("a time after 1970")).to_string()
}

/// Signs `username` in through `client` with their password, to the point
/// where the sign-in answers (a code, or the factor page).
pub async fn password_step(
    b: &mut Browser<'_>,
    client: &TestClient,
    username: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut params = vec![
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid profile email"),
    ];
    params.extend_from_slice(extra);
    let page = b.login_page(&params).await;
    b.submit(&[
        ("request", &page.request),
        ("username", username),
        ("password", PASSWORD),
        ("decision", "approve"),
    ])
    .await
}

/// Posts one of the factor page's forms.
pub async fn post_factor(b: &mut Browser<'_>, page: &Reply, factor: &str, extra: &[(&str, &str)]) -> Reply {
    let s = b.server();
    let request = hidden_request(&page.text).expect("a request on the factor page");
    let step = hidden(&page.text, "step").expect("a step on the factor page");
    let mut form = vec![("request", request.as_str()), ("step", step.as_str()), ("factor", factor)];
    form.extend_from_slice(extra);
    b.post(&s.url("/login/factor"), &form).await
}

/// Turns an authenticator app on for the person signed in to `b` (within
/// the last 10 minutes): the key, and the recovery codes shown.
pub async fn enrol_totp(s: &Server, b: &mut Browser<'_>) -> (String, Vec<String>) {
    let page = b.open(&s.url("/account/security")).await;
    assert_eq!(page.status, 200, "{page:?}");
    let key = shown_key(&page.text);
    let csrf = hidden(&page.text, "csrf").expect("a csrf token");
    let setup = hidden(&page.text, "setup").expect("a TOTP set-up");
    let code = code_at(&key, s.clock_now());
    let r = b
        .post(
            &s.url("/account/security"),
            &[("csrf", &csrf), ("action", "add_totp"), ("setup", &setup), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.text.contains("Authenticator app on"), "{}", r.text);
    // The app's first code was spent by the set-up: the next works from the next step.
    s.advance(30);
    (key, shown_codes(&r.text))
}

/// A browser signed in as `username` through `client` (no second factor yet).
pub async fn signed_in<'a>(s: &'a Server, client: &TestClient, username: &str) -> Browser<'a> {
    let mut b = s.browser();
    let r = password_step(&mut b, client, username, &[]).await;
    assert_eq!(r.status, 303, "{r:?}");
    b
}
