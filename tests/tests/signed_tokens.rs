//! OpenID Connect ID tokens, JWT access tokens (RFC 9068), the published key
//! set and RP-initiated logout, over HTTP against DynamoDB Local. Tokens are
//! verified with the keys fetched from `/jwks`, as an API would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroauth_e2e::{Browser, Reply, Server, TestClient};
use zeroauth_shared::keys::Keys;

const ISSUED: &str = "ID tokens are signed by this server";

async fn published(s: &Server) -> Keys {
    let res = s.http.get(s.url("/jwks")).send().await.expect("an answer");
    assert_eq!(res.status().as_u16(), 200);
    let cache = res.headers()["cache-control"].to_str().unwrap_or_default().to_owned();
    assert!(cache.starts_with("public, max-age="), "{cache}");
    Keys::from_jwks(&res.text().await.expect("a body")).expect("a JWKS")
}

fn id_claims(keys: &Keys, s: &Server, token: &str) -> Value {
    keys.verify::<Value>(token, "JWT", &s.base, Some(s.clock_now())).expect(ISSUED)
}

fn header(token: &str) -> Value {
    let head = token.split('.').next().unwrap_or_default();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).unwrap_or_default()).unwrap_or_default()
}

async fn oidc_client(s: &Server, alg: Option<&str>) -> TestClient {
    s.client(|c| {
        c.scope = Some("openid profile email read:user".into());
        c.id_token_signed_response_alg = alg.map(str::to_owned);
    })
    .await
}

async fn sign_in(s: &Server, c: &TestClient, extra: &[(&str, &str)]) -> Reply {
    let code = s.browser().code_for(c, "alice", extra).await;
    let r = s.exchange(c, &code, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    r
}

#[tokio::test]
async fn a_code_flow_with_openid_returns_an_id_token_the_published_keys_verify() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = oidc_client(&s, None).await;
    let before = s.clock_now();
    let r = sign_in(&s, &c, &[("scope", "openid profile email"), ("nonce", "n-0S6_WzA2Mj")]).await;
    let id_token = r.field("id_token");
    assert_eq!(header(&id_token)["alg"], "RS256", "RS256 unless the client asks otherwise");
    let claims = id_claims(&published(&s).await, &s, &id_token);
    let userinfo = s.userinfo(&r.field("access_token")).await.json();
    assert_eq!(claims["sub"], userinfo["sub"]);
    assert_eq!((claims["aud"].as_str(), claims["azp"].as_str()), (Some(c.id.as_str()), Some(c.id.as_str())));
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["preferred_username"], "alice");
    assert!(claims["email"].is_string(), "{claims}");
    let auth_time = claims["auth_time"].as_i64().unwrap_or_default();
    assert!(auth_time >= before && auth_time <= s.clock_now(), "{claims}");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]), "how the person signed in (RFC 8176)");
    let digest = Sha256::digest(r.field("access_token").as_bytes());
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));

    // A refresh returns a new ID token: same sub and auth_time, no nonce.
    s.advance(120);
    let refreshed = s
        .post_form(
            "/token",
            Some(&c),
            &[("grant_type", "refresh_token"), ("refresh_token", &r.field("refresh_token"))],
        )
        .await;
    let again = id_claims(&published(&s).await, &s, &refreshed.field("id_token"));
    assert_eq!((&again["sub"], &again["auth_time"]), (&claims["sub"], &claims["auth_time"]));
    assert_eq!(again["amr"], claims["amr"], "the grant keeps how the person signed in");
    assert!(again["nonce"].is_null() && again["iat"].as_i64() > claims["iat"].as_i64(), "{again}");

    // Without openid in the scope there is no ID token.
    let plain = sign_in(&s, &c, &[("scope", "read:user")]).await;
    assert!(plain.json()["id_token"].is_null());
}

#[tokio::test]
async fn each_client_picks_its_id_token_algorithm() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    for alg in ["ES256", "EdDSA"] {
        let c = oidc_client(&s, Some(alg)).await;
        let r = sign_in(&s, &c, &[("scope", "openid")]).await;
        let token = r.field("id_token");
        assert_eq!(header(&token)["alg"], alg);
        id_claims(&published(&s).await, &s, &token);
    }
}

async fn open(b: &mut Browser<'_>, url: &str) -> Reply {
    b.open(url).await
}

#[tokio::test]
async fn max_age_login_hint_and_id_token_hint_work_as_openid_connect_defines_them() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    s.user("bob").await;
    let c = s
        .client(|c| {
            c.trusted = true;
            c.scope = Some("openid profile".into());
        })
        .await;
    let mut b = s.browser();
    let first = b.code_for(&c, "alice", &[("scope", "openid")]).await;
    let id_token = s.exchange(&c, &first, &[]).await.field("id_token");
    let url = |extra: Vec<(&'static str, String)>| {
        let mut params = vec![("client_id", c.id.clone()), ("redirect_uri", c.redirect_uri.clone())];
        params.extend(extra);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        format!("{}?{}", s.url("/authorize"), zeroauth_e2e::form_encode(&pairs))
    };
    let none = |v: &str| vec![("prompt", "none".to_owned()), ("max_age", v.to_owned())];
    s.advance(30);
    assert!(
        open(&mut b, &url(none("60"))).await.location_params().contains_key("code"),
        "signed in 30 s ago"
    );
    let old = open(&mut b, &url(none("10"))).await.location_params();
    assert_eq!(old.get("error").map(String::as_str), Some("login_required"), "{old:?}");

    let hinted =
        open(&mut b, &url(vec![("prompt", "none".into()), ("id_token_hint", id_token.clone())])).await;
    assert!(hinted.location_params().contains_key("code"), "the hint names who is signed in");
    let bob_code = s.browser().code_for(&c, "bob", &[("scope", "openid")]).await;
    let bob_token = s.exchange(&c, &bob_code, &[]).await.field("id_token");
    let other = open(&mut b, &url(vec![("prompt", "none".into()), ("id_token_hint", bob_token)]))
        .await
        .location_params();
    assert_eq!(other.get("error").map(String::as_str), Some("login_required"), "someone else is signed in");
    let forged = format!("{}x", id_token);
    let bad = open(&mut b, &url(vec![("id_token_hint", forged)])).await.location_params();
    assert_eq!(bad.get("error").map(String::as_str), Some("invalid_request"), "{bad:?}");

    let page = open(&mut s.browser(), &url(vec![("login_hint", "bob".into())])).await;
    assert!(page.text.contains(r#"value="bob""#), "the username is filled in");
    for (name, value) in
        [("nonce", "n".repeat(300)), ("max_age", "-1".into()), ("login_hint", "x\u{1}y".into())]
    {
        let r = open(&mut s.browser(), &url(vec![(name, value)])).await.location_params();
        assert_eq!(r.get("error").map(String::as_str), Some("invalid_request"), "{name}: {r:?}");
    }
    let r = open(&mut s.browser(), &url(vec![("prompt", "bogus".into())])).await.location_params();
    assert_eq!(r.get("error").map(String::as_str), Some("invalid_request"));
}

async fn jwt_client(s: &Server) -> TestClient {
    s.client(|c| {
        c.grants = vec!["authorization_code".into(), "refresh_token".into(), "client_credentials".into()];
        c.scope = Some("openid profile read:reports".into());
        c.access_token_format = Some("jwt".into());
        c.access_token_signed_response_alg = Some("ES256".into());
    })
    .await
}

#[tokio::test]
async fn jwt_access_tokens_follow_rfc_9068_and_are_refused_when_altered_or_expired() {
    let s = Server::dynamodb().await;
    let c = jwt_client(&s).await;
    let r = s
        .post_form("/token", Some(&c), &[("grant_type", "client_credentials"), ("scope", "read:reports")])
        .await;
    assert_eq!((r.status, r.json()["expires_in"].as_i64()), (200, Some(600)), "{r:?}");
    let token = r.field("access_token");
    assert_eq!(
        (header(&token)["typ"].as_str(), header(&token)["alg"].as_str()),
        (Some("at+jwt"), Some("ES256"))
    );
    let claims: Value =
        published(&s).await.verify(&token, "at+jwt", &s.base, Some(s.clock_now())).expect("verifies");
    for name in ["iss", "sub", "aud", "client_id", "scope", "iat", "exp", "jti"] {
        assert!(!claims[name].is_null(), "{name} in {claims}");
    }
    assert_eq!(
        (claims["sub"].as_str(), claims["scope"].as_str()),
        (Some(c.id.as_str()), Some("read:reports"))
    );
    let seen = s.post_form("/introspect", Some(&c), &[("token", &token)]).await.json();
    assert_eq!((seen["active"].as_bool(), seen["client_id"].as_str()), (Some(true), Some(c.id.as_str())));

    let (head, rest) = token.split_once('.').unwrap_or_default();
    let (_, sig) = rest.split_once('.').unwrap_or_default();
    let mut forged = claims.clone();
    forged["scope"] = json!("read:reports admin");
    let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap_or_default());
    let none_head = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
    let unknown_kid = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES256","typ":"at+jwt","kid":"nope"}"#);
    let bodies = [
        format!("{head}.{forged_body}.{sig}"),
        format!("{none_head}.{}.", rest.split('.').next().unwrap_or_default()),
        format!("{unknown_kid}.{rest}"),
    ];
    for bad in &bodies {
        let seen = s.post_form("/introspect", Some(&c), &[("token", bad)]).await;
        assert_eq!(seen.json(), json!({ "active": false }), "{bad}");
    }
    s.advance(601);
    assert_eq!(
        s.post_form("/introspect", Some(&c), &[("token", &token)]).await.json(),
        json!({ "active": false })
    );
}

#[tokio::test]
async fn a_persons_jwt_access_token_reads_userinfo_until_its_family_is_revoked() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = jwt_client(&s).await;
    let r = sign_in(&s, &c, &[("scope", "openid profile")]).await;
    let token = r.field("access_token");
    let claims: Value =
        published(&s).await.verify(&token, "at+jwt", &s.base, Some(s.clock_now())).expect("verifies");
    let info = s.userinfo(&token).await;
    assert_eq!((info.status, &info.json()["sub"]), (200, &claims["sub"]), "{info:?}");
    let id = id_claims(&published(&s).await, &s, &r.field("id_token"));
    assert_eq!(id["sub"], claims["sub"]);
    // Revoking the JWT revokes its family: the refresh token dies with it.
    let revoked = s.post_form("/revoke", Some(&c), &[("token", &token)]).await;
    assert_eq!(revoked.status, 200);
    assert_eq!(s.userinfo(&token).await.status, 401);
    let refresh = s
        .post_form(
            "/token",
            Some(&c),
            &[("grant_type", "refresh_token"), ("refresh_token", &r.field("refresh_token"))],
        )
        .await;
    assert_eq!(refresh.field("error"), "invalid_grant");
    // A client's own JWT has no family and cannot be recalled: it says so.
    let own =
        s.post_form("/token", Some(&c), &[("grant_type", "client_credentials")]).await.field("access_token");
    let refused = s.post_form("/revoke", Some(&c), &[("token", &own)]).await;
    assert_eq!((refused.status, refused.field("error")), (400, "unsupported_token_type".into()));
}

#[tokio::test]
async fn discovery_advertises_the_key_set_and_what_works() {
    let s = Server::dynamodb().await;
    let meta = s.http.get(s.url("/.well-known/openid-configuration")).send().await.expect("metadata");
    let meta: Value = meta.json().await.expect("JSON");
    assert_eq!(meta["jwks_uri"], json!(s.url("/jwks")));
    assert_eq!(meta["id_token_signing_alg_values_supported"], json!(["RS256", "ES256", "EdDSA"]));
    assert_eq!(meta["end_session_endpoint"], json!(s.url("/logout")));
    assert_eq!(meta["subject_types_supported"], json!(["public"]));
    let keys: Value = s.http.get(s.url("/jwks")).send().await.expect("keys").json().await.expect("JSON");
    let keys = keys["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 6, "an active and a next key per algorithm");
    assert!(
        keys.iter().all(|k| k["kid"].is_string() && k["use"] == "sig" && k.get("d").is_none()),
        "{keys:?}"
    );
}

#[tokio::test]
async fn logout_returns_only_to_a_registered_post_logout_redirect_uri() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = s
        .client(|c| {
            c.trusted = true;
            c.post_logout_redirect_uris = vec!["https://app.example/bye".into()];
        })
        .await;
    let mut b = s.browser();
    let code = b.code_for(&c, "alice", &[("scope", "openid")]).await;
    let id_token = s.exchange(&c, &code, &[]).await.field("id_token");
    let query = |uri: &str| {
        zeroauth_e2e::form_encode(&[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", uri),
            ("state", "st"),
        ])
    };
    let unregistered = b.open(&format!("{}?{}", s.url("/logout"), query("https://evil.example/"))).await;
    assert_eq!(unregistered.status, 400, "{unregistered:?}");
    let page = b.open(&format!("{}?{}", s.url("/logout"), query("https://app.example/bye"))).await;
    let request = zeroauth_e2e::hidden_request(&page.text).expect("a sign-out form");
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let res = s
        .http
        .post(s.url("/logout"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .body(zeroauth_e2e::form_encode(&[("request", &request)]))
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "https://app.example/bye?state=st");
}

#[tokio::test]
async fn userinfo_refuses_altered_unsigned_foreign_and_expired_jwts_with_invalid_token() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = jwt_client(&s).await;
    let token = sign_in(&s, &c, &[("scope", "openid profile")]).await.field("access_token");
    assert_eq!(s.userinfo(&token).await.status, 200);
    let mut parts = token.split('.');
    let (head, body, sig) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap_or_default()).unwrap_or_default();
    claims["scope"] = json!("openid profile email admin");
    let tampered = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let enc = |v: Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(&v).unwrap_or_default());
    let kid = header(&token)["kid"].clone();
    let cases = [
        ("tampered payload", format!("{head}.{tampered}.{sig}")),
        ("alg none", format!("{}.{body}.", enc(json!({"alg": "none", "typ": "at+jwt"})))),
        (
            "another key's kid (a dropped key)",
            format!("{}.{body}.{sig}", enc(json!({"alg": "ES256", "typ": "at+jwt", "kid": "dropped"}))),
        ),
        (
            "wrong alg for the key",
            format!("{}.{body}.{sig}", enc(json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}))),
        ),
        ("an ID token as an access token", {
            let r = sign_in(&s, &c, &[("scope", "openid")]).await;
            r.field("id_token")
        }),
    ];
    for (name, bad) in &cases {
        let r = s.userinfo(bad).await;
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert_eq!(r.status, 401, "{name}: {r:?}");
        assert!(challenge.contains("invalid_token"), "{name}: {challenge}");
    }
    s.advance(601);
    assert_eq!(s.userinfo(&token).await.status, 401, "expired");
}
