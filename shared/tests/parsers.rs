//! Every parser a request reaches, under random input: query strings, form
//! and JSON bodies, Basic and Bearer headers, cookies, the sealed sign-in
//! form, session, device and sign-out values — and whole requests through
//! the router. None may panic; whatever is refused is refused with a 4xx.
//!
//! The README's test command runs each target with proptest's default 256
//! cases (or `PROPTEST_CASES`); `scripts/fuzz` runs a million per target.

use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, header};
use proptest::prelude::*;
use zeroauth_shared::App;
use zeroauth_shared::admin::{self, NewClient, NewUser};
use zeroauth_shared::config::Config;
use zeroauth_shared::error::OAuthError;
use zeroauth_shared::http::{
    Request, basic_credentials, bearer_token, body_params, cookie, parse_form, query,
};
use zeroauth_shared::router::{Endpoint, Mount, route};
use zeroauth_shared::secret::SigningKey;
use zeroauth_shared::sign_in::PendingRequest;
use zeroauth_shared::sign_in::methods::password::Device;
use zeroauth_shared::sign_in::sealed::{self, SignOut};
use zeroauth_shared::sign_in::session::Session;
use zeroauth_shared::store::memory::MemoryStore;

fn refused_with_4xx<T>(r: Result<T, OAuthError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(e.status().is_client_error(), "refused with {} ({e})", e.status());
    }
    Ok(())
}

/// Header values as a client could send them: visible ASCII, spaces, tabs
/// and obs-text bytes.
fn header_value() -> impl Strategy<Value = HeaderValue> {
    prop::collection::vec(prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff], 0..200)
        .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok())
}

/// Text that is mostly form- and JSON-shaped, with some noise.
fn formish() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{0,12}=[a-zA-Z0-9%+._~-]{0,40}(&[a-z_]{0,12}=[a-zA-Z0-9%+._~-]{0,40}){0,6}",
        "(%[0-9a-fA-F]{0,2}|[=&+a-z]){0,60}",
        any::<String>(),
    ]
}

fn jsonish() -> impl Strategy<Value = String> {
    prop_oneof![
        r#"\{("[a-z_]{1,14}":("[^"\\]{0,20}"|-?[0-9]{1,20}(\.[0-9]{1,5})?|true|false|null|\[\]|\{\}),?){0,6}\}"#,
        r#"[\[\]{}":,0-9a-z\\ -]{0,80}"#,
        any::<String>(),
    ]
}

fn request(
    method: Method,
    uri: &str,
    headers: &[(header::HeaderName, HeaderValue)],
    body: Vec<u8>,
) -> Request {
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::from(body))
        .unwrap_or_else(|_| http::Request::builder().uri("/").body(Bytes::new()).unwrap_or_default());
    for (k, v) in headers {
        req.headers_mut().append(k.clone(), v.clone());
    }
    req
}

proptest! {
    #[test]
    fn forms_and_queries(raw in prop::collection::vec(any::<u8>(), 0..300), text in formish()) {
        refused_with_4xx(parse_form(&raw))?;
        refused_with_4xx(parse_form(text.as_bytes()))?;
        if let Ok(uri) = format!("/authorize?{text}").parse::<http::Uri>() {
            let req = http::Request::builder().uri(uri).body(Bytes::new()).unwrap_or_default();
            let params = query(&req);
            if let Ok(p) = &params {
                for name in ["client_id", "redirect_uri", "scope", "state"] {
                    refused_with_4xx(p.get(name))?;
                    refused_with_4xx(p.get_id(name))?;
                }
            }
            refused_with_4xx(params)?;
        }
    }

    #[test]
    fn json_and_form_bodies(text in jsonish(), form in formish(), ct in header_value()) {
        for (content_type, body) in [
            (HeaderValue::from_static("application/json"), text.as_bytes()),
            (HeaderValue::from_static("application/x-www-form-urlencoded"), form.as_bytes()),
            (ct, text.as_bytes()),
        ] {
            let req = request(Method::POST, "/token", &[(header::CONTENT_TYPE, content_type)], body.to_vec());
            refused_with_4xx(body_params(&req))?;
        }
    }

    #[test]
    fn basic_bearer_and_cookie_headers(v in header_value(), b64 in "[A-Za-z0-9+/=:]{0,80}", name in "[a-z_]{1,12}") {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.clone());
        refused_with_4xx(basic_credentials(&h))?;
        refused_with_4xx(bearer_token(&h))?;
        if let Ok(basic) = HeaderValue::from_str(&format!("Basic {b64}")) {
            h.insert(header::AUTHORIZATION, basic);
            refused_with_4xx(basic_credentials(&h))?;
        }
        h.insert(header::COOKIE, v);
        let _ = cookie(&h, &name);
        let _ = cookie(&h, "za_session");
    }

    #[test]
    fn sealed_values(raw in ".{0,300}", cut in 0usize..400, flip in any::<u8>()) {
        let key = SigningKey::new(vec![7; 32]);
        let session = Session { sub: "s".into(), epoch: 0, exp: 100, auth_time: 0, amr: vec![], idp: None };
        let good = sealed::seal(&key, "session", &session);
        let mut tampered = good.clone().into_bytes();
        if let Some(b) = tampered.get_mut(cut % good.len().max(1)) {
            *b ^= flip | 1;
        }
        let tampered = String::from_utf8_lossy(&tampered).into_owned();
        prop_assert!(sealed::open::<Session>(&key, "session", &good, 1).is_some(), "the untouched value opens");
        for candidate in [raw.as_str(), good.get(..cut.min(good.len())).unwrap_or(""), tampered.as_str()] {
            let _ = sealed::open::<PendingRequest>(&key, "login-request", candidate, 1);
            let _ = sealed::open::<Device>(&key, "device", candidate, 1);
            let _ = sealed::open::<SignOut>(&key, "sign-out", candidate, 1);
            let opened = sealed::open::<Session>(&key, "session", candidate, 1);
            prop_assert!(opened.is_none() || candidate == good, "only the untouched value opens");
        }
    }
}

/// One App on the embedded store, with a client and a person, for the
/// router target; one runtime to drive it.
static RIG: LazyLock<(tokio::runtime::Runtime, App)> = LazyLock::new(|| {
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| panic!("{e}"));
    let app = rt.block_on(async {
        let store = Arc::new(MemoryStore::new());
        let client = NewClient {
            name: "Fuzz".into(),
            redirect_uris: vec!["https://app.example/cb".into()],
            grants: vec!["authorization_code".into(), "refresh_token".into(), "client_credentials".into()],
            scope: Some("openid profile".into()),
            public: false,
            trusted: false,
            client_id: Some("c1".into()),
            client_secret: Some("a-client-secret-of-some-length".into()),
            ..Default::default()
        };
        admin::create_client(store.as_ref(), client, 0).await.unwrap_or_else(|e| panic!("{e}"));
        let user =
            NewUser { username: "alice".into(), email: None, name: None, password: "hunter2hunter2".into() };
        admin::create_user(store.as_ref(), user, 0).await.unwrap_or_else(|e| panic!("{e}"));
        let mut config = Config::new("http://localhost:9000", SigningKey::new(vec![3; 32]));
        // Registration bodies are parsed too; metadata documents would reach
        // for the network, and their URL checks have their own tests.
        config.registration.policy = zeroauth_shared::config::RegistrationPolicy::Open;
        config.client_metadata.enabled = false;
        App::new(store, config)
    });
    (rt, app)
});

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::HEAD),
        Just(Method::PUT),
        Just(Method::OPTIONS)
    ]
}

fn path() -> impl Strategy<Value = String> {
    let known: Vec<String> = Endpoint::ALL.iter().map(|e| e.path().to_owned()).collect();
    prop_oneof![prop::sample::select(known), "/[a-z./%-]{0,20}"]
}

fn content_type() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        Just(HeaderValue::from_static("application/x-www-form-urlencoded")),
        Just(HeaderValue::from_static("application/json")),
        header_value(),
    ]
}

proptest! {
    #[test]
    fn requests_through_the_router(
        method in method(),
        path in path(),
        q in formish(),
        body in prop_oneof![formish(), jsonish()],
        ct in content_type(),
        auth in prop_oneof![header_value(), Just(HeaderValue::from_static("Basic YzE6YS1jbGllbnQtc2VjcmV0LW9mLXNvbWUtbGVuZ3Ro"))],
        cookies in header_value(),
    ) {
        let uri = format!("{path}?{q}");
        let headers = [(header::CONTENT_TYPE, ct), (header::AUTHORIZATION, auth), (header::COOKIE, cookies)];
        let (rt, app) = &*RIG;
        let Ok(uri) = uri.parse::<http::Uri>() else { return Ok(()) };
        let req = request(method, &uri.to_string(), &headers, body.into_bytes());
        let res = rt.block_on(route(app, Mount::All, req));
        prop_assert!(!res.status().is_server_error(), "{} {uri} answered {}", res.status(), res.body());
    }
}
