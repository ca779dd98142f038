//! The authorization code flow over HTTP against DynamoDB Local.

use zeroauth_e2e::{PASSWORD, Server, hidden_request, pkce};

#[tokio::test]
async fn full_flow_with_a_confidential_client() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let code = b.code_for(&client, "alice", &[("scope", "openid profile email"), ("state", "xyz")]).await;
    assert!(code.starts_with("za_ac_"));

    let tokens = s.exchange(&client, &code, &[]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    assert_eq!(tokens.header("cache-control").as_deref(), Some("no-store"));
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile email");
    assert!(body["created_at"].as_i64().is_some());
    let access = tokens.field("access_token");
    assert!(access.starts_with("za_at_"));
    assert!(tokens.field("refresh_token").starts_with("za_rt_"));

    let me = s.userinfo(&access).await;
    assert_eq!(me.status, 200, "{me:?}");
    let me = me.json();
    assert!(me["sub"].as_str().is_some_and(|s| s.starts_with("za_user_")));
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["name"], "alice Example");
}

#[tokio::test]
async fn full_flow_with_a_public_client_and_pkce() {
    let s = Server::dynamodb().await;
    let client = s.public_client().await;
    s.user("bob").await;
    let (verifier, challenge) = pkce();
    let mut b = s.browser();
    let code = b
        .code_for(
            &client,
            "bob",
            &[("code_challenge", &challenge), ("code_challenge_method", "S256"), ("scope", "openid")],
        )
        .await;
    let tokens = s.exchange(&client, &code, &[("code_verifier", &verifier)]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let me = s.userinfo(&tokens.field("access_token")).await.json();
    assert!(me.get("email").is_none(), "the email scope was not granted: {me}");
}

#[tokio::test]
async fn flow_works_on_the_embedded_store_too() {
    let s = Server::memory().await;
    let client = s.confidential_client().await;
    s.user("alice").await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    assert_eq!(s.exchange(&client, &code, &[]).await.status, 200);
}

#[tokio::test]
async fn one_client_cannot_redeem_another_clients_code() {
    let s = Server::dynamodb().await;
    let owner = s.confidential_client().await;
    let thief = s.confidential_client().await;
    s.user("alice").await;
    let code = s.browser().code_for(&owner, "alice", &[]).await;
    let stolen = s.exchange(&thief, &code, &[]).await;
    assert_eq!((stolen.status, stolen.field("error")), (400, "invalid_grant".into()));
    assert_eq!(s.exchange(&owner, &code, &[]).await.status, 200, "the owner can still redeem it");
}

#[tokio::test]
async fn replayed_code_revokes_tokens_it_issued() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let first = s.exchange(&client, &code, &[]).await;
    assert_eq!(first.status, 200);
    let replay = s.exchange(&client, &code, &[]).await;
    assert_eq!((replay.status, replay.field("error")), (400, "invalid_grant".into()));
    assert_eq!(s.userinfo(&first.field("access_token")).await.status, 401);
    let refresh = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &first.field("refresh_token"))],
        )
        .await;
    assert_eq!(refresh.field("error"), "invalid_grant");
}

#[tokio::test]
async fn replay_after_31_seconds_still_revokes_the_first_tokens() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let first = s.exchange(&client, &code, &[]).await;
    assert_eq!(first.status, 200);
    s.advance(31);
    let replay = s.exchange(&client, &code, &[]).await;
    assert_eq!(replay.field("error"), "invalid_grant");
    assert_eq!(s.userinfo(&first.field("access_token")).await.status, 401, "the replay revoked the tokens");
}

#[tokio::test]
async fn replay_with_a_wrong_secret_revokes_nothing() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let first = s.exchange(&client, &code, &[]).await;
    let mut impostor = client.clone();
    impostor.secret = Some("not-the-secret-at-all".into());
    let replay = s.exchange(&impostor, &code, &[]).await;
    assert_eq!((replay.status, replay.field("error")), (401, "invalid_client".into()));
    assert!(replay.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")));
    assert_eq!(s.userinfo(&first.field("access_token")).await.status, 200, "nothing was revoked");
}

#[tokio::test]
async fn state_is_echoed_exactly() {
    let (s, client) = Server::with_alice().await;
    let state = "a b&c=d/é✓%20+";
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id), ("state", state)]).await;
    let reply = b.approve(&page, "alice").await;
    let params = reply.location_params();
    assert_eq!(params.get("state").map(String::as_str), Some(state));
    assert_eq!(params.get("iss").map(String::as_str), Some(s.base.as_str()));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_page_and_no_code() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id)]).await;
    let wrong = b
        .submit(&[
            ("request", &page.request),
            ("username", "alice"),
            ("password", "nope"),
            ("decision", "approve"),
        ])
        .await;
    let unknown = b
        .submit(&[
            ("request", &page.request),
            ("username", "mallory"),
            ("password", "nope"),
            ("decision", "approve"),
        ])
        .await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, 401);
        assert!(r.header("location").is_none());
        assert!(r.text.contains("The email, username or password is not right."));
        assert!(hidden_request(&r.text).is_some(), "the form is shown again");
    }
}

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let s = Server::dynamodb().await;
    let client = s.confidential_client().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id), ("state", "s1")]).await;
    let reply = b.submit(&[("request", &page.request), ("decision", "deny")]).await;
    assert_eq!(reply.status, 303);
    let p = reply.location_params();
    assert_eq!(p["error"], "access_denied");
    assert_eq!(p["state"], "s1");
    assert_eq!(p["iss"], s.base);
    assert!(!p.contains_key("code"));
}

#[tokio::test]
async fn missing_csrf_cookie_is_refused() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id)]).await;
    b.cookies.remove("za_csrf");
    let reply = b.approve(&page, "alice").await;
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
    assert!(reply.text.contains("cookie"));
}

#[tokio::test]
async fn tampered_hidden_field_is_refused() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let mut page = b.login_page(&[("client_id", &client.id)]).await;
    let (payload, tag) = page.request.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    page.request = format!("{}.{tag}", String::from_utf8(bytes).unwrap());
    let reply = b.approve(&page, "alice").await;
    assert_eq!(reply.status, 400);
    assert!(reply.text.contains("expired or was altered"));
}

#[tokio::test]
async fn expired_signed_request_is_refused() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id)]).await;
    s.advance(601);
    let reply = b.approve(&page, "alice").await;
    assert_eq!(reply.status, 400);
    assert!(reply.text.contains("expired or was altered"));
}

#[tokio::test]
async fn of_24_concurrent_redemptions_exactly_one_succeeds_and_none_fails_with_5xx() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let replies = futures_join(&s, &client, &code, 24).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{replies:?}");
    assert!(replies.iter().all(|r| r.status < 500), "{replies:?}");
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| r.field("error") == "invalid_grant"));
}

async fn futures_join(
    s: &Server,
    client: &zeroauth_e2e::TestClient,
    code: &str,
    n: usize,
) -> Vec<zeroauth_e2e::Reply> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let http = s.http.clone();
        let url = s.url("/token");
        let (id, secret) = (client.id.clone(), client.secret.clone());
        let body = zeroauth_e2e::form_encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
        ]);
        set.spawn(async move {
            let res = http
                .post(url)
                .basic_auth(id, secret)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("answer");
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let text = res.text().await.unwrap_or_default();
            zeroauth_e2e::Reply { status, headers, text }
        });
    }
    set.join_all().await
}

#[tokio::test]
async fn code_used_after_30_seconds_is_refused() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    s.advance(30);
    let reply = s.exchange(&client, &code, &[]).await;
    assert_eq!((reply.status, reply.field("error")), (400, "invalid_grant".into()));
}

#[tokio::test]
async fn code_used_at_29_seconds_is_accepted() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    s.advance(29);
    assert_eq!(s.exchange(&client, &code, &[]).await.status, 200);
}

#[tokio::test]
async fn unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let s = Server::dynamodb().await;
    let client = s.confidential_client().await;
    let reply = s
        .browser()
        .authorize(&[("client_id", &client.id), ("redirect_uri", "https://evil.example/cb")])
        .await;
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
    assert!(reply.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    let unknown =
        s.browser().authorize(&[("client_id", "nobody"), ("redirect_uri", "https://evil.example/cb")]).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.header("location").is_none());
}

#[tokio::test]
async fn redirect_uri_must_match_at_the_token_endpoint() {
    let s = Server::dynamodb().await;
    let client = s
        .client(|c| {
            c.redirect_uris = vec!["https://app.example/cb".into(), "https://app.example/other".into()]
        })
        .await;
    s.user("alice").await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let wrong = s
        .post_form(
            "/token",
            Some(&client),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://app.example/other"),
            ],
        )
        .await;
    assert_eq!(wrong.field("error"), "invalid_grant");
    let missing =
        s.post_form("/token", Some(&client), &[("grant_type", "authorization_code"), ("code", &code)]).await;
    assert_eq!(missing.field("error"), "invalid_grant", "it was named at /authorize, so it is required");
}

#[tokio::test]
async fn public_client_without_pkce_is_sent_back_with_invalid_request() {
    let s = Server::dynamodb().await;
    let client = s.public_client().await;
    let reply = s.browser().authorize(&[("client_id", &client.id), ("state", "st")]).await;
    assert_eq!(reply.status, 303);
    let p = reply.location_params();
    assert_eq!(p["error"], "invalid_request");
    assert_eq!(p["state"], "st");
    assert_eq!(p["iss"], s.base);
}

#[tokio::test]
async fn plain_pkce_is_refused() {
    let s = Server::dynamodb().await;
    let client = s.public_client().await;
    let (verifier, _) = pkce();
    for method in [Some("plain"), None] {
        let mut params = vec![("client_id", client.id.as_str()), ("code_challenge", verifier.as_str())];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        let reply = s.browser().authorize(&params).await;
        assert_eq!(reply.location_params()["error"], "invalid_request", "{method:?}");
    }
}

#[tokio::test]
async fn wrong_or_missing_pkce_verifier_is_refused() {
    let s = Server::dynamodb().await;
    let client = s.public_client().await;
    s.user("alice").await;
    let (verifier, challenge) = pkce();
    let (other, _) = pkce();
    let code = s
        .browser()
        .code_for(&client, "alice", &[("code_challenge", &challenge), ("code_challenge_method", "S256")])
        .await;
    assert_eq!(
        s.exchange(&client, &code, &[("code_verifier", &other)]).await.field("error"),
        "invalid_grant"
    );
    assert_eq!(s.exchange(&client, &code, &[]).await.field("error"), "invalid_grant");
    assert_eq!(
        s.exchange(&client, &code, &[("code_verifier", "short")]).await.field("error"),
        "invalid_grant"
    );
    assert_eq!(s.exchange(&client, &code, &[("code_verifier", &verifier)]).await.status, 200);
}

#[tokio::test]
async fn verifier_for_a_code_issued_without_a_challenge_is_refused() {
    let (s, client) = Server::with_alice().await;
    let (verifier, _) = pkce();
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let reply = s.exchange(&client, &code, &[("code_verifier", &verifier)]).await;
    assert_eq!(reply.field("error"), "invalid_grant");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let first = s.exchange(&client, &code, &[]).await;
    let rt1 = first.field("refresh_token");
    let second = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await;
    assert_eq!(second.status, 200, "{second:?}");
    let rt2 = second.field("refresh_token");
    assert_ne!(rt1, rt2);
    assert_eq!(s.userinfo(&second.field("access_token")).await.status, 200);

    let reuse = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await;
    assert_eq!(reuse.field("error"), "invalid_grant");
    let after = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt2)])
        .await;
    assert_eq!(after.field("error"), "invalid_grant", "the whole family is revoked");
    assert_eq!(s.userinfo(&first.field("access_token")).await.status, 401);
    assert_eq!(s.userinfo(&second.field("access_token")).await.status, 401);
}

#[tokio::test]
async fn refresh_can_narrow_but_not_widen_scope() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[("scope", "openid email")]).await;
    let rt = s.exchange(&client, &code, &[]).await.field("refresh_token");
    let wide = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "openid profile")],
        )
        .await;
    assert_eq!((wide.status, wide.field("error")), (400, "invalid_scope".into()));
    let narrow = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("scope", "openid")],
        )
        .await;
    assert_eq!(narrow.field("scope"), "openid");
}

#[tokio::test]
async fn refresh_token_belongs_to_its_client() {
    let s = Server::dynamodb().await;
    let owner = s.confidential_client().await;
    let other = s.confidential_client().await;
    s.user("alice").await;
    let code = s.browser().code_for(&owner, "alice", &[]).await;
    let rt = s.exchange(&owner, &code, &[]).await.field("refresh_token");
    let stolen =
        s.post_form("/token", Some(&other), &[("grant_type", "refresh_token"), ("refresh_token", &rt)]).await;
    assert_eq!(stolen.field("error"), "invalid_grant");
}

#[tokio::test]
async fn disabled_user_gets_nothing() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let tokens = s.exchange(&client, &code, &[]).await;
    zeroauth_shared::admin::set_disabled(s.store.as_ref(), "alice", true).await.unwrap();
    assert_eq!(s.userinfo(&tokens.field("access_token")).await.status, 401);
    let refresh = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &tokens.field("refresh_token"))],
        )
        .await;
    assert_eq!(refresh.field("error"), "invalid_grant");
}

#[tokio::test]
async fn userinfo_answers_good_revoked_garbage_and_missing_tokens_per_rfc6750() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let access = s.exchange(&client, &code, &[]).await.field("access_token");
    assert_eq!(s.userinfo(&access).await.status, 200);

    let post = s.http.post(s.url("/userinfo")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 200, "POST works too");

    let none = s.http.get(s.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let challenge = none.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Bearer") && !challenge.contains("error="), "{challenge}");

    let garbage = s.userinfo("za_at_garbage").await;
    assert_eq!(garbage.status, 401);
    assert!(garbage.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));

    let twice = s
        .http
        .get(s.url(&format!("/userinfo?access_token={access}")))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status().as_u16(), 400);

    let revoke = s.post_form("/revoke", Some(&client), &[("token", &access)]).await;
    assert_eq!(revoke.status, 200);
    let revoked = s.userinfo(&access).await;
    assert_eq!(revoked.status, 401);
    assert!(revoked.header("www-authenticate").unwrap().contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn access_token_expires_after_its_lifetime() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let access = s.exchange(&client, &code, &[]).await.field("access_token");
    s.advance(3599);
    assert_eq!(s.userinfo(&access).await.status, 200);
    s.advance(1);
    assert_eq!(s.userinfo(&access).await.status, 401);
}

#[tokio::test]
async fn sign_in_page_carries_the_security_headers() {
    let s = Server::dynamodb().await;
    let client = s.confidential_client().await;
    let page = s.browser().login_page(&[("client_id", &client.id)]).await;
    let r = &page.reply;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(r.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(r.header("referrer-policy").as_deref(), Some("no-referrer"));
    let csrf = r.header("set-cookie").unwrap();
    assert!(csrf.contains("HttpOnly") && csrf.contains("SameSite="), "{csrf}");
    assert!(r.text.contains("name=\"username\"") && r.text.contains("name=\"password\""));
    assert!(r.text.contains("value=\"approve\"") && r.text.contains("value=\"deny\""));
}

#[tokio::test]
async fn page_escapes_the_client_name() {
    let s = Server::dynamodb().await;
    let client = s.client(|c| c.name = "<script>alert(1)</script>".into()).await;
    let page = s.browser().login_page(&[("client_id", &client.id)]).await;
    assert!(!page.reply.text.contains("<script>alert(1)"));
    assert!(page.reply.text.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_allowed_again() {
    let (s, client) = Server::with_alice().await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &client.id)]).await;
    for _ in 0..10 {
        let r = b
            .submit(&[
                ("request", &page.request),
                ("username", "alice"),
                ("password", "guess"),
                ("decision", "approve"),
            ])
            .await;
        assert_eq!(r.status, 401);
    }
    let right = b
        .submit(&[
            ("request", &page.request),
            ("username", "alice"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(right.status, 429, "even the right password waits out the window");
    assert!(right.text.contains("Too many failed sign-ins"));
    s.advance(301);
    let page = b.login_page(&[("client_id", &client.id)]).await;
    assert_eq!(b.approve(&page, "alice").await.status, 303, "the lockout is short");
}

#[tokio::test]
async fn session_skips_the_password_and_trusted_clients_skip_consent() {
    let s = Server::dynamodb().await;
    let untrusted = s.confidential_client().await;
    let trusted = s.client(|c| c.trusted = true).await;
    s.user("alice").await;
    let mut b = s.browser();
    b.code_for(&untrusted, "alice", &[]).await;

    let again = b.login_page(&[("client_id", &untrusted.id)]).await;
    assert!(again.reply.text.contains("Signed in as"), "no password asked");
    assert!(!again.reply.text.contains("name=\"password\""));
    let reply = b.submit(&[("request", &again.request), ("decision", "approve")]).await;
    assert_eq!(reply.status, 303);
    assert!(reply.location_params().contains_key("code"));

    let direct = b.authorize(&[("client_id", &trusted.id), ("state", "t")]).await;
    assert_eq!(direct.status, 303, "a trusted client with a session gets its code at once");
    assert_eq!(direct.location_params()["state"], "t");

    let forced = b.login_page(&[("client_id", &trusted.id), ("prompt", "login")]).await;
    assert!(forced.reply.text.contains("name=\"password\""), "prompt=login asks again");
}

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let s = Server::dynamodb().await;
    let client = s.confidential_client().await;
    let reply = s.browser().authorize(&[("client_id", &client.id), ("prompt", "none")]).await;
    assert_eq!(reply.location_params()["error"], "login_required");
}

#[tokio::test]
async fn unsupported_response_type_and_scope_are_sent_back() {
    let s = Server::dynamodb().await;
    let client = s.confidential_client().await;
    let token = s.browser().authorize(&[("client_id", &client.id), ("response_type", "token")]).await;
    assert_eq!(token.location_params()["error"], "unsupported_response_type");
    let scope = s.browser().authorize(&[("client_id", &client.id), ("scope", "admin")]).await;
    assert_eq!(scope.location_params()["error"], "invalid_scope");
}

#[tokio::test]
async fn a_long_refresh_chain_stays_small_and_still_detects_recent_reuse() {
    let (s, client) = Server::with_alice().await;
    let code = s.browser().code_for(&client, "alice", &[]).await;
    let mut rt = s.exchange(&client, &code, &[]).await.field("refresh_token");
    let mut history = Vec::new();
    for _ in 0..120 {
        let next = s
            .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt)])
            .await;
        assert_eq!(next.status, 200, "{next:?}");
        history.push(std::mem::replace(&mut rt, next.field("refresh_token")));
    }
    let grant_id = &rt["za_rt_".len().."za_rt_".len() + 22];
    let grant = s.store.get_grant(grant_id, s.clock_now()).await.unwrap().unwrap();
    assert_eq!(grant.retired_digests.len(), zeroauth_shared::store::MAX_RETIRED, "the record stays bounded");

    let oldest = s
        .post_form(
            "/token",
            Some(&client),
            &[("grant_type", "refresh_token"), ("refresh_token", &history[0])],
        )
        .await;
    assert_eq!(oldest.field("error"), "invalid_grant", "a token from long ago is refused");
    let current = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt)])
        .await;
    assert_eq!(current.status, 200, "…without revoking the family: {current:?}");
    let rt = current.field("refresh_token");

    let recent = &history[history.len() - 5];
    let reuse = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", recent)])
        .await;
    assert_eq!(reuse.field("error"), "invalid_grant");
    let after = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &rt)])
        .await;
    assert_eq!(after.field("error"), "invalid_grant", "reusing a recent token revokes the family");
}
