//! The signed tokens: OpenID Connect ID tokens (Core 2, 3.1.3.6) and JWT
//! access tokens (RFC 9068), made and read with [`crate::keys`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::{AccessTokenFormat, AccessTokenKind, AccessTokenRecord, Acr, Amr, Client, User};
use crate::error::OAuthError;
use crate::keys::{self, Alg};
use crate::oauth::{Scope, claims, tokens};
use crate::secret::AccessToken;

/// The header `typ` of a JWT access token (RFC 9068 2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// The header `typ` of an ID token.
pub const ID_TOKEN_TYP: &str = "JWT";
/// Default lifetime of a JWT access token: it cannot be recalled before it
/// expires, so it is short.
pub const JWT_ACCESS_TOKEN_TTL: i64 = 600;
/// The longest lifetime a client may set for its access tokens: retired
/// keys are kept published for longer than this.
pub const MAX_ACCESS_TOKEN_TTL: i64 = 86_400;

/// The claims of a JWT access token (RFC 9068 2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuer.
    pub iss: String,
    /// The person, or the client for `client_credentials`.
    pub sub: String,
    /// The resource the token is for.
    pub aud: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Granted scope.
    pub scope: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Unique id.
    pub jti: String,
    /// The token family (grant) a person's token belongs to, so it dies
    /// when the family is revoked. Absent for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub za_grant: Option<String>,
    /// When the person signed in (absent for `client_credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How strong that sign-in was ([`Acr`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// How the person signed in (RFC 8176).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// Who an access token is for: the person's grant, or the client itself.
pub struct Subject<'a> {
    /// `(grant id, username, sub)` of a person's grant; `None` for the client.
    pub grant: Option<(&'a str, Option<&'a str>, &'a str)>,
    /// The protected resource the token is for (RFC 8707), its audience.
    pub resource: Option<&'a str>,
    /// The person's sign-in behind the grant: `auth_time` and `amr`.
    pub sign_in: Option<(i64, &'a [Amr])>,
}

/// An access token made for a client: the token, its lifetime, and the
/// record to store (opaque tokens only; a JWT is not stored).
pub struct MintedAccess {
    /// The token.
    pub token: AccessToken,
    /// Seconds it lives.
    pub expires_in: i64,
    /// The record to store, for opaque tokens.
    pub record: Option<AccessTokenRecord>,
}

/// The access token's audience when no resource was asked for: ZeroAuth's
/// own `/userinfo`, under the issuer.
pub fn default_audience(app: &App) -> String {
    app.config.issuer.clone()
}

/// Makes an access token in the client's format.
pub fn mint_access(
    app: &App,
    client: &Client,
    subject: Subject<'_>,
    scope: &Scope,
    now: i64,
) -> Result<MintedAccess, OAuthError> {
    let settings = &client.tokens;
    match settings.access_token_format {
        AccessTokenFormat::Opaque => {
            let expires_in = settings.access_token_ttl.unwrap_or(app.config.access_token_ttl);
            let token = tokens::mint_access(subject.grant.map(|g| g.0))?;
            let record = AccessTokenRecord {
                digest: tokens::digest(token.secret()),
                grant_id: subject.grant.map(|g| g.0.to_owned()),
                client_id: client.client_id.clone(),
                username: subject.grant.and_then(|g| g.1.map(str::to_owned)),
                sub: subject.grant.map(|g| g.2.to_owned()),
                scope: scope.clone(),
                issued_at: now,
                expires_at: now + expires_in,
                audience: subject.resource.map(str::to_owned),
                kind: AccessTokenKind::Opaque,
            };
            Ok(MintedAccess { token, expires_in, record: Some(record) })
        }
        AccessTokenFormat::Jwt => {
            let expires_in = settings.access_token_ttl.unwrap_or(JWT_ACCESS_TOKEN_TTL);
            let claims = AccessClaims {
                iss: app.config.issuer.clone(),
                sub: subject.grant.map_or_else(|| client.client_id.clone(), |g| g.2.to_owned()),
                aud: subject.resource.map_or_else(|| default_audience(app), str::to_owned),
                client_id: client.client_id.clone(),
                scope: scope.to_string(),
                iat: now,
                exp: now + expires_in,
                jti: tokens::rng(crate::crypto::random_string(16))?,
                za_grant: subject.grant.map(|g| g.0.to_owned()),
                auth_time: subject.sign_in.map(|s| s.0),
                acr: subject.sign_in.filter(|s| !s.1.is_empty()).map(|s| Acr::of(s.1).as_str().to_owned()),
                amr: subject.sign_in.map(|s| Amr::names(s.1)).unwrap_or_default(),
            };
            let jwt = app
                .config
                .keys
                .sign(settings.access_token_alg, ACCESS_TOKEN_TYP, &claims)
                .map_err(OAuthError::server)?;
            Ok(MintedAccess { token: AccessToken::new(jwt), expires_in, record: None })
        }
    }
}

/// The claims of a JWT access token this deployment signed and that has
/// not expired; `None` for anything else.
pub fn read_access(app: &App, token: &str) -> Option<AccessClaims> {
    if !keys::looks_like_jwt(token) {
        return None;
    }
    app.config.keys.verify(token, ACCESS_TOKEN_TYP, &app.config.issuer, Some(app.now()))
}

/// What an ID token says about the sign-in.
pub struct SignIn<'a> {
    /// When the person signed in.
    pub auth_time: i64,
    /// How they signed in (RFC 8176).
    pub amr: &'a [Amr],
    /// The authorization request's `nonce`.
    pub nonce: Option<&'a str>,
    /// The upstream provider they signed in through (`idp`).
    pub idp: Option<&'a str>,
}

/// The ID token for a grant whose scope includes `openid`, else `None`
/// (OpenID Connect Core 3.1.3.3, 12.2).
pub fn id_token(
    app: &App,
    client: &Client,
    user: &User,
    scope: &Scope,
    sign_in: SignIn<'_>,
    access_token: &AccessToken,
    now: i64,
) -> Result<Option<String>, OAuthError> {
    if !scope.contains("openid") {
        return Ok(None);
    }
    let alg = client.tokens.id_token_alg;
    let mut body = claims::for_scope(user, scope);
    let extra = json!({
        "iss": app.config.issuer,
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": now,
        "exp": now + app.config.id_token_ttl,
        "auth_time": sign_in.auth_time,
        "at_hash": keys::half_hash(alg, access_token.secret()),
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
        b.extend(e);
        if let Some(nonce) = sign_in.nonce {
            b.insert("nonce".into(), json!(nonce));
        }
        if !sign_in.amr.is_empty() {
            b.insert("amr".into(), json!(Amr::names(sign_in.amr)));
            b.insert("acr".into(), json!(Acr::of(sign_in.amr).as_str()));
        }
        if let Some(idp) = sign_in.idp {
            b.insert("idp".into(), json!(idp));
        }
    }
    app.config.keys.sign(alg, ID_TOKEN_TYP, &body).map(Some).map_err(OAuthError::server)
}

/// The subject of an ID token this deployment issued to `client_id`,
/// expired or not (an `id_token_hint`); `None` for anything else.
pub fn id_token_subject(app: &App, token: &str, client_id: Option<&str>) -> Option<(String, String)> {
    #[derive(Deserialize)]
    struct Hint {
        sub: String,
        aud: Value,
    }
    if !keys::looks_like_jwt(token) {
        return None;
    }
    let hint: Hint = app.config.keys.verify(token, ID_TOKEN_TYP, &app.config.issuer, None)?;
    let aud = match hint.aud {
        Value::String(a) => a,
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned)?,
        _ => return None,
    };
    client_id.is_none_or(|c| c == aud).then_some((hint.sub, aud))
}

/// The algorithms an ID token or JWT access token can be signed with here.
pub fn signing_algs(app: &App) -> Vec<&'static str> {
    app.config.keys.published_algs().into_iter().map(Alg::as_str).collect()
}
