//! A registered client application and how it is to be answered: its grant
//! types, where it came from, its token settings and its dialect.

use serde::{Deserialize, Serialize};

use super::GrantType;
use crate::domain::Scope;

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
    /// Whether its people need a second factor; `None` for the deployment's
    /// policy (`ZEROAUTH_SECOND_FACTOR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<super::FactorPolicy>,
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
