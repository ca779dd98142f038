//! The records ZeroAuth keeps: clients, users, authorization codes, grants
//! (token families) and access tokens. Secrets appear here only as digests.

use serde::{Deserialize, Serialize};

mod client;
mod factor;
mod flow;
mod grant_type;
mod person;
mod provider;
mod scope;
mod token_kind;

pub use client::{AccessTokenFormat, Client, ClientSource, Dialect, TokenSettings};
pub use factor::{Acr, Ceremony, CeremonyKind, FactorPolicy, PasskeyData, TotpData};
pub use flow::{Challenge, ChallengeKind, Flow, Proof};
pub use grant_type::{GrantSpec, GrantType};
pub use person::{Amr, Credential, CredentialData, CredentialKind, Identifier, UpstreamLink, User};
pub use provider::{ClaimMapping, Provider, ProviderKind, UpstreamProfile, UpstreamState};
pub use scope::{Scope, ScopeError};
pub use token_kind::AccessTokenKind;

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
    /// The person's username when they approved it (how records of an
    /// earlier release find a person the table still keeps in its old shape).
    pub username: Option<String>,
    /// The person who approved it.
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
    /// How the person signed in (RFC 8176 `amr`); empty on records of an
    /// earlier release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<Amr>,
    /// The upstream provider the person signed in through (the ID token's
    /// `idp`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The person's upstream tokens, sealed (`federation::kept`), when the
    /// provider keeps them for a protected resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
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
    /// The person's username when they approved it (see [`CodeRecord::username`]).
    pub username: Option<String>,
    /// The person.
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
    /// How the person signed in (RFC 8176 `amr`); empty on records of an
    /// earlier release.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<Amr>,
    /// The upstream provider the person signed in through (the ID token's
    /// `idp`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// The person's upstream tokens, sealed (`federation::kept`), when the
    /// provider keeps them for a protected resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
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
    /// SHA-256 digest of an opaque token; a JWT's `jti`, an API key's id
    /// (see [`AccessTokenKind`]).
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
    /// What kind of token it is; opaque when a stored record names none
    /// (see [`AccessTokenRecord::with_legacy_kind`]).
    #[serde(default)]
    pub kind: AccessTokenKind,
}
