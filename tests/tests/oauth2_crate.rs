//! The flows driven by the Rust `oauth2` crate (ramosbugs/oauth2-rs), a
//! client library nobody here wrote: the code flow with PKCE (confidential
//! and public clients), refresh rotation, `client_credentials`, introspection
//! (and the library reading the effect of a revocation), against DynamoDB Local.

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, HttpRequest,
    HttpResponse, IntrospectionUrl, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope,
    TokenIntrospectionResponse, TokenResponse, TokenUrl,
};
use zeroauth_e2e::{Server, TestClient, hidden_request};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointSet, EndpointNotSet, EndpointSet>;

/// The library's HTTP transport: the request it built, sent as it is.
async fn send(req: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let res = http.execute(reqwest::Request::try_from(req)?).await?;
    let mut out = oauth2::http::Response::builder().status(res.status());
    for (k, v) in res.headers() {
        out = out.header(k, v);
    }
    let body = res.bytes().await?.to_vec();
    Ok(out.body(body).unwrap_or_else(|e| panic!("a response the library can read: {e}")))
}

fn library_client(server: &Server, c: &TestClient) -> Client {
    let url = |p: &str| server.url(p);
    let mut client = BasicClient::new(ClientId::new(c.id.clone()))
        .set_auth_uri(AuthUrl::new(url("/authorize")).expect("authorize URL"))
        .set_token_uri(TokenUrl::new(url("/token")).expect("token URL"))
        .set_introspection_url(IntrospectionUrl::new(url("/introspect")).expect("introspection URL"));
    if !c.redirect_uri.is_empty() {
        client = client.set_redirect_uri(RedirectUrl::new(c.redirect_uri.clone()).expect("redirect URI"));
    }
    match &c.secret {
        Some(s) => client = client.set_client_secret(ClientSecret::new(s.clone())),
        None => client = client.set_auth_type(oauth2::AuthType::RequestBody),
    }
    client
}

/// Opens the library's authorization URL in a browser, signs in as alice,
/// and returns the code after checking the state the library made.
async fn sign_in(server: &Server, client: &Client, scopes: &[&str]) -> (String, oauth2::PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for s in scopes {
        req = req.add_scope(Scope::new((*s).to_owned()));
    }
    let (url, csrf) = req.url();
    let mut browser = server.browser();
    let page = browser.open(url.as_str()).await;
    let request = hidden_request(&page.text).unwrap_or_else(|| panic!("no sign-in form: {page:?}"));
    let reply = browser
        .submit(&[
            ("request", &request),
            ("username", "alice"),
            ("password", zeroauth_e2e::PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    assert_eq!(reply.status, 303, "{reply:?}");
    let mut params = reply.location_params();
    assert_eq!(params.get("state").map(String::as_str), Some(csrf.secret().as_str()), "state comes back");
    (params.remove("code").expect("a code"), verifier)
}

fn scopes_of(t: &impl TokenResponse) -> Vec<String> {
    t.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_default()
}

#[tokio::test]
async fn code_flow_with_pkce_and_refresh_rotation_work_through_the_oauth2_crate() {
    let (server, registered) = Server::with_alice().await;
    let client = library_client(&server, &registered);
    let (code, verifier) = sign_in(&server, &client, &["openid", "profile"]).await;

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap_or_else(|e| panic!("the library accepts the token response: {e:?}"));
    assert_eq!(*tokens.token_type(), BasicTokenType::Bearer);
    assert_eq!(scopes_of(&tokens), ["openid", "profile"]);
    assert_eq!(tokens.expires_in().map(|d| d.as_secs()), Some(3600));
    let me = server.userinfo(tokens.access_token().secret()).await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["preferred_username"], "alice");

    let first_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let rotated = client
        .exchange_refresh_token(&first_refresh)
        .add_scope(Scope::new("openid".into()))
        .request_async(&send)
        .await
        .unwrap_or_else(|e| panic!("refresh works: {e:?}"));
    assert_eq!(scopes_of(&rotated), ["openid"], "a refresh may narrow the scope");
    assert_ne!(rotated.refresh_token().map(|t| t.secret()), Some(first_refresh.secret()));

    let reuse = client.exchange_refresh_token(&first_refresh).request_async(&send).await;
    match reuse {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
        }
        other => panic!("a rotated-away refresh token should be refused with invalid_grant: {other:?}"),
    }
    let replay = client.exchange_code(AuthorizationCode::new(code)).request_async(&send).await;
    assert!(matches!(replay, Err(RequestTokenError::ServerResponse(_))), "a code works once: {replay:?}");
}

#[tokio::test]
async fn public_client_code_flow_works_through_the_oauth2_crate() {
    let server = Server::dynamodb().await;
    let registered = server.public_client().await;
    server.user("alice").await;
    let client = library_client(&server, &registered);
    let (code, verifier) = sign_in(&server, &client, &["openid", "email"]).await;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&send)
        .await
        .unwrap_or_else(|e| panic!("a public client with PKCE gets tokens: {e:?}"));
    let me = server.userinfo(tokens.access_token().secret()).await;
    assert_eq!(me.json()["email"], "alice@example.com");
}

#[tokio::test]
async fn wrong_pkce_verifier_is_refused_through_the_oauth2_crate() {
    let (server, registered) = Server::with_alice().await;
    let client = library_client(&server, &registered);
    let (code, _) = sign_in(&server, &client, &["openid"]).await;
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    let res = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(other_verifier)
        .request_async(&send)
        .await;
    match res {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidGrant)
        }
        other => panic!("a wrong verifier should be invalid_grant: {other:?}"),
    }
}

#[tokio::test]
async fn client_credentials_introspection_and_revocation_work_through_the_oauth2_crate() {
    let server = Server::dynamodb().await;
    let registered = server
        .client(|c| {
            c.grants = vec!["client_credentials".into()];
            c.redirect_uris.clear();
            c.scope = Some("read:projects write:projects".into());
        })
        .await;
    let client = library_client(&server, &registered);
    let tokens = client
        .exchange_client_credentials()
        .add_scope(Scope::new("read:projects".into()))
        .request_async(&send)
        .await
        .unwrap_or_else(|e| panic!("client_credentials works: {e:?}"));
    assert_eq!(scopes_of(&tokens), ["read:projects"]);
    assert!(tokens.refresh_token().is_none(), "no refresh token for client_credentials");

    let seen = client
        .introspect(tokens.access_token())
        .request_async(&send)
        .await
        .unwrap_or_else(|e| panic!("introspection works: {e:?}"));
    assert!(seen.active());
    assert_eq!(seen.client_id().map(|c| c.as_str()), Some(registered.id.as_str()));

    // The library sends revocation only over https (RFC 7009 2); the test
    // server is plain http, so this one request is made by hand.
    let revoked =
        server.post_form("/revoke", Some(&registered), &[("token", tokens.access_token().secret())]).await;
    assert_eq!(revoked.status, 200, "{revoked:?}");
    let after = client.introspect(tokens.access_token()).request_async(&send).await.expect("introspection");
    assert!(!after.active(), "a revoked token is inactive");

    let wider =
        client.exchange_client_credentials().add_scope(Scope::new("admin".into())).request_async(&send).await;
    match wider {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), BasicErrorResponseType::InvalidScope)
        }
        other => panic!("an unregistered scope should be invalid_scope: {other:?}"),
    }
}
