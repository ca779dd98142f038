//! Helpers of the federation tests: a server with one upstream provider in
//! front of the stub ([`crate::upstream`]), and a browser's round trip
//! through it.

use zeroauth_shared::admin::{self, NewProvider};
use zeroauth_shared::domain::User;
use zeroauth_shared::sign_in::self_service::SignUp;

use crate::upstream::{self, Upstream};
use crate::{Browser, Reply, Server, TestClient, form_action, hidden_request};

/// A server that lets people sign up, with one provider `id` of `kind` in
/// front of the stub.
pub async fn setup(kind: &str, change: impl FnOnce(&mut NewProvider)) -> (Server, Upstream, TestClient) {
    setup_with(kind, SignUp::Open, change).await
}

/// [`setup`] with mail through the test SMTP server.
pub async fn setup_with_mail(kind: &str) -> (Server, Upstream, TestClient) {
    start(kind, SignUp::Open, true, |_| {}).await
}

/// [`setup`] under another sign-up policy.
pub async fn setup_with(
    kind: &str,
    policy: SignUp,
    change: impl FnOnce(&mut NewProvider),
) -> (Server, Upstream, TestClient) {
    start(kind, policy, false, change).await
}

async fn start(
    kind: &str,
    policy: SignUp,
    mail: bool,
    change: impl FnOnce(&mut NewProvider),
) -> (Server, Upstream, TestClient) {
    let up = upstream::start().await;
    let s = Server::federated(&up.ca_pem, &[("up", upstream::CLIENT_SECRET)], mail, |c| {
        c.self_service.sign_up = policy;
        c.self_service.response_floor_ms = 0;
    })
    .await;
    up.allow_redirect(&s.url("/federation/callback"));
    let mut p = NewProvider {
        id: "up".into(),
        kind: kind.into(),
        name: Some("Upstream".into()),
        client_id: upstream::CLIENT_ID.into(),
        ..Default::default()
    };
    match kind {
        "oidc" => p.issuer = Some(up.base.clone()),
        "entra" => p.issuer = Some(up.entra_issuer()),
        "github" => {
            p.authorization_endpoint = Some(up.url("/github/login/oauth/authorize"));
            p.token_endpoint = Some(up.url("/github/login/oauth/access_token"));
            p.userinfo_endpoint = Some(up.url("/github/api/user"));
        }
        _ => {}
    }
    change(&mut p);
    admin::create_provider(s.store.as_ref(), &p, s.clock_now()).await.expect("the provider");
    let client = s.confidential_client().await;
    (s, up, client)
}

pub fn authorize_params(client: &TestClient) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid email profile"),
        ("state", "client-state"),
        ("nonce", "client-nonce"),
    ]
}

/// The sign-in page, then "Continue with Upstream": the URL the browser is
/// sent to at the provider.
pub async fn to_provider(b: &mut Browser<'_>, client: &TestClient) -> String {
    let page = b.login_page(&authorize_params(client)).await;
    assert!(page.reply.text.contains("Continue with Upstream"), "{}", page.reply.text);
    let r = b.submit(&[("request", &page.request), ("provider", "up")]).await;
    assert_eq!(r.status, 303, "{r:?}");
    r.header("location").expect("to the provider")
}

/// The provider's answer to its authorization URL: where it sends the
/// browser back (the person is signed in there already).
pub async fn at_provider(up: &Upstream, url: &str) -> String {
    let r = up.client().get(url).send().await.expect("the provider answers");
    assert_eq!(r.status(), 302, "{:?}", r.text().await);
    r.headers().get("location").and_then(|l| l.to_str().ok()).expect("back to ZeroAuth").to_owned()
}

/// The whole round trip to ZeroAuth's page after the provider.
pub async fn sign_in(b: &mut Browser<'_>, up: &Upstream, client: &TestClient) -> Reply {
    let out = to_provider(b, client).await;
    let back = at_provider(up, &out).await;
    b.server().catch_up();
    b.open(&back).await
}

/// "Allow" on the consent page: the code the client gets.
pub async fn allow(b: &mut Browser<'_>, page: &Reply) -> String {
    let request = hidden_request(&page.text).unwrap_or_else(|| panic!("no form: {page:?}"));
    let action = form_action(&page.text, "http://localhost/").expect("the page's form posts somewhere");
    let r = b.post(&action, &[("request", &request), ("decision", "approve")]).await;
    assert_eq!(r.status, 303, "{r:?}");
    let params = r.location_params();
    assert_eq!(params.get("state").map(String::as_str), Some("client-state"));
    params.get("code").cloned().unwrap_or_else(|| panic!("no code: {r:?}"))
}

/// The claims of the ID token a code is exchanged for.
pub async fn id_claims(s: &Server, client: &TestClient, code: &str) -> serde_json::Value {
    let r = s.exchange(client, code, &[]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let token = r.json()["id_token"].as_str().expect("an ID token").to_owned();
    let payload = token.split('.').nth(1).expect("a JWT");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

pub async fn people(s: &Server) -> Vec<User> {
    s.store.list_people().await.expect("people")
}

/// The value of the hidden field `name` of a page's form.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html.get(start..).and_then(|h| h.split('"').next()).expect("a value").replace("&amp;", "&")
}
