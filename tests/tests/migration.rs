//! Drop-in migration (SPEC.md section 9): each seed provider's document,
//! replayed verbatim against ZeroAuth with only the host changed — its
//! paths (through route aliases), its parameter and field names, its
//! content types, its curl lines run with curl — and every field it
//! promises checked.

use serde_json::{Value, json};
use zeroauth_e2e::seeds::{block, document, run_curl, substitute};
use zeroauth_e2e::{PASSWORD, Server, TestClient, form_encode};
use zeroauth_shared::router::aliases::RouteAliases;

/// The aliases a deployment taking over the five providers would configure
/// (the example in infra/route-aliases).
const ALIASES: &str = "
    GET  /auth/login               authorize
    GET  /oauth2/authorize         authorize
    POST /oauth2/authorize         token
    POST /oauth2/token             token
    POST /v1_3/oauth/token         token
    POST /oauth/token              token
    GET  /oauth/userinfo           userinfo
    POST /v1/oauth/access_token    token
";

async fn server() -> Server {
    Server::dynamodb_with(|c| c.route_aliases = RouteAliases::parse(ALIASES).expect("the seed aliases parse"))
        .await
}

/// Every name in `names` appears in the document, so the test uses the
/// document's own words.
fn promised(doc: &str, names: &[&str]) {
    for n in names {
        assert!(doc.contains(n), "the document no longer mentions {n:?}");
    }
}

/// Iternio: authorization without `response_type`, the code back as
/// `auth_code`, a token request without `grant_type`, and `user_token`,
/// `token_type` and `state` in the answer. The document names no paths, so
/// the standard ones serve.
#[tokio::test]
async fn iternio_document_replays() {
    let doc = document("000");
    promised(&doc, &["client_id", "redirect_uri", "response_type", "state", "auth_code", "grant_type"]);
    promised(&doc, &["client_secret", "code", "user_token", "token_type"]);
    let s = server().await;
    // "client_id int": the numeric id Iternio handed out, kept.
    let app = s
        .client(|c| {
            c.client_id = Some("4711".into());
            c.grants = vec!["authorization_code".into()];
            c.code_param = Some("auth_code".into());
            c.access_token_field = Some("user_token".into());
        })
        .await;
    s.user("driver").await;
    let mut browser = s.browser();
    let page = browser
        .login_page(&[("client_id", &app.id), ("redirect_uri", &app.redirect_uri), ("state", "xyz")])
        .await;
    let back = browser.approve(&page, "driver").await.location_params();
    assert_eq!(back["state"], "xyz");
    let auth_code = back.get("auth_code").expect("the redirect carries auth_code").clone();
    assert_eq!(back["code"], auth_code, "and the standard code beside it");
    let secret = app.secret.clone().expect("a confidential client");
    let reply = s
        .post_form(
            "/token",
            None,
            &[
                ("client_id", &app.id),
                ("client_secret", &secret),
                ("code", &auth_code),
                ("redirect_uri", &app.redirect_uri),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    let user_token = body["user_token"].as_str().expect("user_token");
    assert_eq!(body["access_token"], user_token);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["state"], "xyz");
    assert_eq!(s.userinfo(user_token).await.status, 200, "the user's token identifies the user");
}

/// iiniit: `GET /auth/login` with `read:user`, the code back on the
/// redirect, the documented curl line (form fields labelled JSON, posted
/// to `/oauth2/authorize`), refresh tokens, its JavaScript's
/// `/oauth2/authorize` and `/oauth2/token`, and its error codes.
#[tokio::test]
async fn iiniit_document_replays() {
    let doc = document("001");
    let s = server().await;
    let app = s.client(|c| c.redirect_uris = vec!["https://your-app.com/callback".into()]).await;
    let secret = app.secret.clone().expect("a confidential client");
    s.user("dev").await;

    // Step 1, as printed: "GET https://www.iiniit.com/auth/login? response_type=code& …"
    let line = doc.lines().find(|l| l.starts_with("GET https://www.iiniit.com/auth/login?")).expect("step 1");
    let url = substitute(
        &line.trim_start_matches("GET ").replace(' ', ""),
        &[
            ("https://www.iiniit.com", &s.base),
            ("YOUR_CLIENT_ID", &app.id),
            ("YOUR_REDIRECT_URI", &app.redirect_uri),
            ("RANDOM_STATE_VALUE", "st4te"),
        ],
    );
    let mut browser = s.browser();
    let page = browser.open(&url).await;
    let request =
        zeroauth_e2e::hidden_request(&page.text).unwrap_or_else(|| panic!("no sign-in page: {page:?}"));
    let back = browser
        .submit(&[
            ("request", &request),
            ("username", "dev"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ])
        .await;
    // "https://your-app.com/callback?code=AUTHORIZATION_CODE&state=RANDOM_STATE_VALUE"
    let location = back.header("location").expect("a redirect");
    assert!(location.starts_with("https://your-app.com/callback?code="), "{location}");
    let params = back.location_params();
    assert_eq!(params["state"], "st4te");
    assert!(!params.contains_key("auth_code"), "no dialect, no alias parameter");

    // Step 4, the curl line as printed; the page flattened its line breaks
    // into "\ ", which are put back as spaces.
    let curl = doc
        .lines()
        .find(|l| l.starts_with("curl --location --request POST '/oauth2/authorize'"))
        .expect("step 4");
    let curl = substitute(
        &curl.replace(" \\ ", " "),
        &[
            ("'/oauth2/authorize'", &format!("'{}/oauth2/authorize'", s.base)),
            ("AUTHORIZATION_CODE", &params["code"]),
            ("YOUR_REDIRECT_URI", &app.redirect_uri),
            ("YOUR_CLIENT_ID", &app.id),
            ("YOUR_CLIENT_SECRET", &secret),
        ],
    );
    assert!(curl.contains("--header 'Content-Type: application/json' --data-urlencode"), "{curl}");
    let reply = run_curl(&curl).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    for field in ["access_token", "token_type", "expires_in", "refresh_token", "scope"] {
        assert!(body.get(field).is_some(), "the response promises {field}: {body}");
    }
    assert!(body["token_type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("bearer")));
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "read:user");
    assert!(body.get("user_token").is_none(), "no dialect, no alias field");

    // The JavaScript: GET /oauth2/authorize with "read:user read:projects",
    // then a form POST to /oauth2/token.
    promised(
        &doc,
        &[
            "https://api.iiniit.com/oauth2/authorize",
            "https://api.iiniit.com/oauth2/token",
            "'read:user read:projects'",
        ],
    );
    let url = format!(
        "{}/oauth2/authorize?{}",
        s.base,
        form_encode(&[
            ("response_type", "code"),
            ("client_id", &app.id),
            ("redirect_uri", &app.redirect_uri),
            ("scope", "read:user read:projects"),
            ("state", "js"),
        ])
    );
    let page = browser.open(&url).await;
    let request =
        zeroauth_e2e::hidden_request(&page.text).expect("a consent page (the session skips the password)");
    let back = browser.submit(&[("request", &request), ("decision", "approve")]).await.location_params();
    let form = form_encode(&[
        ("grant_type", "authorization_code"),
        ("code", &back["code"]),
        ("redirect_uri", &app.redirect_uri),
        ("client_id", &app.id),
        ("client_secret", &secret),
    ]);
    let res = s
        .http
        .post(format!("{}/oauth2/token", s.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("an answer");
    assert_eq!(res.status().as_u16(), 200);
    let tokens: Value = res.json().await.expect("JSON");
    assert_eq!(tokens["scope"], "read:user read:projects");

    // Refresh tokens work at the aliased path too.
    let refreshed = s
        .post_form(
            "/oauth2/token",
            Some(&app),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().expect("rt")),
            ],
        )
        .await;
    assert_eq!(refreshed.status, 200, "{refreshed:?}");

    // "Error Handling": the codes the document lists come back as named.
    promised(&doc, &["invalid_request", "unauthorized_client", "access_denied", "invalid_scope"]);
    let mut errors = Vec::new();
    let asked = |scope: &str, state: &str| {
        format!(
            "{}/auth/login?{}",
            s.base,
            form_encode(&[
                ("response_type", "code"),
                ("client_id", &app.id),
                ("redirect_uri", &app.redirect_uri),
                ("scope", scope),
                ("state", state)
            ])
        )
    };
    errors.push(browser.open(&asked("admin:everything", "e1")).await.location_params()["error"].clone());
    let page = browser.open(&asked("read:user", "e2")).await;
    let request = zeroauth_e2e::hidden_request(&page.text).expect("a consent page");
    errors.push(
        browser.submit(&[("request", &request), ("decision", "deny")]).await.location_params()["error"]
            .clone(),
    );
    let cc = s.post_form("/oauth2/token", Some(&app), &[("grant_type", "client_credentials")]).await;
    errors.push(cc.field("error"));
    let bare = s.post_form("/oauth2/token", Some(&app), &[("grant_type", "authorization_code")]).await;
    errors.push(bare.field("error"));
    assert_eq!(errors, ["invalid_scope", "access_denied", "unauthorized_client", "invalid_request"]);
}

/// Ianum: `client_credentials` as JSON to `/v1_3/oauth/token`, with the
/// gate's id or its alias; the token expires in an hour. The document's
/// PHP sample (libcurl) is replayed as the same curl request.
#[tokio::test]
async fn ianum_document_replays() {
    let doc = document("002");
    promised(
        &doc,
        &[
            "https://api-auth.ianum.com/v1_3/oauth/token",
            "also the alias is accepted",
            "\"expires_in\": 3600",
        ],
    );
    let s = server().await;
    let gate = s
        .client(|c| {
            c.client_id = Some("gate_5f2a9c1d0e7b3".into());
            c.client_id_aliases = vec!["my-shop-gate".into()];
            c.grants = vec!["client_credentials".into()];
            c.redirect_uris = vec![];
        })
        .await;
    let secret = gate.secret.clone().expect("a secret");
    for id in [gate.id.as_str(), "my-shop-gate"] {
        // $data = array('grant_type' => …, 'client_secret' => …, 'client_id' => …); json_encode($data)
        let data = json!({ "grant_type": "client_credentials", "client_secret": secret, "client_id": id });
        let curl = format!(
            "curl -X POST '{}/v1_3/oauth/token' -H 'Content-type: application/json' -H 'Accept: application/json' -d '{data}'",
            s.base
        );
        let reply = run_curl(&curl).await;
        assert_eq!(reply.status, 200, "{id}: {reply:?}");
        let body = reply.json();
        assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let seen = s
            .post_form(
                "/introspect",
                Some(&gate),
                &[("token", body["access_token"].as_str().expect("token"))],
            )
            .await
            .json();
        assert_eq!(seen["client_id"], gate.id, "the alias names the same client");
    }
    let wrong = json!({ "grant_type": "client_credentials", "client_secret": "not-the-secret-at-all", "client_id": "my-shop-gate" });
    assert_eq!(s.post_json("/v1_3/oauth/token", wrong).await.status, 401);
}

/// inTandem: a trusted app skips consent; the code lives 30 seconds; the
/// documented curl lines exchange it as JSON at `/oauth/token` for a token
/// that lives 20 years with `created_at`, and read `/oauth/userinfo`.
#[tokio::test]
async fn intandem_document_replays() {
    let doc = document("003");
    promised(&doc, &["valid for only 30 seconds", "\"expires_in\": 631152000", "\"created_at\"", "Trusted"]);
    let s = server().await;
    let app = s
        .client(|c| {
            c.trusted = true;
            c.grants = vec!["authorization_code".into()];
            c.access_token_ttl = Some(631_152_000);
        })
        .await;
    let secret = app.secret.clone().expect("a secret");
    s.user("business").await;

    let mut browser = s.browser();
    let page = browser
        .login_page(&[("client_id", &app.id), ("redirect_uri", &app.redirect_uri), ("state", "S")])
        .await;
    assert!(
        page.reply.text.contains("Sign in to") && !page.reply.text.contains("Allow "),
        "trusted: no consent"
    );
    let back = browser.approve(&page, "business").await.location_params();
    assert_eq!(back["state"], "S");

    let exchange = block(&doc, "curl https://api.vcita.biz/oauth/token", "-X POST").join("\n");
    let run = |code: &str| {
        let line = substitute(
            &exchange,
            &[
                ("https://api.vcita.biz", &s.base),
                ("{your_code}", code),
                ("{your_client_id}", &app.id),
                ("{your_client_secret}", &secret),
                ("{your_redirect_url}", &app.redirect_uri),
            ],
        );
        async move { run_curl(&line).await }
    };
    let reply = run(&back["code"]).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert!(body["token_type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("bearer")));
    assert_eq!(body["expires_in"], 631_152_000);
    assert!(body["created_at"].as_i64().is_some_and(|t| t >= s.clock_now() - 5));
    let token = body["access_token"].as_str().expect("access_token").to_owned();

    // The userinfo call; the document's Accept line lacks its trailing
    // backslash, so the lines are joined as the author meant.
    let lines = block(&doc, "curl --request GET", "--header 'Authorization: Bearer {{access_token}}' \\");
    let joined: Vec<&str> = lines.iter().map(|l| l.trim().trim_end_matches('\\').trim()).collect();
    let userinfo =
        substitute(&joined.join(" "), &[("https://api.vcita.biz", &s.base), ("{{access_token}}", &token)]);
    let reply = run_curl(&userinfo).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.json()["sub"].is_string());

    // Twenty years on (less a day) the token still works.
    s.advance(631_152_000 - 86_400);
    assert_eq!(s.userinfo(&token).await.status, 200);

    // A code presented after its 30 seconds is refused.
    let mut browser = s.browser();
    let page = browser.login_page(&[("client_id", &app.id), ("redirect_uri", &app.redirect_uri)]).await;
    let late = browser.approve(&page, "business").await.location_params();
    s.advance(31);
    let reply = run(&late["code"]).await;
    assert_eq!((reply.status, reply.json()["error"].clone()), (400, json!("invalid_grant")));
}

/// ItsYou.online: both documented curl lines against `/v1/oauth/access_token`
/// (form posts; the second with `state`, no `grant_type` and a trailing
/// `?`), then the "JWT for API calls" step as RFC 8693 token exchange.
#[tokio::test]
async fn itsyou_online_document_replays() {
    let doc = document("004");
    let s = server().await;
    let org = s
        .client(|c| {
            c.grants = vec![
                "authorization_code".into(),
                "client_credentials".into(),
                "urn:ietf:params:oauth:grant-type:token-exchange".into(),
            ];
            c.redirect_uris = vec!["https://cockpit.example/callback".into()];
        })
        .await;
    let secret = org.secret.clone().expect("a secret");
    s.user("jane").await;

    // The first line ends with "/", which the author meant as "\".
    let cc = block(&doc, "curl -d \"grant_type=client_credentials", "/v1/oauth/access_token").join("\n");
    let cc = substitute(
        &cc,
        &[
            ("CLIENT_SECRET\" /\n", "CLIENT_SECRET\" \\\n"),
            ("https://itsyou.online", &s.base),
            ("CLIENT_ID/APPLICATION_ID", &org.id),
            ("CLIENT_SECRET", &secret),
        ],
    );
    let reply = run_curl(&cc).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(reply.json()["access_token"].is_string());

    let mut browser = s.browser();
    let code = browser.code_for(&org, "jane", &[("state", "STATE")]).await;
    // The second line and its URL, on two lines with no continuation.
    let exchange = block(&doc, "curl -d \"client_id=CLIENT_ID", "access_token?").join(" ");
    let exchange = substitute(
        &exchange,
        &[
            ("https://itsyou.online", &s.base),
            ("CLIENT_ID", &org.id),
            ("CLIENT_SECRET", &secret),
            ("AUTHORIZATION_CODE", &code),
            ("CALLBACK_URL", &org.redirect_uri),
        ],
    );
    let reply = run_curl(&exchange).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["state"], "STATE");
    let access = body["access_token"].as_str().expect("access_token").to_owned();

    // "request the JWT needed for all Cockpit API calls", in standard form.
    promised(&doc, &["How to get a JWT"]);
    let jwt = exchange_for_jwt(&s, &org, &access, &[]).await;
    assert_eq!(jwt.status, 200, "{jwt:?}");
    let issued = jwt.json();
    assert_eq!(issued["issued_token_type"], "urn:ietf:params:oauth:token-type:jwt");
    assert_eq!(issued["token_type"], "Bearer");
    let token = issued["access_token"].as_str().expect("a JWT");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    assert!(issued.get("refresh_token").is_none());
    let seen = s.post_form("/introspect", Some(&org), &[("token", token)]).await.json();
    let person = s.post_form("/introspect", Some(&org), &[("token", &access)]).await.json();
    assert_eq!((seen["active"].clone(), seen["sub"].clone()), (json!(true), person["sub"].clone()));
    assert!(seen["exp"].as_i64() <= person["exp"].as_i64(), "never outlives the token it came from");
    assert_eq!(s.userinfo(token).await.status, 200);
}

async fn exchange_for_jwt(
    s: &Server,
    client: &TestClient,
    subject: &str,
    extra: &[(&str, &str)],
) -> zeroauth_e2e::Reply {
    let mut form = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("subject_token", subject),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ("requested_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ];
    form.extend_from_slice(extra);
    s.post_form("/v1/oauth/access_token", Some(client), &form).await
}

/// RFC 8693 2.2.2: a subject token that is expired, revoked, someone
/// else's or a refresh token is `invalid_grant`; a narrower scope is
/// allowed and a wider one is not; only registered clients may exchange.
#[tokio::test]
async fn token_exchange_refuses_what_it_must() {
    let s = server().await;
    let exchanger = |c: &mut zeroauth_shared::admin::NewClient| {
        c.grants = vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "urn:ietf:params:oauth:grant-type:token-exchange".into(),
        ];
    };
    let app = s.client(exchanger).await;
    let other = s.client(exchanger).await;
    let plain = s.confidential_client().await;
    s.user("jane").await;
    let tokens_for = |c: TestClient| {
        let s = &s;
        async move {
            let code = s.browser().code_for(&c, "jane", &[("scope", "openid profile read:user")]).await;
            s.exchange(&c, &code, &[]).await.json()
        }
    };
    let mine = tokens_for(app.clone()).await;
    let access = mine["access_token"].as_str().expect("at").to_owned();
    let refresh = mine["refresh_token"].as_str().expect("rt").to_owned();
    let theirs = tokens_for(other.clone()).await["access_token"].as_str().expect("at").to_owned();

    let narrow = exchange_for_jwt(&s, &app, &access, &[("scope", "read:user")]).await;
    assert_eq!(narrow.json()["scope"], "read:user", "{narrow:?}");
    let wide = exchange_for_jwt(&s, &app, &access, &[("scope", "read:user email")]).await;
    assert_eq!(wide.field("error"), "invalid_scope");

    let code_only = tokens_for(plain.clone()).await["access_token"].as_str().expect("at").to_owned();
    let refused = exchange_for_jwt(&s, &plain, &code_only, &[]).await;
    assert_eq!((refused.status, refused.field("error")), (400, "unauthorized_client".to_owned()));

    for (name, subject) in [
        ("should fail because it is a refresh token", refresh.as_str()),
        ("should fail because it is another client's", theirs.as_str()),
        ("should fail because it is no token at all", "za_at_nope"),
    ] {
        let r = exchange_for_jwt(&s, &app, subject, &[]).await;
        assert_eq!((r.status, r.field("error")), (400, "invalid_grant".to_owned()), "{name}: {r:?}");
    }
    let bad_type = s
        .post_form(
            "/token",
            Some(&app),
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                ("subject_token", &access),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:refresh_token"),
            ],
        )
        .await;
    assert_eq!(bad_type.field("error"), "invalid_request");

    // Revoked: the family dies, and with it the JWT made from it.
    let jwt = exchange_for_jwt(&s, &app, &access, &[]).await.field("access_token");
    s.post_form("/revoke", Some(&app), &[("token", &refresh)]).await;
    let r = exchange_for_jwt(&s, &app, &access, &[]).await;
    assert_eq!(r.field("error"), "invalid_grant", "revoked");
    assert_eq!(s.post_form("/introspect", Some(&app), &[("token", &jwt)]).await.json()["active"], false);

    // Expired.
    let fresh = tokens_for(app.clone()).await["access_token"].as_str().expect("at").to_owned();
    s.advance(3601);
    let r = exchange_for_jwt(&s, &app, &fresh, &[]).await;
    assert_eq!(r.field("error"), "invalid_grant", "expired");
}

/// A client without a dialect sees no alias parameter or field, and an
/// alias reaches only the endpoint its method maps to.
#[tokio::test]
async fn aliases_and_dialects_stay_where_they_are_configured() {
    let s = server().await;
    let plain = s.confidential_client().await;
    s.user("amy").await;
    let mut browser = s.browser();
    let page = browser.login_page(&[("client_id", &plain.id), ("redirect_uri", &plain.redirect_uri)]).await;
    let back = browser.approve(&page, "amy").await.location_params();
    assert_eq!(back.keys().filter(|k| !["code", "iss"].contains(&k.as_str())).count(), 0, "{back:?}");
    let body = s.exchange(&plain, &back["code"], &[]).await.json();
    let mut fields: Vec<&str> = body.as_object().expect("object").keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["access_token", "created_at", "expires_in", "id_token", "refresh_token", "scope", "token_type"]
    );

    let status = |method: reqwest::Method, path: &str| {
        let req =
            s.http.request(method, s.url(path)).header("content-type", "application/x-www-form-urlencoded");
        async move { req.send().await.expect("an answer").status().as_u16() }
    };
    use reqwest::Method;
    assert_eq!(status(Method::GET, "/oauth2/token").await, 405, "token is aliased for POST only");
    assert_eq!(status(Method::POST, "/auth/login").await, 405, "authorize is aliased for GET only");
    assert_eq!(status(Method::POST, "/oauth/userinfo").await, 405, "userinfo is aliased for GET only");
    assert_eq!(status(Method::GET, "/v1_3/oauth").await, 404);
    // POST /oauth2/authorize is the token endpoint, not the sign-in page.
    let res = s
        .http
        .post(s.url("/oauth2/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_encode(&[("client_id", plain.id.as_str())]))
        .send()
        .await
        .expect("answer");
    assert!(res.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("application/json")));
    // Discovery still names the canonical paths.
    let meta: Value = s
        .http
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(meta["token_endpoint"], s.url("/token"));
    // A preflight at an aliased back-channel path is answered; none at the sign-in alias.
    assert_eq!(status(Method::OPTIONS, "/oauth2/token").await, 204);
    assert_eq!(status(Method::OPTIONS, "/auth/login").await, 405);
}

/// API keys: verified by `/introspect` for their client, accepted by
/// `/userinfo` when they carry a person, and inactive everywhere once
/// revoked or expired.
#[tokio::test]
async fn api_keys_work_until_revoked_or_expired() {
    use zeroauth_shared::admin::{NewApiKey, create_api_key};
    let s = server().await;
    let app = s.client(|c| c.grants = vec!["client_credentials".into()]).await;
    let stranger = s.confidential_client().await;
    s.user("ivy").await;
    let now = s.clock_now();
    let issue = |user: Option<&str>, expires: &str| NewApiKey {
        client_id: app.id.clone(),
        username: user.map(str::to_owned),
        scope: Some("openid profile read:user".into()),
        expires: Some(expires.into()),
    };
    let (key, record) =
        create_api_key(s.store.as_ref(), issue(Some("ivy"), "30d"), now).await.expect("a key");
    let key = key.secret().to_owned();
    let seen = s.post_form("/introspect", Some(&app), &[("token", &key)]).await.json();
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(
        (seen["client_id"].clone(), seen["scope"].clone()),
        (json!(app.id), json!("openid profile read:user"))
    );
    assert_eq!(s.post_form("/introspect", Some(&stranger), &[("token", &key)]).await.json()["active"], false);
    let me = s.userinfo(&key).await;
    assert_eq!((me.status, me.json()["name"].clone()), (200, json!("ivy Example")));
    let used = s.store.get_api_key(&record.id, now).await.expect("read").expect("live");
    assert_eq!(used.last_used_at, Some(now), "the use is recorded");

    let (machine, _) = create_api_key(s.store.as_ref(), issue(None, "1h"), now).await.expect("a key");
    assert_eq!(s.userinfo(machine.secret()).await.status, 401, "no person, no userinfo");
    s.advance(3601);
    assert_eq!(
        s.post_form("/introspect", Some(&app), &[("token", machine.secret())]).await.json()["active"],
        false,
        "expired"
    );

    assert_eq!(s.post_form("/revoke", Some(&app), &[("token", &key)]).await.status, 200);
    assert_eq!(
        s.post_form("/introspect", Some(&app), &[("token", &key)]).await.json()["active"],
        false,
        "revoked"
    );
    assert_eq!(s.userinfo(&key).await.status, 401);
    let tampered = format!("{}x", &key[..key.len() - 1]);
    assert_eq!(s.userinfo(&tampered).await.status, 401);
}

/// A key whose first use is at `/userinfo` has that use recorded there (a
/// write by the userinfo function, which its IAM policy must allow), and
/// again once a minute has passed.
#[tokio::test]
async fn an_api_key_first_used_at_userinfo_has_its_use_recorded() {
    use zeroauth_shared::admin::{NewApiKey, create_api_key};
    let s = server().await;
    let app = s.client(|c| c.grants = vec!["client_credentials".into()]).await;
    s.user("ivy").await;
    let issued = s.clock_now();
    let new = NewApiKey {
        client_id: app.id.clone(),
        username: Some("ivy".into()),
        scope: Some("openid profile".into()),
        expires: Some("30d".into()),
    };
    let (key, record) = create_api_key(s.store.as_ref(), new, issued).await.expect("a key");
    let last_used = || async {
        s.store.get_api_key(&record.id, s.clock_now()).await.expect("read").expect("live").last_used_at
    };
    assert_eq!(s.userinfo(key.secret()).await.status, 200);
    assert_eq!(last_used().await, Some(issued), "the first use is recorded");
    s.advance(61);
    assert_eq!(s.userinfo(key.secret()).await.status, 200);
    assert_eq!(last_used().await, Some(issued + 61), "a use a minute later is recorded again");
}

/// A person imported with their old bcrypt hash signs in with their old
/// password, and is rehashed to argon2id on the way.
#[tokio::test]
async fn imported_people_sign_in_and_are_rehashed() {
    use zeroauth_shared::admin::{LineOutcome, import_line};
    let s = server().await;
    let app = s.confidential_client().await;
    // Made by Python's bcrypt for "correct horse".
    let line = r#"{"username":"legacy","email":"legacy@example.com","name":"Old Timer","sub":"u-42","password_hash":"$2b$04$VhtHsRCztwgfZ66qxMSLluuTSxUx93yRiVRcjEol1KkedTJeV/hnC"}"#;
    assert!(matches!(
        import_line(s.store.as_ref(), line, s.clock_now()).await,
        Some(LineOutcome::Imported(..))
    ));
    let sign_in = |password: &'static str| {
        let (s, app) = (&s, &app);
        async move {
            let mut browser = s.browser();
            let page =
                browser.login_page(&[("client_id", &app.id), ("redirect_uri", &app.redirect_uri)]).await;
            let form = [
                ("request", page.request.as_str()),
                ("username", "legacy"),
                ("password", password),
                ("decision", "approve"),
            ];
            browser.submit(&form).await
        }
    };
    assert_ne!(sign_in("wrong horse").await.status, 303);
    let ok = sign_in("correct horse").await;
    assert_eq!(ok.status, 303, "{ok:?}");
    let code = ok.location_params()["code"].clone();
    let token = s.exchange(&app, &code, &[]).await.field("access_token");
    assert_eq!(s.userinfo(&token).await.json()["sub"], "u-42", "apps keep the subject they knew");
    let stored =
        zeroauth_shared::admin::find_user(s.store.as_ref(), "legacy").await.expect("read").expect("there");
    let kind = zeroauth_shared::domain::CredentialKind::Password;
    let creds = s.store.get_credentials(&stored.sub, kind).await.expect("read");
    let hash = creds.first().and_then(|c| c.password_hash()).unwrap_or_default();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    let reply = sign_in("correct horse").await;
    assert_eq!(reply.status, 303, "the argon2id hash verifies the same password: {reply:?}");
}
