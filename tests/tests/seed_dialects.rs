//! The five providers' documented request shapes (SPEC.md section 5),
//! replayed against ZeroAuth with only the base URL and credentials changed.

use serde_json::json;
use zeroauth_e2e::Server;

/// Ianum: `client_credentials` with a JSON body; tokens expire in an hour.
#[tokio::test]
async fn ianum_json_client_credentials() {
    let s = Server::dynamodb().await;
    let gate = s
        .client(|c| {
            c.grants = vec!["client_credentials".into()];
            c.redirect_uris = vec![];
        })
        .await;
    let res = s
        .http
        .post(s.url("/token"))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body(
            json!({ "client_id": gate.id, "client_secret": gate.secret, "grant_type": "client_credentials" })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["expires_in"], 3600);
    assert!(body["access_token"].as_str().unwrap().starts_with("za_at_"));
}

/// ItsYou.online: form `client_credentials`, and a code exchange as a form
/// post with `state` and no `grant_type`, to a URL ending in `?`.
#[tokio::test]
async fn itsyou_online_form_posts() {
    let s = Server::dynamodb().await;
    let org = s
        .client(|c| {
            c.grants = vec!["authorization_code".into(), "client_credentials".into()];
        })
        .await;
    let secret = org.secret.clone().unwrap();
    let cc = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &org.id), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(cc.status, 200, "{cc:?}");

    s.user("alice").await;
    let code = s.browser().code_for(&org, "alice", &[("state", "STATE")]).await;
    let body = zeroauth_e2e::form_encode(&[
        ("client_id", &org.id),
        ("client_secret", &secret),
        ("code", &code),
        ("redirect_uri", &org.redirect_uri),
        ("state", "STATE"),
    ]);
    let res = s
        .http
        .post(format!("{}?", s.url("/token")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["state"], "STATE");
    assert!(body["access_token"].is_string());
}

/// Iternio: authorize without `response_type`; token request without
/// `grant_type` (nor `state`); `state` comes back with the token.
#[tokio::test]
async fn iternio_defaults_and_state_with_the_token() {
    let s = Server::dynamodb().await;
    let app = s.client(|c| c.client_id = Some("12345".into())).await;
    s.user("driver").await;
    let mut b = s.browser();
    let page = b
        .login_page(&[("client_id", "12345"), ("redirect_uri", &app.redirect_uri), ("state", "trip 42")])
        .await;
    let reply = b.approve(&page, "driver").await;
    let p = reply.location_params();
    assert_eq!(p["state"], "trip 42");
    let res = s
        .http
        .post(s.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(zeroauth_e2e::form_encode(&[
            ("client_id", "12345"),
            ("client_secret", app.secret.as_deref().unwrap()),
            ("code", &p["code"]),
            ("redirect_uri", &app.redirect_uri),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["state"], "trip 42");
}

/// Iternio documents `client_id` as an int: a JSON number is accepted.
#[tokio::test]
async fn iternio_numeric_client_id_in_json() {
    let s = Server::dynamodb().await;
    let app = s.client(|c| c.client_id = Some("12345".into())).await;
    s.user("driver").await;
    let code = s.browser().code_for(&app, "driver", &[]).await;
    let r = s
        .post_json(
            "/token",
            json!({ "client_id": 12345, "client_secret": app.secret, "code": code, "redirect_uri": app.redirect_uri }),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
}

/// inTandem: trusted apps skip consent; JSON code exchange within 30 s;
/// `created_at` in the response; `GET /userinfo` with Bearer.
#[tokio::test]
async fn intandem_json_exchange_created_at_and_userinfo() {
    let s = Server::dynamodb().await;
    let app = s.client(|c| c.trusted = true).await;
    s.user("business").await;
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &app.id), ("state", "$STATE")]).await;
    assert!(!page.reply.text.contains("would like to"), "a trusted app skips the consent part");
    let reply = b.approve(&page, "business").await;
    let code = reply.location_params()["code"].clone();
    s.advance(20);
    let r = s
        .post_json(
            "/token",
            json!({
                "grant_type": "authorization_code",
                "code": code,
                "client_id": app.id,
                "client_secret": app.secret,
                "redirect_uri": app.redirect_uri,
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert_eq!(body["created_at"].as_i64(), Some(s.clock_now()));
    let res = s
        .http
        .get(s.url("/userinfo"))
        .header("Accept", "application/json")
        .header("Authorization", format!("Bearer {}", body["access_token"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

/// inTandem: the code is valid for only 30 seconds.
#[tokio::test]
async fn intandem_code_is_dead_after_30_seconds() {
    let s = Server::dynamodb().await;
    let app = s.client(|c| c.trusted = true).await;
    s.user("business").await;
    let code = s.browser().code_for(&app, "business", &[]).await;
    s.advance(31);
    let r = s
        .post_json(
            "/token",
            json!({ "grant_type": "authorization_code", "code": code, "client_id": app.id,
                    "client_secret": app.secret, "redirect_uri": app.redirect_uri }),
        )
        .await;
    assert_eq!(r.field("error"), "invalid_grant");
}

/// iiniit: `read:user read:projects` scopes, a form-encoded token request
/// with the secret in the body, refresh tokens, and its error codes.
#[tokio::test]
async fn iiniit_scopes_refresh_and_error_codes() {
    let s = Server::dynamodb().await;
    let app = s.client(|c| c.scope = Some("read:user read:projects".into())).await;
    s.user("dev").await;
    let mut b = s.browser();
    let page = b
        .login_page(&[
            ("response_type", "code"),
            ("client_id", &app.id),
            ("redirect_uri", &app.redirect_uri),
            ("scope", "read:user read:projects"),
            ("state", "RANDOM_STATE_VALUE"),
        ])
        .await;
    assert!(page.reply.text.contains("Read your user") && page.reply.text.contains("Read your projects"));
    let reply = b.approve(&page, "dev").await;
    let p = reply.location_params();
    assert_eq!(p["state"], "RANDOM_STATE_VALUE");
    let secret = app.secret.clone().unwrap();
    let r = s
        .post_form(
            "/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &p["code"]),
                ("redirect_uri", &app.redirect_uri),
                ("client_id", &app.id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.field("scope"), "read:user read:projects");
    assert_eq!(r.json()["expires_in"], 3600);
    let rt = r.field("refresh_token");
    let refreshed = s
        .post_form(
            "/token",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", &app.id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(refreshed.status, 200);

    let missing = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "authorization_code"), ("client_id", &app.id), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(missing.field("error"), "invalid_request");
    let unauthorized = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &app.id), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(unauthorized.field("error"), "unauthorized_client");
    let scope = s.browser().authorize(&[("client_id", &app.id), ("scope", "write:everything")]).await;
    assert_eq!(scope.location_params()["error"], "invalid_scope");
    let mut b = s.browser();
    let page = b.login_page(&[("client_id", &app.id)]).await;
    let denied = b.submit(&[("request", &page.request), ("decision", "deny")]).await;
    assert_eq!(denied.location_params()["error"], "access_denied");
}

/// The published key set, as an API caches it.
async fn published_keys(s: &Server) -> zeroauth_shared::keys::Keys {
    let jwks = s.http.get(s.url("/jwks")).send().await.unwrap().text().await.unwrap();
    zeroauth_shared::keys::Keys::from_jwks(&jwks).unwrap()
}

/// iiniit's "JWT tokens": its code flow and refresh, form-encoded with the
/// secret in the body, give JWT access tokens its API verifies offline.
#[tokio::test]
async fn iiniit_jwt_access_tokens_verify_offline() {
    let s = Server::dynamodb().await;
    let app = s
        .client(|c| {
            c.scope = Some("read:user read:projects".into());
            c.access_token_format = Some("jwt".into());
        })
        .await;
    s.user("dev").await;
    let code = s.browser().code_for(&app, "dev", &[("scope", "read:user read:projects")]).await;
    let secret = app.secret.clone().unwrap();
    let creds = [("client_id", app.id.as_str()), ("client_secret", secret.as_str())];
    let mut form =
        vec![("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", &app.redirect_uri)];
    form.extend_from_slice(&creds);
    let r = s.post_form("/token", None, &form).await;
    assert_eq!((r.status, r.json()["expires_in"].as_i64()), (200, Some(600)), "{r:?}");
    let keys = published_keys(&s).await;
    let claims: serde_json::Value = keys
        .verify(&r.field("access_token"), "at+jwt", &s.base, Some(s.clock_now()))
        .expect("verifies offline");
    assert_eq!(
        (claims["scope"].as_str(), claims["client_id"].as_str()),
        (Some("read:user read:projects"), Some(app.id.as_str()))
    );
    let rt = r.field("refresh_token");
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", rt.as_str())];
    form.extend_from_slice(&creds);
    let refreshed = s.post_form("/token", None, &form).await;
    let again: serde_json::Value = keys
        .verify(&refreshed.field("access_token"), "at+jwt", &s.base, Some(s.clock_now()))
        .expect("verifies");
    assert_eq!(again["sub"], claims["sub"]);
}

/// ItsYou.online's "JWT for API calls": client_credentials as a form post
/// with the secret in the body gives a JWT its API verifies offline.
#[tokio::test]
async fn itsyou_online_jwt_for_api_calls() {
    let s = Server::dynamodb().await;
    let org = s
        .client(|c| {
            c.grants = vec!["client_credentials".into()];
            c.redirect_uris = vec![];
            c.access_token_format = Some("jwt".into());
            c.access_token_signed_response_alg = Some("EdDSA".into());
        })
        .await;
    let secret = org.secret.clone().unwrap();
    let cc = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &org.id), ("client_secret", &secret)],
        )
        .await;
    assert_eq!(cc.status, 200, "{cc:?}");
    let claims: serde_json::Value = published_keys(&s)
        .await
        .verify(&cc.field("access_token"), "at+jwt", &s.base, Some(s.clock_now()))
        .expect("verifies offline");
    assert_eq!(claims["sub"].as_str(), Some(org.id.as_str()));
}
