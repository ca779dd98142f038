//! The test upstream's own tests: each provider's shapes, the switches,
//! and ID tokens checked with a JOSE library nobody here wrote.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use super::keys::at_hash;
use super::server::pairs;
use super::{
    CLIENT_ID, CLIENT_SECRET, OTHER_TENANT, TENANT, Tamper, Upstream, UpstreamUser, entra, now, start,
};

const CB: &str = "https://zeroauth.test/callback";

/// The form of an authorization code exchange.
fn code_form<'a>(code: &'a str, verifier: &'a str) -> [(&'a str, &'a str); 4] {
    [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB), ("code_verifier", verifier)]
}

/// A JWT's claims, unchecked.
fn claims(jwt: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode::<Value>(jwt).expect("a JWT").claims
}

struct Run {
    up: Upstream,
    http: reqwest::Client,
}

impl Run {
    async fn new() -> Self {
        let up = start().await;
        up.allow_redirect(CB);
        Self { http: up.client(), up }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.up.url(path)).header("user-agent", "t").send().await.expect("answer")
    }

    async fn json(&self, path: &str) -> Value {
        self.get(path).await.json().await.expect("json")
    }

    /// Runs `authorize` at `path`; the redirect's parameters and the PKCE verifier.
    async fn authorize(&self, path: &str, scope: &str) -> (HashMap<String, String>, String) {
        let (verifier, challenge) = crate::pkce();
        let q = crate::form_encode(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", CB),
            ("state", "st"),
            ("nonce", "n-1"),
            ("scope", scope),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ]);
        let res = self.get(&format!("{path}?{q}")).await;
        assert_eq!(res.status(), 302);
        let loc = res.headers()["location"].to_str().expect("location").to_owned();
        assert!(loc.starts_with(CB), "{loc}");
        (pairs(loc.split_once('?').expect("query").1), verifier)
    }

    async fn token(&self, path: &str, form: &[(&str, &str)], basic: bool) -> reqwest::Response {
        let mut req = self
            .http
            .post(self.up.url(path))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(crate::form_encode(form));
        if basic {
            req = req.basic_auth(CLIENT_ID, Some(CLIENT_SECRET));
        }
        req.send().await.expect("answer")
    }

    /// `authorize` at `authorize`, then its code exchanged at `token` with Basic credentials.
    async fn flow(&self, authorize: &str, token: &str, scope: &str) -> reqwest::Response {
        let (p, verifier) = self.authorize(authorize, scope).await;
        self.token(token, &code_form(&p["code"], &verifier), true).await
    }

    /// The whole OIDC flow at the base; the token answer.
    async fn oidc(&self, scope: &str) -> Value {
        let res = self.flow("/authorize", "/token", scope).await;
        assert_eq!(res.status(), 200);
        res.json().await.expect("json")
    }

    /// The whole flow at Entra's `common`; the token answer.
    async fn entra(&self, scope: &str) -> Value {
        let res =
            self.flow("/entra/common/oauth2/v2.0/authorize", "/entra/common/oauth2/v2.0/token", scope).await;
        res.json().await.expect("json")
    }

    /// GET the user-info endpoint `url` with `token`.
    async fn userinfo(&self, url: &str, token: &str) -> reqwest::Response {
        self.http.get(url).bearer_auth(token).send().await.expect("answer")
    }

    async fn verify(
        &self,
        id_token: &str,
        alg: Algorithm,
        iss: &str,
    ) -> Result<Value, jsonwebtoken::errors::Error> {
        let jwks: JwkSet = serde_json::from_value(self.json("/jwks").await).expect("a JWKS");
        let kid = jsonwebtoken::decode_header(id_token)?.kid.unwrap_or_default();
        let jwk = jwks.find(&kid).ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
        let mut v = Validation::new(alg);
        v.set_audience(&[CLIENT_ID]);
        v.set_issuer(&[iss]);
        Ok(jsonwebtoken::decode::<Value>(id_token, &DecodingKey::from_jwk(jwk)?, &v)?.claims)
    }
}

#[tokio::test]
async fn openid_connect_at_the_base() {
    let r = Run::new().await;
    let meta = r.json("/.well-known/openid-configuration").await;
    assert_eq!(meta["issuer"], json!(r.up.base));
    assert_eq!(meta["token_endpoint"], json!(r.up.url("/token")));
    assert_eq!(r.json("/jwks").await["keys"].as_array().map(Vec::len), Some(2));

    let bad = r
        .get(&format!("/authorize?client_id={CLIENT_ID}&redirect_uri={CB}&response_type=code&state=s"))
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap_or_default().contains("code_challenge"));
    let other =
        r.get(&format!("/authorize?client_id={CLIENT_ID}&redirect_uri=https://evil.example/cb")).await;
    assert_eq!(other.status(), 400);

    let mut who = UpstreamUser::new("alice-sub", "alice@upstream.example");
    who.email_verified = Some(json!("true"));
    r.up.sign_in_as(who);
    let (p, verifier) = r.authorize("/authorize", "openid email profile").await;
    assert_eq!((p["state"].as_str(), p["iss"].as_str()), ("st", r.up.base.as_str()));
    let res = r.token("/token", &code_form(&p["code"], "not-the-verifier"), true).await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_grant");
    // The code was spent by the failed attempt.
    assert_eq!(r.token("/token", &code_form(&p["code"], &verifier), true).await.status(), 400);

    let t = r.oidc("openid email profile").await;
    assert_eq!(r.up.last_client_auth(), Some("client_secret_basic"));
    let claims = r
        .verify(t["id_token"].as_str().expect("id_token"), Algorithm::RS256, &r.up.base)
        .await
        .expect("valid");
    assert_eq!((claims["sub"].as_str(), claims["nonce"].as_str()), (Some("alice-sub"), Some("n-1")));
    assert_eq!(claims["email_verified"], json!("true"));
    assert_eq!(claims["at_hash"], json!(at_hash(t["access_token"].as_str().unwrap_or_default())));

    let (userinfo, access) = (r.up.url("/userinfo"), t["access_token"].as_str().unwrap_or_default());
    let info: Value = r.userinfo(&userinfo, access).await.json().await.expect("json");
    assert_eq!(
        (info["sub"].as_str(), info["email"].as_str()),
        (Some("alice-sub"), Some("alice@upstream.example"))
    );
    r.up.userinfo_override(json!({"sub": "someone-else"}));
    let info: Value = r.userinfo(&userinfo, access).await.json().await.expect("json");
    assert_eq!(info["sub"], "someone-else");
    assert_eq!(r.userinfo(&userinfo, "nope").await.status(), 401);

    // The body's credentials, a wrong secret, a refresh.
    let (p, verifier) = r.authorize("/authorize", "openid").await;
    let mut post = code_form(&p["code"], &verifier).to_vec();
    post.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    let t: Value = r.token("/token", &post, false).await.json().await.expect("json");
    assert_eq!(r.up.last_client_auth(), Some("client_secret_post"));
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t["refresh_token"].as_str().unwrap_or_default()),
        ("client_id", CLIENT_ID),
        ("client_secret", "wrong"),
    ];
    assert_eq!(r.token("/token", &refresh, false).await.status(), 401);
    let refresh =
        [("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap_or_default())];
    assert_eq!(r.token("/token", &refresh, true).await.status(), 200);
    assert!(r.up.hits("/token") >= 6);
    assert_eq!(r.up.last_params("/authorize").expect("seen")["nonce"], "n-1");

    // Without openid it is a plain OAuth 2.0 provider.
    assert!(r.oidc("email").await.get("id_token").is_none());
}

#[tokio::test]
async fn front_channel_errors_and_tampering() {
    let r = Run::new().await;
    r.up.deny_next();
    let (p, _) = r.authorize("/authorize", "openid").await;
    assert_eq!((p["error"].as_str(), p["state"].as_str()), ("access_denied", "st"));
    r.up.error_next("server_error");
    assert_eq!(r.authorize("/authorize", "openid").await.0["error"], "server_error");
    assert!(r.authorize("/authorize", "openid").await.0.contains_key("code"));

    let token = |v: &Value| v["id_token"].as_str().unwrap_or_default().to_owned();
    r.up.tamper_next(Tamper::Es256);
    let es = token(&r.oidc("openid").await);
    assert!(r.verify(&es, Algorithm::ES256, &r.up.base).await.is_ok());
    for bad in
        [Tamper::WrongAud, Tamper::WrongIss, Tamper::Expired, Tamper::SignedByOtherKey, Tamper::UnknownKid]
    {
        r.up.tamper_next(bad.clone());
        assert!(
            r.verify(&token(&r.oidc("openid").await), Algorithm::RS256, &r.up.base).await.is_err(),
            "{bad:?}"
        );
    }
    r.up.tamper_next(Tamper::AlgNone);
    let none = token(&r.oidc("openid").await);
    assert!(none.ends_with('.') && none.starts_with("eyJhbGciOiJub25lIn0."));
    r.up.tamper_next(Tamper::Hs256WithPublicKey);
    let hs = token(&r.oidc("openid").await);
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[CLIENT_ID]);
    let key = DecodingKey::from_secret(r.up.rsa_public_pem().as_bytes());
    assert!(jsonwebtoken::decode::<Value>(&hs, &key, &v).is_ok());
    r.up.tamper_next(Tamper::NoIdToken);
    assert!(r.oidc("openid").await.get("id_token").is_none());
    r.up.tamper_next(Tamper::MultipleAudNoAzp);
    let c = claims(&token(&r.oidc("openid").await));
    assert_eq!((c["aud"].clone(), c.get("azp")), (json!([CLIENT_ID, "other"]), None));
    r.up.now_offset(-3600);
    assert!(claims(&token(&r.oidc("openid").await))["exp"].as_i64().unwrap_or_default() < now(0));

    r.up.slow_next(Duration::from_millis(300));
    let t0 = std::time::Instant::now();
    r.oidc("openid").await;
    assert!(t0.elapsed() >= Duration::from_millis(300));
    for with_length in [true, false] {
        r.up.huge_next(with_length);
        let res = r.flow("/authorize", "/token", "openid").await;
        assert_eq!(res.content_length().is_some(), with_length);
        let body: Value = res.json().await.expect("valid JSON");
        assert!(body["padding"].as_str().unwrap_or_default().len() >= 5 * 1024 * 1024);
    }
}

#[tokio::test]
async fn github_shapes() {
    let r = Run::new().await;
    let mut who = UpstreamUser::new("octo", "octo@upstream.example");
    who.email = None;
    who.github_emails =
        vec![("old@upstream.example".into(), false, true), ("octo@upstream.example".into(), true, true)];
    r.up.sign_in_as(who.clone());
    let (p, verifier) = r.authorize("/github/login/oauth/authorize", "read:user user:email").await;
    assert!(!p.contains_key("iss"));
    let mut form = vec![
        ("code", p["code"].as_str()),
        ("redirect_uri", CB),
        ("code_verifier", &verifier),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let t: Value =
        r.token("/github/login/oauth/access_token", &form, false).await.json().await.expect("json");
    assert_eq!(
        (t["token_type"].as_str(), t["scope"].as_str()),
        (Some("bearer"), Some("read:user,user:email"))
    );
    let again = r.token("/github/login/oauth/access_token", &form, false).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.expect("json")["error"], "bad_verification_code");
    let access = t["access_token"].as_str().unwrap_or_default();
    assert!(access.starts_with("gho_"));

    let api = |path: &str, ua: bool| {
        let req = r.http.get(r.up.url(path)).header("authorization", format!("token {access}"));
        if ua { req.header("user-agent", "ZeroAuth") } else { req }.send()
    };
    assert_eq!(api("/github/api/user", false).await.expect("answer").status(), 403);
    let user: Value = api("/github/api/user", true).await.expect("answer").json().await.expect("json");
    assert_eq!((user["id"].as_u64(), &user["email"]), (Some(who.github_id), &Value::Null));
    let emails: Value =
        api("/github/api/user/emails", true).await.expect("answer").json().await.expect("json");
    assert_eq!(
        emails[1],
        json!({"email": "octo@upstream.example", "primary": true, "verified": true,
            "visibility": "private"})
    );

    // Without Accept: application/json, a form answer.
    let (p, verifier) = r.authorize("/github/login/oauth/authorize", "read:user").await;
    form[0].1 = &p["code"];
    form[2].1 = &verifier;
    let res = r
        .http
        .post(r.up.url("/github/login/oauth/access_token"))
        .body(crate::form_encode(&form))
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("answer");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/x-www-form-urlencoded")
    );
    assert_eq!(pairs(&res.text().await.expect("body"))["token_type"], "bearer");
}

#[tokio::test]
async fn entra_shapes() {
    let r = Run::new().await;
    let common = r.json("/entra/common/v2.0/.well-known/openid-configuration").await;
    assert_eq!(common["issuer"], json!(format!("{}/entra/{{tenantid}}/v2.0", r.up.base)));
    let tenant = r.json(&format!("/entra/{TENANT}/v2.0/.well-known/openid-configuration")).await;
    let iss = format!("{}/entra/{TENANT}/v2.0", r.up.base);
    assert_eq!(tenant["issuer"], json!(iss));
    assert_eq!(r.json("/entra/common/discovery/v2.0/keys").await, r.json("/jwks").await);

    let mut who = UpstreamUser::new("entra-sub", "e@contoso.example");
    who.xms_edov = Some(true);
    r.up.sign_in_as(who.clone());
    let t = r.entra("openid profile email").await;
    let c =
        r.verify(t["id_token"].as_str().unwrap_or_default(), Algorithm::RS256, &iss).await.expect("valid");
    assert_eq!(
        (c["tid"].as_str(), c["oid"].as_str(), c["xms_edov"].as_bool()),
        (Some(TENANT), Some(who.oid.as_str()), Some(true))
    );
    assert!(c.get("email_verified").is_none());
    let (userinfo, access) = (
        common["userinfo_endpoint"].as_str().unwrap_or_default(),
        t["access_token"].as_str().unwrap_or_default(),
    );
    let info: Value = r.userinfo(userinfo, access).await.json().await.expect("json");
    assert_eq!(info["email"], "e@contoso.example");

    r.up.tamper_next(Tamper::WrongTenantIssuer);
    let c = claims(r.entra("openid").await["id_token"].as_str().unwrap_or_default());
    assert_eq!(
        (c["iss"].clone(), c["tid"].clone()),
        (json!(entra::issuer(&r.up.base, OTHER_TENANT)), json!(TENANT))
    );
}
