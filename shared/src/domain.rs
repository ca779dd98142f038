//! The records ZeroAuth keeps: clients, users, authorization codes, grants
//! (token families) and access tokens. Secrets appear here only as digests.

use serde::{Deserialize, Serialize};

use crate::oauth::scope::Scope;

/// The OAuth grant types a client can be registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 4.1.
    AuthorizationCode,
    /// RFC 6749 6.
    RefreshToken,
    /// RFC 6749 4.4.
    ClientCredentials,
    /// RFC 8693: an access token in, a JWT access token out.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// The wire name of the grant type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials, Self::TokenExchange]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// The public identifier.
    pub client_id: String,
    /// The name shown to people on the consent page.
    pub name: String,
    /// SHA-256 digest of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    /// Registered redirect URIs, compared as exact strings.
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may ask for; also its default scope.
    pub scopes: Scope,
    /// First-party clients skip the consent step.
    pub trusted: bool,
    /// A disabled client gets nothing.
    pub disabled: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// How its tokens are made and where sign-out may send people.
    #[serde(default)]
    pub tokens: TokenSettings,
    /// Who registered it.
    #[serde(default)]
    pub source: ClientSource,
    /// When it stops existing (epoch seconds): self-registered clients
    /// expire when unused, and a fetched metadata document when its cache
    /// time runs out. `None` for the operator's clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The names its own documentation uses (SPEC.md section 9).
    #[serde(default)]
    pub dialect: Dialect,
}

/// How an app written against another server's documentation names things:
/// extra names ZeroAuth answers with beside the standard ones, and extra ids
/// the client is known by. A client without a dialect sees none of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dialect {
    /// Also send the code on the redirect under this name (Iternio's `auth_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_param: Option<String>,
    /// Also send the access token in the token response under this name
    /// (Iternio's `user_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_field: Option<String>,
    /// Other ids that name this client (Ianum's gate alias).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_id_aliases: Vec<String>,
}

impl Dialect {
    /// Whether it changes nothing.
    pub fn is_standard(&self) -> bool {
        self == &Self::default()
    }
}

/// Who registered a client; only the operator's clients can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    /// The operator (CLI, seed file).
    #[default]
    Operator,
    /// The client itself, at `POST /register` (RFC 7591).
    Registration,
    /// A Client ID Metadata Document fetched from its `https` client id.
    MetadataDocument,
}

impl ClientSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Registration => "registration",
            Self::MetadataDocument => "metadata_document",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Operator, Self::Registration, Self::MetadataDocument].into_iter().find(|k| k.as_str() == s)
    }
}

/// The format of a client's access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormat {
    /// Random and stored; checked at `/introspect` (the default).
    #[default]
    Opaque,
    /// A signed JWT (RFC 9068) an API verifies with the published keys; it
    /// cannot be recalled before it expires.
    Jwt,
}

/// How a client's tokens are made (RFC 9068; OpenID Connect Registration's
/// `id_token_signed_response_alg`; RP-Initiated Logout's
/// `post_logout_redirect_uris`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TokenSettings {
    /// Opaque or JWT access tokens.
    #[serde(default)]
    pub access_token_format: AccessTokenFormat,
    /// The algorithm of its JWT access tokens.
    #[serde(default)]
    pub access_token_alg: crate::keys::Alg,
    /// The algorithm of its ID tokens.
    #[serde(default)]
    pub id_token_alg: crate::keys::Alg,
    /// Its access tokens' lifetime in seconds; `None` for the deployment's
    /// default (one hour opaque, ten minutes JWT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    /// Its refresh tokens' lifetime in seconds; `None` for the deployment's
    /// default (30 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_ttl: Option<i64>,
    /// Where `/logout` may send people back to, compared as exact strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
}

impl Client {
    /// Public clients have no secret and must use PKCE.
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Whether the client is registered for `grant`.
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether the record still exists at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|t| t > now)
    }

    /// Whether it skips consent: only the operator can vouch for a client.
    pub fn is_trusted(&self) -> bool {
        self.trusted && self.source == ClientSource::Operator
    }
}

/// A protected resource (RFC 8707): an API or MCP server that accepts
/// ZeroAuth's access tokens, named by its canonical URI, which becomes the
/// tokens' audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// The canonical URI: absolute, without a fragment.
    pub uri: String,
    /// The scopes it accepts.
    pub scopes: Scope,
    /// The confidential clients the resource server authenticates as: they
    /// may introspect tokens whose audience it is (RFC 7662 2.1).
    #[serde(default)]
    pub clients: Vec<String>,
    /// Epoch seconds.
    pub created_at: i64,
}

/// An API key (SPEC.md section 9): a long-lived, scoped, revocable opaque
/// token an operator issues for a client, and optionally a person. The key
/// itself is shown once; only its digest is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The public id, part of the key, used to list and revoke it.
    pub id: String,
    /// SHA-256 digest of the whole key.
    pub digest: String,
    /// The client it acts as.
    pub client_id: String,
    /// The person it acts for, if any.
    pub username: Option<String>,
    /// That person's subject identifier.
    pub sub: Option<String>,
    /// The scopes it carries.
    pub scope: Scope,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds; the key is dead from then on.
    pub expires_at: i64,
    /// When it was last accepted (epoch seconds, to the minute).
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Sign-in name, stored lower-case; the key.
    pub username: String,
    /// Stable subject identifier handed to clients.
    pub sub: String,
    /// Optional email claim.
    pub email: Option<String>,
    /// Optional display name claim.
    pub name: Option<String>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// A disabled user cannot sign in and their tokens stop working.
    pub disabled: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// How many times the person signed out: each sign-out ends every
    /// session started before it.
    #[serde(default)]
    pub sign_outs: i64,
}

impl User {
    /// Whether the person may sign in and their tokens may be issued and used.
    pub fn is_active(&self) -> bool {
        !self.disabled
    }

    /// Whether this is the active person with the subject `sub`. Records
    /// find a person by username, which can be freed and taken again by
    /// someone else; the immutable `sub` says whether it is still the same
    /// person.
    pub fn is_active_as(&self, sub: &str) -> bool {
        self.is_active() && self.sub == sub
    }

    /// A short digest of the password hash and the sign-outs: it changes
    /// with the password and at each sign-out, so a session bound to it ends then.
    pub fn credential_tag(&self) -> String {
        let digest = match self.sign_outs {
            0 => crate::crypto::digest(&self.password_hash),
            n => crate::crypto::digest(&format!("{}#{n}", self.password_hash)),
        };
        digest.chars().take(16).collect()
    }
}

/// What a redeemed code turned into, kept on the code record so a replay can
/// find (and revoke) it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Redemption {
    /// The grant the redemption created.
    pub grant_id: String,
    /// Random id of the redemption request, to tell our own retried write from a replay.
    pub consume_id: String,
}

/// An authorization code (RFC 6749 4.1.2), stored under its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    /// SHA-256 digest of the code.
    pub digest: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was issued for.
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (RFC 6749 4.1.3).
    pub redirect_uri_given: bool,
    /// Granted scopes.
    pub scope: Scope,
    /// The user who approved it.
    pub username: String,
    /// The user's subject identifier.
    pub sub: String,
    /// PKCE S256 challenge, if the request had one.
    pub code_challenge: Option<String>,
    /// OpenID Connect nonce, if the request had one.
    pub nonce: Option<String>,
    /// The authorization request's `state`, returned with the tokens to
    /// clients that do not repeat it (Iternio's dialect).
    pub state: Option<String>,
    /// Epoch seconds.
    pub issued_at: i64,
    /// The code can be redeemed while `now < valid_until`.
    pub valid_until: i64,
    /// The record (and with it replay detection) is kept until this time.
    pub expires_at: i64,
    /// Set once the code is redeemed.
    pub redeemed: Option<Redemption>,
    /// When the person signed in (OpenID Connect `auth_time`), epoch seconds.
    #[serde(default)]
    pub auth_time: i64,
    /// The protected resource (RFC 8707) the tokens are for; `None` for
    /// ZeroAuth's own `/userinfo`.
    #[serde(default)]
    pub resource: Option<String>,
}

/// A grant: the family of tokens issued from one authorization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// Random id, also embedded in the family's tokens.
    pub grant_id: String,
    /// The client.
    pub client_id: String,
    /// The user.
    pub username: String,
    /// The user's subject identifier.
    pub sub: String,
    /// Granted scopes.
    pub scope: Scope,
    /// Digest of the current refresh token; `None` when the grant has no
    /// refresh token (its client is not registered for them).
    pub refresh_digest: Option<String>,
    /// Digests of refresh tokens already rotated away (reuse detection).
    pub retired_digests: Vec<String>,
    /// The current refresh token is valid while `now < refresh_expires_at`.
    pub refresh_expires_at: i64,
    /// A revoked family's tokens all stop working.
    pub revoked: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// The record is kept until this time.
    pub expires_at: i64,
    /// When the person signed in (OpenID Connect `auth_time`), epoch seconds.
    #[serde(default)]
    pub auth_time: i64,
    /// The protected resource (RFC 8707) the tokens are for; `None` for
    /// ZeroAuth's own `/userinfo`.
    #[serde(default)]
    pub resource: Option<String>,
    /// The latest rotation, when the refresh grace window is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rotation: Option<LastRotation>,
}

/// The latest rotation of a grant's refresh token, kept so that a client
/// that lost the response can present the old token again within the
/// refresh grace window and get the same pair (never another).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRotation {
    /// Digest of the refresh token that was rotated away.
    pub presented_digest: String,
    /// When (epoch seconds).
    pub at: i64,
    /// The pair it produced, encrypted under a key derived from the old
    /// refresh token: a copy of the table cannot read it.
    pub sealed: String,
}

/// An access token, stored under its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    /// SHA-256 digest of the token.
    pub digest: String,
    /// The grant it belongs to; `None` for `client_credentials` tokens.
    pub grant_id: Option<String>,
    /// The client.
    pub client_id: String,
    /// The user, for tokens issued on a user's behalf.
    pub username: Option<String>,
    /// The user's subject identifier.
    pub sub: Option<String>,
    /// Granted scopes.
    pub scope: Scope,
    /// Epoch seconds.
    pub issued_at: i64,
    /// Epoch seconds; the token is dead from then on.
    pub expires_at: i64,
    /// The protected resource it is for (RFC 8707), its `aud`.
    #[serde(default)]
    pub audience: Option<String>,
}
