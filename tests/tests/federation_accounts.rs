//! Who an upstream identity signs in as, end to end on DynamoDB Local
//! against the upstream stub: GitHub's numeric id and verified address,
//! Entra's tenants and `xms_edov`, linking an existing account only after
//! its password or a code mailed to its address (through the test SMTP
//! server), unverified addresses and squatters, invitations, and the
//! upstream token kept for a protected resource's own client.

use zeroauth_e2e::federated::{
    allow, at_provider, authorize_params, hidden, id_claims, people, setup, setup_with, setup_with_mail,
    sign_in,
};
use zeroauth_e2e::mailbox;
use zeroauth_e2e::upstream::{self, Tamper, UpstreamUser};
use zeroauth_e2e::{PASSWORD, Reply, Server, TestClient};
use zeroauth_shared::admin::NewResource;
use zeroauth_shared::admin::{self, NewUser};
use zeroauth_shared::domain::{Identifier, User};
use zeroauth_shared::federation::kept::UPSTREAM_TOKEN_TYPE;

#[tokio::test]
async fn github_people_are_their_numeric_id_with_a_primary_verified_address() {
    let (s, up, client) = setup("github", |_| {}).await;
    let mut erin = UpstreamUser::new("erin", "erin@users.example");
    erin.github_emails =
        vec![("erin-old@users.example".into(), false, true), ("erin@users.example".into(), true, true)];
    up.sign_in_as(erin.clone());
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(up.last_client_auth(), Some("client_secret_post"), "GitHub takes the secret in the body");
    let id =
        Identifier::Upstream { issuer: "https://github.com".into(), subject: erin.github_id.to_string() };
    let sub = s.store.find_identifier(&id).await.expect("read").expect("keyed by the numeric id");
    let person = s.store.get_person(&sub, None).await.expect("read").expect("the person");
    assert_eq!(person.email.as_deref(), Some("erin@users.example"));
    // A GitHub user whose addresses are all unverified gets an account
    // without one, and finds nobody by it.
    let mut frank = UpstreamUser::new("frank", "frank@users.example");
    frank.github_emails = vec![("erin@users.example".into(), true, false)];
    up.sign_in_as(frank);
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(!page.text.contains("Connect your"), "an unverified address finds nobody");
    let all = people(&s).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|p| p.email.is_none() && p.sub != sub));
}

#[tokio::test]
async fn an_existing_account_is_linked_only_after_its_password() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let now = s.clock_now();
    let new = NewUser {
        username: "grace".into(),
        email: Some("grace@example.com".into()),
        name: None,
        password: PASSWORD.into(),
    };
    let grace = admin::create_user(s.store.as_ref(), new, now).await.expect("grace");
    up.sign_in_as(UpstreamUser::new("upstream-grace", "Grace@Example.com"));
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.text.contains("Connect your Upstream account"), "{}", page.text);
    let (request, offer) = (hidden(&page.text, "request"), hidden(&page.text, "offer"));
    let wrong = b
        .submit(&[("request", &request), ("offer", &offer), ("password", "not it"), ("decision", "approve")])
        .await;
    assert_eq!(wrong.status, 401, "{wrong:?}");
    assert!(wrong.text.contains("Connect your Upstream account"));
    let id = Identifier::Upstream { issuer: up.base.clone(), subject: "upstream-grace".into() };
    assert_eq!(s.store.find_identifier(&id).await.expect("read"), None, "not linked yet");
    let (request, offer) = (hidden(&wrong.text, "request"), hidden(&wrong.text, "offer"));
    let page = b
        .submit(&[("request", &request), ("offer", &offer), ("password", PASSWORD), ("decision", "approve")])
        .await;
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(s.store.find_identifier(&id).await.expect("read").as_deref(), Some(grace.sub.as_str()));
    let code = allow(&mut b, &page).await;
    let claims = id_claims(&s, &client, &code).await;
    assert_eq!(claims["sub"], grace.sub.as_str());
    assert_eq!(claims["amr"], serde_json::json!(["pwd", "fed"]));
    // From now on the identity signs in as grace, with no connect page.
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert!(page.text.contains("Allow Test App?"), "{}", page.text);
    assert_eq!(people(&s).await.len(), 1);
}

#[tokio::test]
async fn an_unverified_upstream_address_finds_nobody_and_a_squatter_loses_the_account() {
    let (s, up, client) = setup("oidc", |_| {}).await;
    let now = s.clock_now();
    // Heidi's account: verified address. An upstream identity claiming her
    // address unverified does not reach it.
    let heidi = NewUser {
        username: "heidi".into(),
        email: Some("heidi@example.com".into()),
        name: None,
        password: PASSWORD.into(),
    };
    let heidi = admin::create_user(s.store.as_ref(), heidi, now).await.expect("heidi");
    let mut fake = UpstreamUser::new("mallory-1", "heidi@example.com");
    fake.email_verified = Some(serde_json::json!(false));
    up.sign_in_as(fake);
    let page = sign_in(&mut s.browser(), &up, &client).await;
    assert!(page.text.contains("Allow Test App?") && !page.text.contains("Connect"), "{}", page.text);
    let fresh: Vec<User> = people(&s).await.into_iter().filter(|p| p.sub != heidi.sub).collect();
    assert!(
        matches!(fresh.as_slice(), [p] if p.email.is_none()),
        "a separate account, no address: {fresh:?}"
    );
    // An unverified account squatting ivan's address, before ivan comes
    // with a verified one: the squatter's password and sessions end.
    let squatter = User {
        name: Some("Not Ivan".into()),
        epoch: 3,
        ..account(&s, "za_user_squatter", "ivan@example.com", false)
    };
    let pw = zeroauth_shared::domain::Credential::password(&squatter.sub, "$argon2id$v=19$x".into(), now);
    s.store.create_person(&squatter, &[pw]).await.expect("the squatter");
    up.sign_in_as(UpstreamUser::new("upstream-ivan", "ivan@example.com"));
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert!(page.text.contains("Allow Test App?"), "{}", page.text);
    let ivan = s.store.get_person(&squatter.sub, None).await.expect("read").expect("the account");
    assert!(ivan.email_verified && ivan.epoch == 4 && ivan.tokens_revoked_at == s.clock_now(), "{ivan:?}");
    let creds = s.store.get_credentials(&ivan.sub, zeroauth_shared::domain::CredentialKind::Password).await;
    assert!(creds.expect("read").is_empty(), "the squatter's password is gone");
    let code = allow(&mut b, &page).await;
    assert_eq!(id_claims(&s, &client, &code).await["sub"], squatter.sub.as_str());
}

#[tokio::test]
async fn entra_tokens_name_their_tenant_and_addresses_count_only_with_a_verified_domain_owner() {
    let (s, up, client) = setup("entra", |p| p.tenants = vec![upstream::TENANT.into()]).await;
    let mut judy = UpstreamUser::new("judy", "judy@contoso.example");
    judy.xms_edov = Some(true);
    up.sign_in_as(judy.clone());
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert_eq!(page.status, 200, "{page:?}");
    let issuer = format!("{}/entra/{}/v2.0", up.base, upstream::TENANT);
    let id = Identifier::Upstream { issuer, subject: judy.sub.clone() };
    let sub = s.store.find_identifier(&id).await.expect("read").expect("keyed by the tenant's issuer");
    let person = s.store.get_person(&sub, None).await.expect("read").expect("judy");
    assert_eq!(person.email.as_deref(), Some("judy@contoso.example"));
    // Without xms_edov the address is not taken as verified (nOAuth).
    let mut kim = UpstreamUser::new("kim", "kim@contoso.example");
    kim.xms_edov = None;
    up.sign_in_as(kim);
    let page = sign_in(&mut s.browser(), &up, &client).await;
    assert_eq!(page.status, 200);
    assert!(people(&s).await.iter().any(|p| p.email.is_none()));
    // A token whose issuer names another tenant than its tid, and a tenant
    // that is not allowed.
    up.tamper_next(Tamper::WrongTenantIssuer);
    assert_eq!(sign_in(&mut s.browser(), &up, &client).await.status, 502);
    let mut other = UpstreamUser::new("lee", "lee@fabrikam.example");
    other.tid = upstream::OTHER_TENANT.into();
    up.sign_in_as(other);
    let r = sign_in(&mut s.browser(), &up, &client).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(people(&s).await.len(), 2);
}

#[tokio::test]
async fn a_kept_upstream_token_goes_only_to_the_resources_own_client_and_dies_with_the_grant() {
    let uri = "https://mcp.example/mcp";
    let (s, up, client) = setup("oidc", |p| p.keep_tokens_for = vec![uri.into()]).await;
    let mcp = s
        .client(|c| {
            c.name = "MCP server".into();
            c.grants =
                vec!["client_credentials".into(), "urn:ietf:params:oauth:grant-type:token-exchange".into()];
        })
        .await;
    let resource =
        NewResource { uri: uri.into(), scope: Some("read:user".into()), clients: vec![mcp.id.clone()] };
    admin::create_resource(s.store.as_ref(), resource, s.clock_now()).await.expect("the resource");
    let mut b = s.browser();
    let out = {
        let mut params = authorize_params(&client);
        params.push(("resource", uri));
        params.retain(|(k, _)| *k != "scope");
        params.push(("scope", "read:user"));
        let page = b.login_page(&params).await;
        let r = b.submit(&[("request", &page.request), ("provider", "up")]).await;
        r.header("location").expect("to the provider")
    };
    let back = at_provider(&up, &out).await;
    s.catch_up();
    let page = b.open(&back).await;
    let code = allow(&mut b, &page).await;
    let tokens = s.exchange(&client, &code, &[]).await;
    assert_eq!(tokens.status, 200, "{tokens:?}");
    let access = tokens.json()["access_token"].as_str().expect("an access token").to_owned();
    let refresh = tokens.json()["refresh_token"].as_str().map(str::to_owned);
    let got = upstream_token(&s, &mcp, &access, &[]).await;
    assert_eq!(got.status, 200, "{got:?}");
    assert_eq!(got.json()["issued_token_type"], UPSTREAM_TOKEN_TYPE);
    assert!(got.json().get("scope").is_none(), "no scope of ZeroAuth's on GitHub's token");
    let kept = got.json()["access_token"].as_str().expect("the upstream token").to_owned();
    // It is the provider's own token: its user info answers to it.
    let info = up.client().get(up.url("/userinfo")).bearer_auth(&kept).send().await.expect("answer");
    assert_eq!(info.status(), 200, "the provider accepts the token it issued");
    // A `resource` other than the token's is refused.
    let elsewhere = upstream_token(&s, &mcp, &access, &[("resource", "https://elsewhere.example/api")]).await;
    assert!(elsewhere.status == 400 && elsewhere.json()["error"] == "invalid_target", "{elsewhere:?}");
    // The client that got the ZeroAuth token is not the resource's client.
    let refused = upstream_token(&s, &client, &access, &[]).await;
    assert!(refused.status == 400 && refused.json()["error"] == "unauthorized_client", "{refused:?}");
    // After a refresh the new access token opens it, and the old one no longer does.
    let refresh = refresh.expect("a refresh token");
    let renewed = s
        .post_form("/token", Some(&client), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(renewed.status, 200, "{renewed:?}");
    let old = upstream_token(&s, &mcp, &access, &[]).await;
    assert!(old.status == 400, "the old access token is dead or opens nothing: {old:?}");
    let access = renewed.json()["access_token"].as_str().expect("a new access token").to_owned();
    let again = upstream_token(&s, &mcp, &access, &[]).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.json()["access_token"], kept.as_str());
    // Another resource's client, in the same browser session but without a
    // sign-in through the provider for it, gets nothing.
    let notes = s
        .client(|c| {
            c.name = "Notes API".into();
            c.grants =
                vec!["client_credentials".into(), "urn:ietf:params:oauth:grant-type:token-exchange".into()];
        })
        .await;
    let other_uri = "https://notes.example/api";
    let other = NewResource {
        uri: other_uri.into(),
        scope: Some("read:user".into()),
        clients: vec![notes.id.clone()],
    };
    admin::create_resource(s.store.as_ref(), other, s.clock_now()).await.expect("the other resource");
    let mut params = authorize_params(&client);
    params.retain(|(k, _)| *k != "scope");
    params.extend([("resource", other_uri), ("scope", "read:user")]);
    let page = b.authorize(&params).await;
    let code = allow(&mut b, &page).await;
    let theirs = s.exchange(&client, &code, &[]).await;
    let their_token = theirs.json()["access_token"].as_str().expect("a token").to_owned();
    let none = upstream_token(&s, &notes, &their_token, &[]).await;
    assert!(none.status == 400 && none.json()["error"] == "invalid_grant", "{none:?}");
    // After the grant is revoked, nobody gets it.
    let refresh = renewed.json()["refresh_token"].as_str().expect("a new refresh token").to_owned();
    let r = s.post_form("/revoke", Some(&client), &[("token", &refresh)]).await;
    assert_eq!(r.status, 200, "{r:?}");
    let gone = upstream_token(&s, &mcp, &access, &[]).await;
    assert!(gone.status == 400 && gone.json()["error"] == "invalid_grant", "{gone:?}");
}

/// `who` asks for the upstream token kept with `subject`'s grant.
async fn upstream_token(s: &Server, who: &TestClient, subject: &str, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("subject_token", subject),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("requested_token_type", UPSTREAM_TOKEN_TYPE),
    ];
    form.extend_from_slice(extra);
    s.post_form("/token", Some(who), &form).await
}

#[tokio::test]
async fn by_invitation_only_the_invited_address_gets_in_through_a_provider() {
    let policy = zeroauth_shared::sign_in::self_service::SignUp::Invite;
    let (s, up, client) = setup_with("oidc", policy, |_| {}).await;
    // An invited person: an unverified address, no password yet.
    let invited = account(&s, "za_user_invited", "ivy@example.com", false);
    s.store.create_person(&invited, &[]).await.expect("the invitation's account");
    up.sign_in_as(UpstreamUser::new("upstream-ivy", "ivy@example.com"));
    let page = sign_in(&mut s.browser(), &up, &client).await;
    assert!(page.text.contains("Allow Test App?"), "{}", page.text);
    let ivy = s.store.get_person(&invited.sub, None).await.expect("read").expect("ivy");
    assert!(ivy.email_verified && ivy.upstream.len() == 1, "{ivy:?}");
    // Anyone else is not let in by the provider.
    up.sign_in_as(UpstreamUser::new("upstream-stranger", "stranger@example.com"));
    assert_eq!(sign_in(&mut s.browser(), &up, &client).await.status, 403);
    assert_eq!(people(&s).await.len(), 1);
}

#[tokio::test]
async fn an_account_without_a_password_is_proved_by_a_code_mailed_to_its_address() {
    let (s, up, client) = setup_with_mail("oidc").await;
    let n =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let address = format!("judy.{n}@example.org");
    // Judy's account was made through another provider: no password.
    let judy = account(&s, "za_user_judy", &address, true);
    s.store.create_person(&judy, &[]).await.expect("judy");
    up.sign_in_as(UpstreamUser::new("upstream-judy", &address));
    let mut b = s.browser();
    let page = sign_in(&mut b, &up, &client).await;
    assert!(page.text.contains("Email a code to"), "{}", page.text);
    let before = mailbox::count(&address);
    let form = [("request", hidden(&page.text, "request")), ("offer", hidden(&page.text, "offer"))];
    let mut asked: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    asked.push(("step", "mail"));
    let link = s.url("/federation/link");
    let code_page = b.post(&link, &asked).await;
    assert!(code_page.status == 200 && code_page.text.contains("Check your email"), "{code_page:?}");
    let mail = mailbox::wait_for(&address, before).await;
    let code = mailbox::code(&mail.text).expect("a code in the mail");
    assert!(!mail.text.contains("/federation/link"), "a code only, no link: {}", mail.text);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = b.post(&link, &[("code", wrong), ("step", "code")]).await;
    assert!(refused.status == 400 && refused.text.contains("not right"), "{refused:?}");
    let id = Identifier::Upstream { issuer: up.base.clone(), subject: "upstream-judy".into() };
    assert_eq!(s.store.find_identifier(&id).await.expect("read"), None, "not linked yet");
    // Another browser cannot use the code.
    let elsewhere = s.browser().post(&link, &[("code", &code), ("step", "code")]).await;
    assert_eq!(elsewhere.status, 400, "{elsewhere:?}");
    let consent = b.post(&link, &[("code", &code), ("step", "code")]).await;
    assert!(consent.text.contains("Allow Test App?"), "{consent:?}");
    assert_eq!(s.store.find_identifier(&id).await.expect("read").as_deref(), Some("za_user_judy"));
    let code = allow(&mut b, &consent).await;
    assert_eq!(id_claims(&s, &client, &code).await["sub"], "za_user_judy");
}

/// An account with `email`, verified or not, no password, made now.
fn account(s: &Server, sub: &str, email: &str, email_verified: bool) -> User {
    User {
        sub: sub.into(),
        username: None,
        email: Some(email.into()),
        email_verified,
        name: None,
        disabled: false,
        created_at: s.clock_now(),
        epoch: 0,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    }
}
