//! Signing in through an upstream identity provider (SPEC.md section 11),
//! ZeroAuth's side as the provider's client: where the provider's
//! endpoints are ([`endpoints`]: discovery, or the preset's, or the
//! operator's), the code exchanged, and who the provider says signed in
//! ([`profile`]: a verified ID token, GitHub's `/user` and `/user/emails`,
//! or a mapped user-info answer). What that identity then finds or makes is
//! in [`accounts`]; the browser's side is the `upstream` sign-in method and
//! `GET /federation/callback`.

pub mod accounts;
mod http;
pub mod id_token;
pub mod kept;

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

use crate::app::App;
use crate::domain::{Provider, ProviderKind, UpstreamProfile};

pub use crate::secret::providers::{NoSecrets, Secrets, StaticSecrets};

/// The path every provider sends people back to.
pub const CALLBACK_PATH: &str = "/federation/callback";

/// Google's issuer, and the spelling without the scheme its tokens may use.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// Entra's multi-tenant issuer (discovery names `{tenantid}`).
pub const ENTRA_ISSUER: &str = "https://login.microsoftonline.com/common/v2.0";
/// GitHub: the issuer identities are kept under, and its endpoints.
pub const GITHUB_ISSUER: &str = "https://github.com";
const GITHUB_AUTHORIZE: &str = "https://github.com/login/oauth/authorize";
const GITHUB_TOKEN: &str = "https://github.com/login/oauth/access_token";
const GITHUB_USER: &str = "https://api.github.com/user";

/// A provider failed or misbehaved: the words for the log and the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

fn failed(what: &str, why: impl std::fmt::Display) -> Failed {
    Failed(format!("{what}: {why}"))
}

/// Where a provider's endpoints are, and what its ID tokens must say.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Where the person is sent.
    pub authorization: String,
    /// Where the code is exchanged.
    pub token: String,
    /// Where the person's details are read.
    pub userinfo: Option<String>,
    /// The ID tokens' key set (OpenID Connect kinds).
    pub jwks: Option<String>,
    /// The issuer ID tokens name (Entra's with `{tenantid}`).
    pub issuer: String,
    /// Whether the client secret goes in the token request's body
    /// (`client_secret_post`) rather than HTTP Basic.
    pub secret_in_body: bool,
}

/// The provider's endpoints: from discovery for OpenID Connect kinds (its
/// `issuer` must be the configured one: Entra's multi-tenant document names
/// `{tenantid}` instead), the preset's for GitHub, the operator's otherwise;
/// an endpoint the operator named wins.
pub async fn endpoints(app: &App, p: &Provider) -> Result<Endpoints, Failed> {
    let mut e = if p.kind.is_oidc() {
        let url = format!("{}/.well-known/openid-configuration", p.issuer.trim_end_matches('/'));
        let doc = http::document(app, &url, false).await.map_err(|e| failed("its discovery document", e))?;
        let field = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_owned);
        let issuer =
            field("issuer").ok_or_else(|| Failed("its discovery document names no issuer".into()))?;
        let multi_tenant = p.kind == ProviderKind::Entra && issuer.contains("{tenantid}");
        if issuer != p.issuer && !multi_tenant {
            return Err(Failed(format!(
                "its discovery document names the issuer {issuer:?}, not {:?}",
                p.issuer
            )));
        }
        Endpoints {
            authorization: field("authorization_endpoint").unwrap_or_default(),
            token: field("token_endpoint").unwrap_or_default(),
            userinfo: field("userinfo_endpoint"),
            jwks: field("jwks_uri"),
            issuer,
            // Basic (RFC 6749 2.3.1) unless the provider takes only the body.
            secret_in_body: doc
                .get("token_endpoint_auth_methods_supported")
                .and_then(Value::as_array)
                .is_some_and(|m| {
                    let has = |n: &str| m.iter().any(|v| v.as_str() == Some(n));
                    has("client_secret_post") && !has("client_secret_basic")
                }),
        }
    } else if p.kind == ProviderKind::GitHub {
        Endpoints {
            authorization: GITHUB_AUTHORIZE.into(),
            token: GITHUB_TOKEN.into(),
            userinfo: Some(GITHUB_USER.into()),
            jwks: None,
            issuer: p.issuer.clone(),
            // GitHub takes the secret in the body.
            secret_in_body: true,
        }
    } else {
        Endpoints {
            authorization: String::new(),
            token: String::new(),
            userinfo: None,
            jwks: None,
            issuer: p.issuer.clone(),
            secret_in_body: false,
        }
    };
    if let Some(u) = &p.authorization_endpoint {
        e.authorization = u.clone();
    }
    if let Some(u) = &p.token_endpoint {
        e.token = u.clone();
    }
    if let Some(u) = &p.userinfo_endpoint {
        e.userinfo = Some(u.clone());
    }
    if e.authorization.is_empty() || e.token.is_empty() {
        return Err(Failed("its authorization or token endpoint is unknown".into()));
    }
    Ok(e)
}

/// What the token endpoint answered.
pub struct Tokens {
    /// The access token at the provider.
    pub access_token: String,
    /// The ID token (OpenID Connect kinds).
    pub id_token: Option<String>,
    /// The access token's lifetime in seconds, if it said.
    pub expires_in: Option<i64>,
}

/// Exchanges the code (with the PKCE verifier) at the token endpoint.
pub async fn exchange(
    app: &App,
    p: &Provider,
    e: &Endpoints,
    code: &str,
    verifier: &str,
) -> Result<Tokens, Failed> {
    let secret = app
        .secrets
        .provider_secret(&p.id)
        .await
        .map_err(|e| failed("its client secret", e))?
        .ok_or_else(|| Failed("ZeroAuth has no client secret for it".into()))?;
    let redirect = app.url(CALLBACK_PATH);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", verifier),
    ];
    let (status, body) = http::token(app, &e.token, &form, (&p.client_id, &secret), e.secret_in_body)
        .await
        .map_err(|e| failed("its token endpoint", e))?;
    // GitHub answers errors with 200 and an `error` field.
    if let Some(err) = body.get("error").and_then(Value::as_str) {
        return Err(Failed(format!("its token endpoint refused the code ({err})")));
    }
    if status != 200 {
        return Err(Failed(format!("its token endpoint answered {status}")));
    }
    let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let access_token =
        text("access_token").ok_or_else(|| Failed("its token endpoint gave no access token".into()))?;
    Ok(Tokens {
        access_token,
        id_token: text("id_token"),
        expires_in: body.get("expires_in").and_then(Value::as_i64),
    })
}

/// Who signed in, as the provider vouches: from a verified ID token (and
/// the user info, for the address, when the token has none), GitHub's
/// user and its primary verified address, or the mapped user info.
pub async fn profile(
    app: &App,
    p: &Provider,
    e: &Endpoints,
    tokens: &Tokens,
    nonce: Option<&str>,
) -> Result<UpstreamProfile, Failed> {
    match p.kind {
        ProviderKind::Oidc | ProviderKind::Google | ProviderKind::Entra => {
            oidc_profile(app, p, e, tokens, nonce).await
        }
        ProviderKind::GitHub => github_profile(app, p, e, &tokens.access_token).await,
        ProviderKind::OAuth2 => {
            let url = e.userinfo.as_deref().ok_or_else(|| Failed("it has no user-info endpoint".into()))?;
            mapped(p, &user_info(app, url, &tokens.access_token).await?, &p.issuer)
        }
    }
}

async fn oidc_profile(
    app: &App,
    p: &Provider,
    e: &Endpoints,
    tokens: &Tokens,
    nonce: Option<&str>,
) -> Result<UpstreamProfile, Failed> {
    let token = tokens.id_token.as_deref().ok_or_else(|| Failed("it sent no ID token".into()))?;
    let jwks_url =
        e.jwks.as_deref().ok_or_else(|| Failed("its discovery document names no key set".into()))?;
    let also: &[&str] = if p.kind == ProviderKind::Google { &["accounts.google.com"] } else { &[] };
    let expect = id_token::Expect { issuer: &e.issuer, also, client_id: &p.client_id, nonce, now: app.now() };
    let mut keys =
        key_set(&*http::document(app, jwks_url, false).await.map_err(|e| failed("its key set", e))?)?;
    // Fetched afresh once when it lacks the token's key (the provider rotated).
    if id_token::names_unknown_key(token, &keys) {
        keys = key_set(&*http::document(app, jwks_url, true).await.map_err(|e| failed("its key set", e))?)?;
    }
    let (mut claims, issuer) = id_token::verify(token, &keys, &expect).map_err(|r| Failed(r.to_string()))?;
    // Google's identities are kept under one spelling of its issuer.
    let issuer = if p.kind == ProviderKind::Google { GOOGLE_ISSUER.to_owned() } else { issuer };
    // The address and whether it is verified come from one source: the ID
    // token when it has one, else the user info (whose `sub` must match).
    if claims.get("email").is_none()
        && let Some(url) = e.userinfo.as_deref()
    {
        let info = user_info(app, url, &tokens.access_token).await?;
        if info.get("sub") != claims.get("sub") {
            return Err(Failed("its user info is about someone else than its ID token".into()));
        }
        if let (Some(o), Some(email)) = (claims.as_object_mut(), info.get("email")) {
            o.insert("email".into(), email.clone());
            o.insert("email_verified".into(), info.get("email_verified").cloned().unwrap_or(Value::Null));
            if let Some(name) = info.get("name") {
                o.entry("name").or_insert(name.clone());
            }
        }
    }
    let mut profile = mapped(p, &claims, &issuer)?;
    // Entra sends no email_verified: an address counts only when the
    // domain's owner is verified (xms_edov), never by default (nOAuth).
    if p.kind == ProviderKind::Entra {
        profile.email_verified = p.trust_email && claims.get("xms_edov") == Some(&Value::Bool(true));
        profile.tenant = claims.get("tid").and_then(Value::as_str).map(str::to_ascii_lowercase);
    }
    Ok(profile)
}

async fn github_profile(
    app: &App,
    p: &Provider,
    e: &Endpoints,
    token: &str,
) -> Result<UpstreamProfile, Failed> {
    let url = e.userinfo.as_deref().unwrap_or(GITHUB_USER);
    let emails_url = format!("{}/emails", url.trim_end_matches('/'));
    let (user, emails) =
        tokio::join!(http::user_info(app, url, token), http::user_info(app, &emails_url, token));
    let user = user.map_err(|e| failed("its user answer", e))?;
    // The numeric id, never the login (which can be renamed and reused).
    let subject =
        user.get("id").and_then(Value::as_u64).ok_or_else(|| Failed("its user has no numeric id".into()))?;
    // The primary address, and only if GitHub verified it; without the
    // user:email scope the list is missing and there is no address.
    let primary = emails.ok().and_then(|list| {
        list.as_array()?
            .iter()
            .find(|m| {
                m.get("primary") == Some(&Value::Bool(true)) && m.get("verified") == Some(&Value::Bool(true))
            })
            .and_then(|m| m.get("email")?.as_str().map(str::to_owned))
    });
    let name = user.get("name").and_then(Value::as_str).or_else(|| user.get("login").and_then(Value::as_str));
    Ok(UpstreamProfile {
        provider: p.id.clone(),
        issuer: p.issuer.clone(),
        subject: subject.to_string(),
        email_verified: primary.is_some() && p.trust_email,
        email: primary,
        name: name.map(str::to_owned),
        tenant: None,
    })
}

/// The user info, or why there is none.
async fn user_info(app: &App, url: &str, access_token: &str) -> Result<Value, Failed> {
    http::user_info(app, url, access_token).await.map_err(|e| failed("its user info", e))
}

/// The keys of a JWKS that ZeroAuth can read: one of a type it does not
/// know (a new curve, say) is skipped rather than failing the whole set.
fn key_set(doc: &Value) -> Result<JwkSet, Failed> {
    let list =
        doc.get("keys").and_then(Value::as_array).ok_or_else(|| Failed("its key set is malformed".into()))?;
    let keys = list.iter().filter_map(|k| serde_json::from_value(k.clone()).ok()).collect();
    Ok(JwkSet { keys })
}

/// A profile from claims by the provider's mapping (OpenID Connect kinds
/// use the standard names).
fn mapped(p: &Provider, claims: &Value, issuer: &str) -> Result<UpstreamProfile, Failed> {
    let m = if p.kind == ProviderKind::OAuth2 { p.claims.clone() } else { Default::default() };
    let field = |name: &Option<String>| name.as_deref().and_then(|n| claims.get(n));
    let subject = match claims.get(&m.subject) {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(Failed(format!("it named no subject ({})", m.subject))),
    };
    let email = field(&m.email).and_then(Value::as_str).map(str::to_owned);
    // Exactly true (or Google's "true"): anything else is unverified.
    let vouched = matches!(field(&m.email_verified), Some(Value::Bool(true)))
        || field(&m.email_verified).and_then(Value::as_str) == Some("true");
    Ok(UpstreamProfile {
        provider: p.id.clone(),
        issuer: issuer.to_owned(),
        subject,
        email_verified: vouched && p.trust_email && email.is_some(),
        email,
        name: field(&m.name).and_then(Value::as_str).map(str::to_owned),
        tenant: None,
    })
}
