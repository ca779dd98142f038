//! Clients nobody registers by hand (issue 12): loopback ports, native-app
//! schemes, resource indicators (RFC 8707), dynamic registration (RFC 7591),
//! client metadata documents, CORS and lenient Basic credentials, over HTTP
//! against DynamoDB Local.

use std::time::Duration;

use serde_json::{Value, json};
use zeroauth_e2e::https::{Answer, DocServer};
use zeroauth_e2e::{Reply, Server, TestClient, pkce};
use zeroauth_shared::admin::{self, NewResource};
use zeroauth_shared::config::RegistrationPolicy;

const MCP: &str = "https://mcp.example.com/mcp";

/// A discovery document, as JSON.
async fn metadata(s: &Server, path: &str) -> Value {
    let res = s.http.get(s.url(path)).send().await.expect("the server answers");
    res.json().await.expect("a JSON document")
}

async fn resource(s: &Server, uri: &str, scope: &str, clients: Vec<String>) {
    let new = NewResource { uri: uri.into(), scope: Some(scope.into()), clients };
    admin::create_resource(s.store.as_ref(), new, s.clock_now()).await.expect("register a resource");
}

/// The code flow for a public client with PKCE; returns the token response.
async fn public_flow(s: &Server, client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> Reply {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let mut b = s.browser();
    let page = b.login_page(&params).await;
    let reply = b.approve(&page, "alice").await;
    assert_eq!(reply.status, 303, "{reply:?}");
    let location = reply.header("location").unwrap_or_default();
    assert!(location.starts_with(redirect_uri), "the code goes to the URI asked for: {location}");
    let code = reply.location_params().remove("code").expect("a code");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("code_verifier", verifier.as_str()),
    ];
    form.extend(extra.iter().filter(|(k, _)| *k == "resource").copied());
    s.post_form("/token", None, &form).await
}

#[tokio::test]
async fn a_loopback_redirect_uri_matches_on_any_port_and_nothing_else_loosens() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = s
        .client(|n| {
            n.public = true;
            n.redirect_uris = vec!["http://127.0.0.1/callback".into(), "com.example.app:/oauth".into()];
        })
        .await;
    let tokens = public_flow(&s, &c.id, "http://127.0.0.1:53121/callback", &[]).await;
    assert_eq!(tokens.status, 200, "an ephemeral port is accepted: {tokens:?}");
    let native = public_flow(&s, &c.id, "com.example.app:/oauth", &[]).await;
    assert_eq!(native.status, 200, "a native app's private-use scheme works: {native:?}");
    for (why, uri) in [
        ("another path", "http://127.0.0.1:53121/other"),
        ("another loopback name", "http://localhost:53121/callback"),
        ("https instead of http", "https://127.0.0.1:53121/callback"),
        ("userinfo in front of another host", "http://127.0.0.1@evil.example/callback"),
    ] {
        let mut b = s.browser();
        let r = b.authorize(&[("client_id", &c.id), ("redirect_uri", uri), ("code_challenge", "x")]).await;
        assert_eq!(r.status, 400, "should refuse {why}: {r:?}");
        assert!(r.header("location").is_none(), "never a redirect for {why}");
    }
}

#[tokio::test]
async fn cors_answers_preflights_on_the_back_channel_only() {
    let s = Server::dynamodb().await;
    for path in [
        "/token",
        "/revoke",
        "/introspect",
        "/userinfo",
        "/register",
        "/jwks",
        "/.well-known/oauth-authorization-server",
    ] {
        let r = s
            .http
            .request(reqwest::Method::OPTIONS, s.url(path))
            .header("origin", "https://app.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type, mcp-protocol-version")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status(), 204, "{path}");
        let h = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(h("access-control-allow-origin"), "*", "{path}");
        assert!(h("access-control-allow-headers").contains("authorization"), "{path}");
        assert!(h("access-control-allow-methods").contains("OPTIONS"), "{path}");
        assert!(
            r.headers().get("access-control-allow-credentials").is_none(),
            "{path}: never with credentials"
        );
    }
    for path in ["/authorize", "/callback", "/logout"] {
        let r = s.http.request(reqwest::Method::OPTIONS, s.url(path)).send().await.expect("answer");
        assert_eq!(r.status(), 405, "{path}");
        assert!(r.headers().get("access-control-allow-origin").is_none(), "{path}: no CORS");
    }
    let error = s.post_form("/token", None, &[("grant_type", "client_credentials")]).await;
    assert_eq!(error.status, 401);
    assert_eq!(error.header("access-control-allow-origin").as_deref(), Some("*"));
    assert!(error.header("access-control-expose-headers").unwrap_or_default().contains("WWW-Authenticate"));
    let page = s.browser().authorize(&[("client_id", "nope")]).await;
    assert!(page.header("access-control-allow-origin").is_none(), "the sign-in pages stay same-origin");
}

#[tokio::test]
async fn a_secret_sent_in_basic_without_form_encoding_still_authenticates() {
    let s = Server::dynamodb().await;
    let secret = "s3cret+with%percent/and+plus";
    let c = s
        .client(|n| {
            n.grants = vec!["client_credentials".into()];
            n.client_secret = Some(secret.into());
        })
        .await;
    let raw = TestClient { secret: Some(secret.into()), ..c.clone() };
    let r = s.post_form("/token", Some(&raw), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "as sent (authlib, the MCP SDK): {r:?}");
    let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let proper = TestClient { secret: Some(encoded), ..c.clone() };
    let r = s.post_form("/token", Some(&proper), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 200, "form-encoded as RFC 6749 2.3.1 says: {r:?}");
    let wrong = TestClient { secret: Some("s3cret with%percent/and plus".into()), ..c };
    let r = s.post_form("/token", Some(&wrong), &[("grant_type", "client_credentials")]).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_resource_binds_the_grant_and_becomes_the_tokens_audience() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let rs = s.client(|n| n.grants = vec!["client_credentials".into()]).await;
    resource(&s, MCP, "mcp:tools mcp:read", vec![rs.id.clone()]).await;
    resource(&s, "https://other.example/api", "api:write", vec![]).await;
    let c = s
        .client(|n| {
            n.public = true;
            n.redirect_uris = vec!["http://127.0.0.1/cb".into()];
            n.scope = Some("openid mcp:tools api:write".into());
        })
        .await;
    let tokens =
        public_flow(&s, &c.id, "http://127.0.0.1/cb", &[("resource", MCP), ("scope", "mcp:tools")]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let at = tokens.field("access_token");
    let seen = s.post_form("/introspect", Some(&rs), &[("token", &at)]).await.json();
    assert_eq!(seen["active"], true, "the resource's own client sees its tokens: {seen}");
    assert_eq!(seen["aud"], MCP);
    assert_eq!(seen["client_id"], c.id.as_str());
    let ui = s.userinfo(&at).await;
    assert_eq!(ui.status, 401, "a token for the MCP server is not for /userinfo");

    // A refresh may repeat or leave out the resource, never change it.
    let rt = tokens.field("refresh_token");
    let bad = s
        .post_form(
            "/token",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_id", &c.id),
                ("resource", "https://other.example/api"),
            ],
        )
        .await;
    assert_eq!((bad.status, bad.field("error").as_str()), (400, "invalid_target"), "{bad:?}");
    let ok = s
        .post_form(
            "/token",
            None,
            &[("grant_type", "refresh_token"), ("refresh_token", &rt), ("client_id", &c.id)],
        )
        .await;
    assert_eq!(ok.status, 200, "the grant's resource is inherited and the token was not spent: {ok:?}");
    let seen = s.post_form("/introspect", Some(&rs), &[("token", &ok.field("access_token"))]).await.json();
    assert_eq!(seen["aud"], MCP);

    // A scope the resource does not accept, an unknown or malformed resource.
    let mut b = s.browser();
    let (_, challenge) = pkce();
    let base = [
        ("client_id", c.id.as_str()),
        ("redirect_uri", "http://127.0.0.1/cb"),
        ("code_challenge", challenge.as_str()),
    ];
    for (why, extra, error) in [
        (
            "a scope the resource does not accept",
            vec![("resource", MCP), ("scope", "api:write")],
            "invalid_scope",
        ),
        ("an unknown resource", vec![("resource", "https://unknown.example/")], "invalid_target"),
        ("a fragment", vec![("resource", "https://mcp.example.com/mcp#x")], "invalid_target"),
        ("a relative resource", vec![("resource", "/mcp")], "invalid_target"),
    ] {
        let mut params = base.to_vec();
        params.extend(extra);
        let r = b.authorize(&params).await;
        assert_eq!(r.status, 303, "{why}: {r:?}");
        assert_eq!(r.location_params().get("error").map(String::as_str), Some(error), "{why}");
    }
    let twice = b
        .open(&format!(
            "{}?{}&resource={MCP}&resource={MCP}",
            s.url("/authorize"),
            zeroauth_e2e::form_encode(&base)
        ))
        .await;
    assert_eq!(twice.location_params().get("error").map(String::as_str), Some("invalid_request"), "repeated");
}

#[tokio::test]
async fn a_code_for_one_resource_is_not_spent_by_asking_for_another() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    resource(&s, MCP, "mcp:tools", vec![]).await;
    let c = s.client(|n| n.scope = Some("openid mcp:tools".into())).await;
    let mut b = s.browser();
    let code = b.code_for(&c, "alice", &[("resource", MCP)]).await;
    let wrong = s.exchange(&c, &code, &[("resource", "https://elsewhere.example/")]).await;
    assert_eq!((wrong.status, wrong.field("error").as_str()), (400, "invalid_target"), "{wrong:?}");
    let right = s.exchange(&c, &code, &[("resource", MCP)]).await;
    assert_eq!(right.status, 200, "the code survived the refused request: {right:?}");
    let unbound = b.code_for(&c, "alice", &[]).await;
    let widened = s.exchange(&c, &unbound, &[("resource", MCP)]).await;
    assert_eq!(widened.field("error"), "invalid_target", "a resource not asked for at /authorize");
}

#[tokio::test]
async fn client_credentials_and_jwt_access_tokens_carry_the_resource_as_aud() {
    let s = Server::dynamodb().await;
    resource(&s, MCP, "mcp:tools", vec![]).await;
    let c = s
        .client(|n| {
            n.grants = vec!["client_credentials".into()];
            n.scope = Some("mcp:tools".into());
            n.access_token_format = Some("jwt".into());
        })
        .await;
    let r = s.post_form("/token", Some(&c), &[("grant_type", "client_credentials"), ("resource", MCP)]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let jwt = r.field("access_token");
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64"),
    )
    .expect("claims");
    assert_eq!(claims["aud"], MCP);
    let unknown = s
        .post_form(
            "/token",
            Some(&c),
            &[("grant_type", "client_credentials"), ("resource", "https://x.example/")],
        )
        .await;
    assert_eq!((unknown.status, unknown.field("error").as_str()), (400, "invalid_target"));
    let other = s
        .client(|n| {
            n.grants = vec!["client_credentials".into()];
            n.scope = Some("read:user".into());
        })
        .await;
    let refused =
        s.post_form("/token", Some(&other), &[("grant_type", "client_credentials"), ("resource", MCP)]).await;
    assert_eq!(refused.field("error"), "invalid_target", "a client allowed none of the resource's scopes");
}

fn registration(redirect: &str) -> Value {
    json!({
        "client_name": "MCP Inspector",
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid mcp:tools unknown:scope",
    })
}

#[tokio::test]
async fn a_client_registers_itself_and_signs_a_person_in() {
    let s = Server::dynamodb_with(|c| c.registration.policy = RegistrationPolicy::Open).await;
    s.user("alice").await;
    resource(&s, MCP, "mcp:tools", vec![]).await;
    let meta = metadata(&s, "/.well-known/oauth-authorization-server").await;
    assert_eq!(meta["registration_endpoint"], s.url("/register"));
    assert_eq!(meta["client_id_metadata_document_supported"], true);
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));

    let r = s.post_json("/register", registration("http://127.0.0.1/callback")).await;
    assert_eq!(r.status, 201, "{r:?}");
    let body = r.json();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert!(body.get("client_secret").is_none(), "a public client gets no secret");
    assert_eq!(body["scope"], "openid mcp:tools", "unknown scopes are dropped: {body}");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let client_id = body["client_id"].as_str().expect("client_id").to_owned();

    let page = s
        .browser()
        .authorize(&[
            ("client_id", &client_id),
            ("redirect_uri", "http://127.0.0.1:4000/callback"),
            ("code_challenge", "c".repeat(43).as_str()),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert!(page.text.contains("is not verified by this server"), "a registered client is never trusted");
    assert!(page.text.contains("127.0.0.1:4000"), "the page names where the person will be sent");
    let tokens = public_flow(
        &s,
        &client_id,
        "http://127.0.0.1:4000/callback",
        &[("resource", MCP), ("scope", "mcp:tools")],
    )
    .await;
    assert_eq!(tokens.status, 200, "{tokens:?}");

    let conf = s
        .post_json("/register", json!({"redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "client_secret_post", "client_name": "Backend"}))
        .await;
    assert_eq!(conf.status, 201, "{conf:?}");
    assert_eq!(conf.json()["client_secret_expires_at"], 0);
    let secret = conf.field("client_secret");
    let id = conf.field("client_id");
    let mut b = s.browser();
    let tc =
        TestClient { id: id.clone(), secret: Some(secret), redirect_uri: "https://app.example/cb".into() };
    let code = b.code_for(&tc, "alice", &[]).await;
    let ok = s.exchange(&tc, &code, &[]).await;
    assert_eq!(ok.status, 200, "{ok:?}");
}

#[tokio::test]
async fn bad_registrations_are_refused_with_the_rfc_7591_errors_and_store_nothing() {
    let s = Server::dynamodb_with(|c| c.registration.policy = RegistrationPolicy::Open).await;
    let before = s.store.list_clients().await.expect("list").len();
    let cases: Vec<(&str, Reply, &str)> = vec![
        ("malformed JSON", send_raw(&s, "application/json", "{\"redirect_uris\": [").await, "invalid_client_metadata"),
        ("not JSON at all", send_raw(&s, "application/x-www-form-urlencoded", "redirect_uris=x").await, "invalid_request"),
        ("a javascript: URI", s.post_json("/register", registration("javascript:alert(1)")).await, "invalid_redirect_uri"),
        ("a data: URI", s.post_json("/register", registration("data:text/html,hi")).await, "invalid_redirect_uri"),
        ("a file: URI", s.post_json("/register", registration("file:///etc/passwd")).await, "invalid_redirect_uri"),
        ("http off loopback", s.post_json("/register", registration("http://app.example/cb")).await, "invalid_redirect_uri"),
        ("no redirect URI", s.post_json("/register", json!({"token_endpoint_auth_method": "none"})).await, "invalid_redirect_uri"),
        ("a fragment", s.post_json("/register", registration("https://app.example/cb#x")).await, "invalid_redirect_uri"),
        ("an unknown auth method", s.post_json("/register", json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"})).await, "invalid_client_metadata"),
        ("the implicit flow", s.post_json("/register", json!({"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]})).await, "invalid_client_metadata"),
        ("client_credentials for a public client", s.post_json("/register", json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]})).await, "invalid_client_metadata"),
        ("a member of the wrong type", s.post_json("/register", json!({"redirect_uris": "https://a.example/cb"})).await, "invalid_client_metadata"),
    ];
    for (why, reply, error) in cases {
        assert_eq!(reply.status, 400, "{why}: {reply:?}");
        assert_eq!(reply.field("error"), error, "{why}");
    }
    assert_eq!(s.store.list_clients().await.expect("list").len(), before, "nothing was stored");
}

async fn send_raw(s: &Server, content_type: &str, body: &str) -> Reply {
    let res = s
        .http
        .post(s.url("/register"))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await;
    let res = res.expect("answer");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    Reply { status, headers, text }
}

#[tokio::test]
async fn registration_follows_its_policy_limits_each_address_and_expires_unused_clients() {
    let off = Server::dynamodb().await;
    let r = off.post_json("/register", registration("http://127.0.0.1/cb")).await;
    assert_eq!(r.status, 404, "off by default on a deployment: {r:?}");
    let meta = metadata(&off, "/.well-known/openid-configuration").await;
    assert!(meta.get("registration_endpoint").is_none(), "and not advertised");

    let token = "initial-access-token-0123456789";
    let gated = Server::dynamodb_with(|c| {
        c.registration.policy =
            RegistrationPolicy::InitialAccessToken { digest: zeroauth_shared::crypto::digest(token) };
    })
    .await;
    let anon = gated.post_json("/register", registration("http://127.0.0.1/cb")).await;
    assert_eq!(anon.status, 401);
    assert!(anon.header("www-authenticate").unwrap_or_default().starts_with("Bearer"));
    let res = gated
        .http
        .post(gated.url("/register"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(registration("http://127.0.0.1/cb").to_string())
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), 201);

    let open = Server::dynamodb_with(|c| {
        c.registration.policy = RegistrationPolicy::Open;
        c.registration.per_ip_per_hour = 3;
        c.registration.client_ttl = 7 * 86_400;
    })
    .await;
    open.user("alice").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = open.post_json("/register", registration("http://127.0.0.1/cb")).await;
        assert_eq!(r.status, 201);
        ids.push(r.field("client_id"));
    }
    let limited = open.post_json("/register", registration("http://127.0.0.1/cb")).await;
    assert_eq!(limited.status, 429, "{limited:?}");
    assert!(limited.header("retry-after").is_some());
    open.advance(3601);
    assert_eq!(
        open.post_json("/register", registration("http://127.0.0.1/cb")).await.status,
        201,
        "a new hour"
    );

    // Used on day 6 it lives on; the unused one is gone after 7 days.
    open.advance(6 * 86_400);
    let used = public_flow(&open, &ids[0], "http://127.0.0.1/cb", &[]).await;
    assert_eq!(used.status, 200);
    open.advance(2 * 86_400);
    let page = open.browser().authorize(&[("client_id", &ids[1]), ("code_challenge", "x")]).await;
    assert_eq!(page.status, 400, "an unused registered client expired: {page:?}");
    let again = public_flow(&open, &ids[0], "http://127.0.0.1/cb", &[]).await;
    assert_eq!(again.status, 200, "using it renewed it");
}

fn document(url: &str, redirect: &str) -> String {
    json!({
        "client_id": url,
        "client_name": "Example MCP Host",
        "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

async fn document_server() -> (DocServer, Server) {
    let docs = DocServer::start().await;
    let pem = docs.ca_pem.clone().into_bytes();
    let s = Server::dynamodb_with(move |c| {
        c.client_metadata.test_hosts = vec!["localhost".into()];
        c.client_metadata.extra_root_pem = Some(pem);
    })
    .await;
    s.user("alice").await;
    (docs, s)
}

#[tokio::test]
async fn a_client_metadata_document_is_fetched_validated_cached_and_never_trusted() {
    let (docs, s) = document_server().await;
    let url = format!("{}/oauth/client.json", docs.base);
    docs.serve(
        "/oauth/client.json",
        Answer::Json(document(&url, "http://127.0.0.1/callback"), Some("max-age=60")),
    );
    let page = s
        .browser()
        .authorize(&[
            ("client_id", &url),
            ("redirect_uri", "http://127.0.0.1:6274/callback"),
            ("code_challenge", &"c".repeat(43)),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Example MCP Host"));
    assert!(page.text.contains("is not verified by this server"));
    let tokens = public_flow(&s, &url, "http://127.0.0.1:6274/callback", &[]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    assert_eq!(docs.hits("/oauth/client.json"), 1, "cached after the first fetch");
    s.advance(299);
    public_flow(&s, &url, "http://127.0.0.1:6274/callback", &[]).await;
    assert_eq!(docs.hits("/oauth/client.json"), 1, "max-age=60 is raised to five minutes");
    s.advance(2);
    public_flow(&s, &url, "http://127.0.0.1:6274/callback", &[]).await;
    assert_eq!(docs.hits("/oauth/client.json"), 2, "fetched again once the cache ran out");
}

/// The sign-in page is good for ten minutes, a cached document for five: a
/// copy that ran out while the person was signing in is fetched again by the
/// callback (the callback function's reads and writes), and the sign-in goes on.
#[tokio::test]
async fn a_document_that_leaves_the_cache_during_sign_in_is_fetched_again_by_the_callback() {
    let (docs, s) = document_server().await;
    let url = format!("{}/oauth/client.json", docs.base);
    docs.serve("/oauth/client.json", Answer::Json(document(&url, "http://127.0.0.1/callback"), None));
    let (_, challenge) = pkce();
    let mut b = s.browser();
    let page = b
        .login_page(&[
            ("client_id", &url),
            ("redirect_uri", "http://127.0.0.1:6274/callback"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    s.advance(301);
    let reply = b.approve(&page, "alice").await;
    assert_eq!(reply.status, 303, "{reply:?}");
    assert!(reply.location_params().contains_key("code"), "{reply:?}");
    assert_eq!(docs.hits("/oauth/client.json"), 2, "fetched again once the cached copy ran out");
}

#[tokio::test]
async fn bad_client_metadata_documents_get_an_error_page_and_are_not_cached() {
    let (docs, s) = document_server().await;
    let big = format!("{{\"client_id\":\"x\",\"pad\":\"{}\"}}", "a".repeat(6000));
    let cases: Vec<(&str, String, Option<Answer>, &str)> = vec![
        (
            "another client_id",
            "/other.json".into(),
            Some(Answer::Json(document("https://elsewhere.example/c", "http://127.0.0.1/cb"), None)),
            "not the URL",
        ),
        ("a document over 5 KB", "/big.json".into(), Some(Answer::Json(big, None)), "larger than"),
        (
            "a redirect",
            "/moved.json".into(),
            Some(Answer::Redirect("https://localhost/elsewhere".into())),
            "redirects are not followed",
        ),
        (
            "a slow server",
            "/slow.json".into(),
            Some(Answer::Slow(Duration::from_secs(5), "{}".into())),
            "too long",
        ),
        ("not JSON", "/text.json".into(), Some(Answer::Json("hello".into(), None)), "not a valid document"),
        ("a javascript: redirect URI", "/js.json".into(), None, "redirect URI"),
        ("a confidential client", "/secret.json".into(), None, "must be none"),
        ("a query in the URL", "/c.json?x=1".into(), None, "query"),
        ("a missing document", "/missing.json".into(), None, "404"),
    ];
    let js = format!("{}/js.json", docs.base);
    docs.serve("/js.json", Answer::Json(document(&js, "javascript:alert(1)"), None));
    let secret = format!("{}/secret.json", docs.base);
    let mut doc: Value = serde_json::from_str(&document(&secret, "http://127.0.0.1/cb")).expect("json");
    doc["token_endpoint_auth_method"] = json!("client_secret_basic");
    docs.serve("/secret.json", Answer::Json(doc.to_string(), None));
    for (why, path, answer, says) in cases {
        if let Some(a) = answer {
            docs.serve(&path, a);
        }
        let url = format!("{}{path}", docs.base);
        for attempt in 0..2 {
            let page = s.browser().authorize(&[("client_id", &url), ("code_challenge", "x")]).await;
            assert_eq!(page.status, 400, "{why}: {page:?}");
            assert!(page.header("location").is_none(), "{why}: never a redirect");
            assert!(page.text.contains(says), "{why}: the page says why ({says}): {}", page.text);
            if attempt == 1 && !path.contains('?') {
                assert_eq!(docs.hits(&path), 2, "{why}: a failure is not cached");
            }
        }
        assert!(s.store.get_client(&url).await.expect("read").is_none(), "{why}: nothing stored");
    }
    let private = Server::dynamodb_with(|c| c.client_metadata.test_hosts = vec![]).await;
    let page = private
        .browser()
        .authorize(&[("client_id", &format!("{}/oauth/client.json", docs.base)), ("code_challenge", "x")])
        .await;
    assert!(page.text.contains("non-public address"), "the SSRF guard refuses loopback: {}", page.text);
    let metadata_ip = private
        .browser()
        .authorize(&[("client_id", "https://169.254.169.254/latest/meta-data"), ("code_challenge", "x")])
        .await;
    assert!(metadata_ip.text.contains("not a public address"), "{}", metadata_ip.text);
    let off = Server::dynamodb_with(|c| c.client_metadata.enabled = false).await;
    let page = off.browser().authorize(&[("client_id", "https://app.example/client.json")]).await;
    assert_eq!(page.status, 400);
    let meta = metadata(&off, "/.well-known/oauth-authorization-server").await;
    assert_eq!(meta["client_id_metadata_document_supported"], false);
}

async fn refresh(s: &Server, c: &TestClient, rt: &str) -> Reply {
    s.post_form("/token", Some(c), &[("grant_type", "refresh_token"), ("refresh_token", rt)]).await
}

#[tokio::test]
async fn within_the_refresh_grace_window_a_lost_response_can_be_fetched_again() {
    let s = Server::dynamodb_with(|c| c.refresh_grace = 60).await;
    s.user("alice").await;
    let c = s.client(|n| n.scope = Some("openid profile".into())).await;
    let code = s.browser().code_for(&c, "alice", &[("scope", "openid profile")]).await;
    let first = s.exchange(&c, &code, &[]).await;
    let rt0 = first.field("refresh_token");
    let a = refresh(&s, &c, &rt0).await;
    assert_eq!(a.status, 200, "{a:?}");
    s.advance(30);
    let again = refresh(&s, &c, &rt0).await;
    assert_eq!(again.status, 200, "the response was lost; asked again within the window: {again:?}");
    assert_eq!(again.field("access_token"), a.field("access_token"), "the same pair, not another");
    assert_eq!(again.field("refresh_token"), a.field("refresh_token"));
    assert!(again.json()["id_token"].is_string());
    assert_eq!(s.userinfo(&a.field("access_token")).await.status, 200);

    // Once the new refresh token is used, the old one is plain reuse.
    let b = refresh(&s, &c, &a.field("refresh_token")).await;
    assert_eq!(b.status, 200);
    let reused = refresh(&s, &c, &rt0).await;
    assert_eq!((reused.status, reused.field("error").as_str()), (400, "invalid_grant"));
    assert_eq!(refresh(&s, &c, &b.field("refresh_token")).await.status, 400, "and the family is revoked");

    // Outside the window, reuse revokes as always.
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let rt = s.exchange(&c, &code, &[]).await.field("refresh_token");
    let next = refresh(&s, &c, &rt).await;
    s.advance(61);
    assert_eq!(refresh(&s, &c, &rt).await.field("error"), "invalid_grant");
    assert_eq!(refresh(&s, &c, &next.field("refresh_token")).await.status, 400, "revoked");
}

#[tokio::test]
async fn without_refresh_grace_a_rotated_token_presented_again_revokes_the_family() {
    let s = Server::dynamodb().await;
    s.user("alice").await;
    let c = s.confidential_client().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let rt = s.exchange(&c, &code, &[]).await.field("refresh_token");
    let next = refresh(&s, &c, &rt).await;
    assert_eq!(refresh(&s, &c, &rt).await.field("error"), "invalid_grant", "at once, with the default");
    assert_eq!(refresh(&s, &c, &next.field("refresh_token")).await.status, 400);
}

#[tokio::test]
async fn two_concurrent_refreshes_within_the_grace_window_get_one_pair() {
    let s = Server::dynamodb_with(|c| c.refresh_grace = 60).await;
    s.user("alice").await;
    let c = s.confidential_client().await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let rt = s.exchange(&c, &code, &[]).await.field("refresh_token");
    let (x, y) = tokio::join!(refresh(&s, &c, &rt), refresh(&s, &c, &rt));
    assert_eq!((x.status, y.status), (200, 200), "{x:?} {y:?}");
    assert_eq!(x.field("refresh_token"), y.field("refresh_token"), "never two live refresh tokens");
    assert_eq!(refresh(&s, &c, &x.field("refresh_token")).await.status, 200);
}
