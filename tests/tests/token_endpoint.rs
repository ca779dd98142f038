//! client_credentials, revocation, introspection and discovery over HTTP
//! against DynamoDB Local.

use serde_json::json;
use zeroauth_e2e::{Server, TestClient};

async fn machine_client(s: &Server) -> TestClient {
    s.client(|c| {
        c.grants = vec!["client_credentials".into()];
        c.redirect_uris = vec![];
        c.scope = Some("read:reports write:reports".into());
    })
    .await
}

#[tokio::test]
async fn client_credentials_issues_an_access_token_and_no_refresh_token() {
    let s = Server::dynamodb().await;
    let m = machine_client(&s).await;
    let r = s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read:reports write:reports");
    assert!(body.get("refresh_token").is_none());
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
}

#[tokio::test]
async fn client_credentials_scope_must_be_a_subset() {
    let s = Server::dynamodb().await;
    let m = machine_client(&s).await;
    let ok = s
        .post_form("/token", Some(&m), &[("grant_type", "client_credentials"), ("scope", "read:reports")])
        .await;
    assert_eq!(ok.field("scope"), "read:reports");
    let wide =
        s.post_form("/token", Some(&m), &[("grant_type", "client_credentials"), ("scope", "admin")]).await;
    assert_eq!((wide.status, wide.field("error")), (400, "invalid_scope".into()));
}

#[tokio::test]
async fn client_credentials_only_for_clients_registered_for_it() {
    let s = Server::dynamodb().await;
    let web = s.confidential_client().await;
    let r = s.post_form("/token", Some(&web), &[("grant_type", "client_credentials")]).await;
    assert_eq!((r.status, r.field("error")), (400, "unauthorized_client".into()));
    let public = s.public_client().await;
    let r =
        s.post_form("/token", None, &[("grant_type", "client_credentials"), ("client_id", &public.id)]).await;
    assert_eq!(r.field("error"), "unauthorized_client");
}

#[tokio::test]
async fn client_credentials_lifetime_is_configurable() {
    let s = Server::dynamodb_with(|c| c.access_token_ttl = 120).await;
    let m = machine_client(&s).await;
    let r = s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.json()["expires_in"], 120);
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_with_a_basic_challenge() {
    let s = Server::dynamodb().await;
    let mut m = machine_client(&s).await;
    m.secret = Some("wrong-secret-wrong-secret".into());
    let r = s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await;
    assert_eq!((r.status, r.field("error")), (401, "invalid_client".into()));
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
}

#[tokio::test]
async fn a_client_authenticates_one_way_only() {
    let s = Server::dynamodb().await;
    let m = machine_client(&s).await;
    let secret = m.secret.clone().unwrap();
    let r = s
        .post_form("/token", Some(&m), &[("grant_type", "client_credentials"), ("client_secret", &secret)])
        .await;
    assert_eq!((r.status, r.field("error")), (400, "invalid_request".into()));
}

#[tokio::test]
async fn introspection_describes_live_tokens_and_nothing_else() {
    let s = Server::dynamodb().await;
    let m = machine_client(&s).await;
    let at =
        s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await.field("access_token");
    let r = s.post_form("/introspect", Some(&m), &[("token", &at)]).await;
    assert_eq!(r.status, 200);
    let b = r.json();
    assert_eq!(b["active"], true);
    assert_eq!(b["client_id"], m.id.as_str());
    assert_eq!(b["scope"], "read:reports write:reports");
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["exp"].as_i64().unwrap() - b["iat"].as_i64().unwrap(), 3600);

    for dead in ["za_at_nope", "", "something else"] {
        let r = s.post_form("/introspect", Some(&m), &[("token", dead)]).await;
        if dead.is_empty() {
            assert_eq!(r.status, 400);
        } else {
            assert_eq!(r.json(), json!({ "active": false }));
        }
    }
    s.advance(3600);
    assert_eq!(
        s.post_form("/introspect", Some(&m), &[("token", &at)]).await.json(),
        json!({ "active": false })
    );
}

#[tokio::test]
async fn introspection_requires_client_authentication() {
    let s = Server::dynamodb().await;
    let r = s.post_form("/introspect", None, &[("token", "za_at_x")]).await;
    assert_eq!((r.status, r.field("error")), (401, "invalid_client".into()));
}

#[tokio::test]
async fn introspection_of_user_tokens_carries_sub_and_refresh_tokens_are_known() {
    let (s, c) = Server::with_alice().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let t = s.exchange(&c, &code, &[]).await;
    let at = s.post_form("/introspect", Some(&c), &[("token", &t.field("access_token"))]).await.json();
    assert_eq!(at["active"], true);
    assert!(at["sub"].as_str().unwrap().starts_with("za_user_"));
    assert_eq!(at["username"], "alice");
    let rt = s.post_form("/introspect", Some(&c), &[("token", &t.field("refresh_token"))]).await.json();
    assert_eq!(rt["active"], true);
    assert_eq!(rt["token_type"], "refresh_token");
}

#[tokio::test]
async fn revoking_an_access_token_kills_it() {
    let s = Server::dynamodb().await;
    let m = machine_client(&s).await;
    let at =
        s.post_form("/token", Some(&m), &[("grant_type", "client_credentials")]).await.field("access_token");
    let r = s.post_form("/revoke", Some(&m), &[("token", &at), ("token_type_hint", "access_token")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        s.post_form("/introspect", Some(&m), &[("token", &at)]).await.json(),
        json!({ "active": false })
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_family_whatever_the_hint() {
    let (s, c) = Server::with_alice().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let t = s.exchange(&c, &code, &[]).await;
    let r = s
        .post_form(
            "/revoke",
            Some(&c),
            &[("token", &t.field("refresh_token")), ("token_type_hint", "access_token")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(s.userinfo(&t.field("access_token")).await.status, 401);
    let refresh = s
        .post_form(
            "/token",
            Some(&c),
            &[("grant_type", "refresh_token"), ("refresh_token", &t.field("refresh_token"))],
        )
        .await;
    assert_eq!(refresh.field("error"), "invalid_grant");
}

#[tokio::test]
async fn revoking_unknown_or_foreign_tokens_answers_200_and_changes_nothing() {
    let s = Server::dynamodb().await;
    let owner = machine_client(&s).await;
    let other = machine_client(&s).await;
    let at = s
        .post_form("/token", Some(&owner), &[("grant_type", "client_credentials")])
        .await
        .field("access_token");
    assert_eq!(s.post_form("/revoke", Some(&other), &[("token", &at)]).await.status, 200);
    assert_eq!(s.post_form("/introspect", Some(&owner), &[("token", &at)]).await.json()["active"], true);
    assert_eq!(s.post_form("/revoke", Some(&owner), &[("token", "za_at_unknown")]).await.status, 200);
}

#[tokio::test]
async fn revocation_requires_client_authentication() {
    let s = Server::dynamodb().await;
    let r = s.post_form("/revoke", None, &[("token", "za_at_x")]).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn discovery_documents_describe_this_server() {
    let s = Server::dynamodb().await;
    let a = s.http.get(s.url("/.well-known/oauth-authorization-server")).send().await.unwrap();
    assert_eq!(a.status().as_u16(), 200);
    let a: serde_json::Value = a.json().await.unwrap();
    let b: serde_json::Value =
        s.http.get(s.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a["issuer"], s.base.as_str());
    for (k, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
    ] {
        assert_eq!(a[k], s.url(path), "{k}");
    }
    assert_eq!(a["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(a["response_types_supported"], json!(["code"]));
    assert_eq!(
        a["grant_types_supported"],
        json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert!(
        a["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("client_secret_basic"))
    );
}
