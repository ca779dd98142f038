//! Findings of the outside security review, each shown over HTTP against
//! DynamoDB Local (the finding's number in the review is in the test's doc).

use serde_json::json;
use zeroauth_e2e::{PASSWORD, Server};

/// Finding 11: RFC 6750 2.3 says SHOULD NOT and RFC 9700 2 says clients
/// MUST NOT put the access token in the URL.
#[tokio::test]
async fn userinfo_refuses_a_token_in_the_query_string() {
    let (s, c) = Server::with_alice().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let access = s.exchange(&c, &code, &[]).await.field("access_token");
    let res = s.http.get(s.url(&format!("/userinfo?access_token={access}"))).send().await.expect("an answer");
    assert_eq!(res.status().as_u16(), 400);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap_or_default().to_owned();
    assert!(challenge.contains("error=\"invalid_request\""), "{challenge}");
    assert_eq!(s.userinfo(&access).await.status, 200, "the header still works");
}

/// Finding 9: a repeated JSON key was taken as the last one, so a wrong
/// secret followed by the right one got a token.
#[tokio::test]
async fn repeated_json_keys_are_refused_like_repeated_form_fields() {
    let s = Server::dynamodb().await;
    let m = s.client(|c| c.grants = vec!["client_credentials".into()]).await;
    let secret = m.secret.clone().unwrap_or_default();
    let body = format!(
        r#"{{"grant_type":"client_credentials","client_id":"{}","client_secret":"wrong","client_secret":"{secret}"}}"#,
        m.id
    );
    let res = s
        .http
        .post(s.url("/token"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status().as_u16(), 400);
    let v: serde_json::Value = res.json().await.unwrap_or_default();
    assert_eq!(v["error"], "invalid_request", "{v}");
}

/// Finding 3: RFC 7662 2.1 requires authorizing the caller; a client sees
/// only its own tokens.
#[tokio::test]
async fn a_client_cannot_introspect_another_clients_token() {
    let (s, web) = Server::with_alice().await;
    let other = s.confidential_client().await;
    let code = s.browser().code_for(&web, "alice", &[]).await;
    let t = s.exchange(&web, &code, &[]).await;
    for token in [t.field("access_token"), t.field("refresh_token")] {
        let mine = s.post_form("/introspect", Some(&web), &[("token", &token)]).await.json();
        assert_eq!(mine["active"], true, "{mine}");
        let theirs = s.post_form("/introspect", Some(&other), &[("token", &token)]).await.json();
        assert_eq!(theirs, json!({ "active": false }), "another client learns nothing");
    }
}

/// Finding 3: a public client proves nothing by sending its id.
#[tokio::test]
async fn public_clients_cannot_introspect_and_discovery_no_longer_offers_it() {
    let s = Server::dynamodb().await;
    let public = s.public_client().await;
    let r = s.post_form("/introspect", None, &[("client_id", &public.id), ("token", "za_at_x")]).await;
    assert_eq!((r.status, r.field("error")), (401, "invalid_client".into()));
    let meta = s.http.get(s.url("/.well-known/oauth-authorization-server")).send().await.expect("an answer");
    let meta: serde_json::Value = meta.json().await.unwrap_or_default();
    assert_eq!(
        meta["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
}

/// Finding 8: a disabled person's refresh token introspected as active.
#[tokio::test]
async fn a_disabled_users_refresh_token_introspects_as_inactive() {
    let (s, c) = Server::with_alice().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let refresh = s.exchange(&c, &code, &[]).await.field("refresh_token");
    zeroauth_shared::admin::set_disabled(s.store.as_ref(), "alice", true).await.expect("disable alice");
    let seen = s.post_form("/introspect", Some(&c), &[("token", &refresh)]).await.json();
    assert_eq!(seen, json!({ "active": false }));
}

/// Finding 4: input past DynamoDB's key limits, or blank, came back as 500.
#[tokio::test]
async fn oversized_or_blank_identifiers_are_refused_with_a_4xx() {
    let (s, c) = Server::with_alice().await;
    let long = "c".repeat(1_100);
    let page = s.browser().authorize(&[("client_id", &long)]).await;
    assert_eq!(page.status, 400, "the HTML error page: {page:?}");
    for path in ["/token", "/revoke", "/introspect"] {
        let form = [("grant_type", "client_credentials"), ("client_id", long.as_str()), ("token", "x")];
        let r = s.post_form(path, None, &form).await;
        assert_eq!((path, r.status, r.field("error")), (path, 400, "invalid_request".into()));
    }
    let basic = s
        .http
        .post(s.url("/token"))
        .basic_auth(&long, Some("secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("an answer");
    assert!(basic.status().is_client_error(), "{}", basic.status());

    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    for username in ["    ".to_owned(), "u".repeat(1_100)] {
        let r = b
            .submit(&[
                ("request", &page.request),
                ("username", &username),
                ("password", PASSWORD),
                ("decision", "approve"),
            ])
            .await;
        assert_eq!(r.status, 400, "a {}-byte username: {r:?}", username.len());
    }
}

/// RFC 6749 3.1.2: "The endpoint URI MUST NOT include a fragment
/// component." A loopback URI, which matches on any port, was taken with one
/// and the code was then sent inside the fragment.
#[tokio::test]
async fn a_loopback_redirect_uri_with_a_fragment_gets_the_error_page() {
    let s = Server::dynamodb().await;
    let c = s
        .client(|n| {
            n.redirect_uris = vec![
                "http://127.0.0.1:9/cb".into(),
                "http://localhost/cb".into(),
                "http://[::1]:8080/cb".into(),
            ];
        })
        .await;
    for uri in [
        "http://127.0.0.1:9/cb#f",
        "http://127.0.0.1:5/cb#f",
        "http://127.0.0.1/cb#",
        "http://localhost:3000/cb#f",
        "http://[::1]:9/cb#f",
    ] {
        let r = s.browser().authorize(&[("client_id", &c.id), ("redirect_uri", uri)]).await;
        assert_eq!(r.status, 400, "should refuse {uri}: {r:?}");
        assert!(r.header("location").is_none(), "never a redirect to {uri}");
        assert!(zeroauth_e2e::hidden_request(&r.text).is_none(), "no sign-in form for {uri}");
    }
    let fine =
        s.browser().authorize(&[("client_id", &c.id), ("redirect_uri", "http://127.0.0.1:5/cb")]).await;
    assert!(
        zeroauth_e2e::hidden_request(&fine.text).is_some(),
        "the same URI without one signs in: {fine:?}"
    );
}

/// Finding 16: on an https issuer the sign-in cookies are `__Host-`
/// prefixed, so a sibling subdomain cannot plant them.
#[tokio::test]
async fn an_https_issuer_uses_host_prefixed_cookies() {
    let s = Server::dynamodb_with(|c| c.issuer = "https://auth.example".into()).await;
    let c = s.confidential_client().await;
    s.user("alice").await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    let set = page.reply.header("set-cookie").unwrap_or_default();
    assert!(set.starts_with("__Host-za_csrf=") && set.contains("Secure") && set.contains("Path=/"), "{set}");
    assert!(!set.contains("Domain"), "{set}");
    let done = b.approve(&page, "alice").await;
    assert_eq!(done.status, 303, "the prefixed CSRF cookie is the one checked: {done:?}");
    assert!(b.cookies.contains_key("__Host-za_session"), "{:?}", b.cookies.keys());
    // The signed-in session is read back under its prefixed name.
    let again = b.authorize(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    assert!(again.text.contains("Signed in as"), "{}", again.text);
}

/// A trusted client, so a signed-in session answers `prompt=none` with a code.
async fn trusted(s: &Server) -> zeroauth_e2e::TestClient {
    s.client(|c| c.trusted = true).await
}

/// Where `prompt=none` sends the browser: `Ok(code)` or `Err(error)`.
async fn prompt_none(
    b: &mut zeroauth_e2e::Browser<'_>,
    c: &zeroauth_e2e::TestClient,
) -> Result<String, String> {
    let r = b.authorize(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri), ("prompt", "none")]).await;
    let mut q = r.location_params();
    q.remove("code").ok_or_else(|| q.remove("error").unwrap_or_default())
}

/// Finding 1 (high): with `dan` deleted and the name given to someone else,
/// the first dan's token, refresh token and session reached the new dan.
#[tokio::test]
async fn a_reused_username_inherits_nothing_of_the_person_who_had_it() {
    let s = Server::dynamodb().await;
    let c = trusted(&s).await;
    s.user("dan").await;
    let mut b = s.browser();
    let code = b.code_for(&c, "dan", &[]).await;
    let t = s.exchange(&c, &code, &[]).await;
    assert!(prompt_none(&mut b, &c).await.is_ok(), "the first dan has a session");

    assert!(zeroauth_shared::admin::delete_user(s.store.as_ref(), "dan").await.expect("delete dan"));
    s.user("dan").await;

    assert_eq!(s.userinfo(&t.field("access_token")).await.status, 401, "the old access token");
    let refreshed = s
        .post_form(
            "/token",
            Some(&c),
            &[("grant_type", "refresh_token"), ("refresh_token", &t.field("refresh_token"))],
        )
        .await;
    assert_eq!(
        (refreshed.status, refreshed.field("error")),
        (400, "invalid_grant".into()),
        "the old refresh token"
    );
    assert_eq!(prompt_none(&mut b, &c).await, Err("login_required".into()), "the old session");
    let seen = s.post_form("/introspect", Some(&c), &[("token", &t.field("access_token"))]).await.json();
    assert_eq!(seen, json!({ "active": false }));
}

/// Finding 6: a new password, or disabling the person, left their sessions
/// working. (Signing out: `signing_out_ends_the_session_everywhere`.)
#[tokio::test]
async fn a_new_password_or_disabling_the_person_ends_their_sessions() {
    let s = Server::dynamodb().await;
    let c = trusted(&s).await;
    s.user("erin").await;
    let mut b = s.browser();
    b.code_for(&c, "erin", &[]).await;
    assert!(prompt_none(&mut b, &c).await.is_ok(), "signed in");
    let new = zeroauth_shared::secret::Password::new("a different password");
    zeroauth_shared::admin::set_password(s.store.as_ref(), "erin", new, 0).await.expect("set the password");
    assert_eq!(prompt_none(&mut b, &c).await, Err("login_required".into()), "after a password change");

    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    let signed_in = b
        .submit(&[
            ("request", &page.request),
            ("username", "erin"),
            ("password", "a different password"),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(signed_in.status, 303, "{signed_in:?}");
    assert!(prompt_none(&mut b, &c).await.is_ok(), "signed in again");
    zeroauth_shared::admin::set_disabled(s.store.as_ref(), "erin", true).await.expect("disable erin");
    assert_eq!(prompt_none(&mut b, &c).await, Err("login_required".into()), "after disabling");
}

/// Finding 7: a deleted or disabled client's access tokens kept working.
#[tokio::test]
async fn a_deleted_or_disabled_clients_tokens_stop_working() {
    let (s, c) = Server::with_alice().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let access = s.exchange(&c, &code, &[]).await.field("access_token");
    assert_eq!(s.userinfo(&access).await.status, 200);
    let mut client = s.store.get_client(&c.id).await.expect("a read").expect("the client");
    client.disabled = true;
    s.store.update_client(&client).await.expect("disable the client");
    assert_eq!(s.userinfo(&access).await.status, 401, "a disabled client's token");
    client.disabled = false;
    s.store.update_client(&client).await.expect("enable the client");
    assert_eq!(s.userinfo(&access).await.status, 200, "enabled again");
    assert!(s.store.delete_client(&c.id).await.expect("delete the client"));
    assert_eq!(s.userinfo(&access).await.status, 401, "a deleted client's token");
}

/// Finding 2: 30 wrong passwords for one account sent at once were all
/// checked (the counter was read before the check and written after). Now
/// the attempt is counted first, so at most the limit (10) are checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_pass_the_per_account_limit() {
    let (s, c) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    let cookie: String = b.cookies.iter().map(|(k, v)| format!("{k}={v}; ")).collect();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..30 {
        let (http, url, cookie) = (s.http.clone(), s.url("/callback"), cookie.clone());
        let form = zeroauth_e2e::form_encode(&[
            ("request", &page.request),
            ("username", "alice"),
            ("password", &format!("wrong guess {i}")),
            ("decision", "approve"),
        ]);
        guesses.spawn(async move {
            let res = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(form)
                .send()
                .await;
            res.map(|r| r.status().as_u16()).unwrap_or(0)
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = guesses.join_next().await {
        statuses.push(s.unwrap_or(0));
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, throttled), (10, 20), "{statuses:?}");
}

/// Finding 10: a sign-in form that had succeeded could be posted again for
/// another code — even without the password once the session was set.
#[tokio::test]
async fn a_sign_in_form_that_succeeded_cannot_be_posted_again() {
    let (s, c) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &c.id), ("redirect_uri", &c.redirect_uri)]).await;
    let wrong = [("request", page.request.as_str()), ("username", "alice"), ("password", "nope nope nope")];
    let failed = b.submit(&[&wrong[..], &[("decision", "approve")]].concat()).await;
    assert_eq!(failed.status, 401, "a failed attempt does not spend the form: {failed:?}");
    let first = b.approve(&page, "alice").await;
    assert_eq!(first.status, 303, "{first:?}");
    let again = b.approve(&page, "alice").await;
    assert_eq!(again.status, 400, "{again:?}");
    assert!(again.text.contains("already used"), "{}", again.text);
    assert!(again.header("location").is_none());
    let without_password = b.submit(&[("request", &page.request), ("decision", "approve")]).await;
    assert_eq!(without_password.status, 400, "the session does not revive the form: {without_password:?}");
}

/// Finding 15: ten failures from anyone locked the real person out for
/// five minutes. A browser they signed in from before (a device cookie)
/// is counted on its own, so strangers' guesses do not lock it out.
#[tokio::test]
async fn strangers_guesses_do_not_lock_the_person_out_of_their_own_browser() {
    let (s, c) = Server::with_alice().await;
    let params = [("client_id", c.id.as_str()), ("redirect_uri", c.redirect_uri.as_str())];
    let mut own = s.browser();
    own.code_for(&c, "alice", &[]).await;
    own.cookies.retain(|name, _| name.contains("device"));
    assert_eq!(own.cookies.len(), 1, "the browser is remembered: {:?}", own.cookies);

    let mut stranger = s.browser();
    let page = stranger.login_page(&params).await;
    for i in 0..12 {
        let guess = format!("guess number {i}");
        stranger
            .submit(&[
                ("request", &page.request),
                ("username", "alice"),
                ("password", &guess),
                ("decision", "approve"),
            ])
            .await;
    }
    let locked = stranger.approve(&page, "alice").await;
    assert_eq!(locked.status, 429, "the account is locked for unknown browsers: {locked:?}");

    let page = own.login_page(&params).await;
    let signed_in = own.approve(&page, "alice").await;
    assert_eq!(signed_in.status, 303, "the person's own browser still signs in: {signed_in:?}");

    // The remembered browser's own failures are still limited.
    let page = own.login_page(&params).await;
    let mut last = 0;
    for i in 0..11 {
        let guess = format!("own typo {i}");
        last = own
            .submit(&[
                ("request", &page.request),
                ("username", "alice"),
                ("password", &guess),
                ("decision", "approve"),
            ])
            .await
            .status;
    }
    assert_eq!(last, 429, "a remembered browser is throttled on its own counter");
}

/// Finding 6, the rest: signing out ends the session — in this browser and
/// in any copy of its cookie — and needs a form from this browser.
#[tokio::test]
async fn signing_out_ends_the_session_everywhere() {
    let s = Server::dynamodb().await;
    let c = trusted(&s).await;
    s.user("fay").await;
    let mut b = s.browser();
    b.code_for(&c, "fay", &[]).await;
    let mut copy = s.browser();
    copy.cookies = b.cookies.clone();
    assert!(prompt_none(&mut copy, &c).await.is_ok(), "the copied cookie is signed in");

    let page = b.open(&s.url("/logout")).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("fay"), "{}", page.text);
    let request = zeroauth_e2e::hidden_request(&page.text).expect("a sign-out form");

    // Posted without this browser's CSRF cookie (from another site): refused.
    let forged = s
        .http
        .post(s.url("/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(zeroauth_e2e::form_encode(&[("request", &request)]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(forged.status().as_u16(), 400);
    assert!(prompt_none(&mut b, &c).await.is_ok(), "still signed in");

    let res = s
        .http
        .post(s.url("/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
        .body(zeroauth_e2e::form_encode(&[("request", &request)]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status().as_u16(), 200);
    let cleared = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with("za_session=;") && v.contains("Max-Age=0")));
    assert!(cleared, "the session cookie is cleared");
    assert_eq!(prompt_none(&mut copy, &c).await, Err("login_required".into()), "the copy is signed out too");
    let meta = s.http.get(s.url("/.well-known/openid-configuration")).send().await.expect("metadata");
    let meta: serde_json::Value = meta.json().await.expect("JSON");
    assert_eq!(meta["end_session_endpoint"], json!(s.url("/logout")));
}
