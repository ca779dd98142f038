//! Configuration from the environment (SPEC.md section 4).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::secret::SigningKey;

pub mod factors;
pub mod federation;
pub mod self_service;

/// Lifetimes and limits, in seconds unless named otherwise.
#[derive(Debug, Clone)]
pub struct Config {
    /// The issuer URL (RFC 8414), without a trailing slash; also the base of every endpoint.
    pub issuer: String,
    /// The DynamoDB table.
    pub table: String,
    /// Signs the authorization request blob and the session cookie.
    pub signing_key: SigningKey,
    /// Access-token lifetime (default 3600).
    pub access_token_ttl: i64,
    /// Refresh-token lifetime (default 30 days).
    pub refresh_token_ttl: i64,
    /// Authorization-code validity (default 30).
    pub code_ttl: i64,
    /// How long a code's record is kept after issue, for replay detection (default 600).
    pub code_retention: i64,
    /// How long the sign-in page may sit before it is posted (default 600).
    pub login_ttl: i64,
    /// Signed-in session lifetime (default 8 hours).
    pub session_ttl: i64,
    /// Failed sign-ins per account within a throttle window before it is refused.
    pub max_failures_per_user: u32,
    /// Failed sign-ins per client IP within a throttle window before it is refused.
    pub max_failures_per_ip: u32,
    /// The throttle window (default 300).
    pub throttle_window: i64,
    /// ID-token lifetime (default 3600).
    pub id_token_ttl: i64,
    /// The scopes the deployment grants, as discovery lists them
    /// (`ZEROAUTH_SCOPES_SUPPORTED`, or the registered clients' for `serve`);
    /// `None` lists the OpenID Connect scopes.
    pub scopes_supported: Option<Vec<String>>,
    /// The keys that sign ID tokens and JWT access tokens, and the published
    /// ones that verify them (none until the caller sets them: the functions
    /// from SSM, `serve` from a file or an ephemeral set).
    pub keys: std::sync::Arc<crate::keys::Keys>,
    /// Dynamic client registration (RFC 7591).
    pub registration: Registration,
    /// Seconds in which a refresh token just rotated away, presented again,
    /// returns the pair its rotation produced instead of revoking the
    /// family (`ZEROAUTH_REFRESH_GRACE`, 0 to 300; default 0: off).
    pub refresh_grace: i64,
    /// Client ID Metadata Documents (`https` client ids).
    pub client_metadata: ClientMetadataDocuments,
    /// Extra method + path pairs mapped to endpoints
    /// (`ZEROAUTH_ROUTE_ALIASES`; SPEC.md section 9).
    pub route_aliases: crate::paths::aliases::RouteAliases,
    /// Sign-up, verification, reset and the mail limits (SPEC.md section 11).
    pub self_service: self_service::SelfService,
    /// Upstream identity providers: how they are reached.
    pub federation: federation::Federation,
    /// Second factors and passkeys.
    pub factors: factors::Factors,
}

/// Whether and from where `https` client ids are fetched as Client ID
/// Metadata Documents.
#[derive(Debug, Clone)]
pub struct ClientMetadataDocuments {
    /// `ZEROAUTH_CLIENT_METADATA_DOCUMENTS=off` turns them off (default on).
    pub enabled: bool,
    /// `ZEROAUTH_CLIENT_METADATA_DOMAINS`: when not empty, only these
    /// domains (and their subdomains) are fetched from.
    pub domains: Vec<String>,
    /// `ZEROAUTH_CLIENT_METADATA_TEST_HOSTS`: hosts allowed to resolve to
    /// private or loopback addresses. For tests only.
    pub test_hosts: Vec<String>,
    /// `ZEROAUTH_CLIENT_METADATA_CA_FILE`: an extra trusted root (PEM), so
    /// tests can serve documents with their own certificate.
    pub extra_root_pem: Option<Vec<u8>>,
    /// The HTTP client, made on first use.
    pub http: std::sync::Arc<std::sync::OnceLock<reqwest::Client>>,
}

impl Default for ClientMetadataDocuments {
    fn default() -> Self {
        Self {
            enabled: true,
            domains: Vec::new(),
            test_hosts: Vec::new(),
            extra_root_pem: None,
            http: std::sync::Arc::default(),
        }
    }
}

impl ClientMetadataDocuments {
    /// Reads the `ZEROAUTH_CLIENT_METADATA_*` variables.
    pub fn from_env() -> Result<Self, ConfigError> {
        let list = |var: &str| -> Vec<String> {
            std::env::var(var)
                .map(|v| v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_ascii_lowercase).collect())
                .unwrap_or_default()
        };
        let enabled = match std::env::var("ZEROAUTH_CLIENT_METADATA_DOCUMENTS").ok().as_deref().map(str::trim)
        {
            None | Some("") | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError(format!(
                    "ZEROAUTH_CLIENT_METADATA_DOCUMENTS must be on or off, got {other:?}"
                )));
            }
        };
        let extra_root_pem = match std::env::var("ZEROAUTH_CLIENT_METADATA_CA_FILE") {
            Ok(path) => Some(std::fs::read(&path).map_err(|e| {
                ConfigError(format!("cannot read ZEROAUTH_CLIENT_METADATA_CA_FILE {path:?}: {e}"))
            })?),
            Err(_) => None,
        };
        Ok(Self {
            enabled,
            domains: list("ZEROAUTH_CLIENT_METADATA_DOMAINS"),
            test_hosts: list("ZEROAUTH_CLIENT_METADATA_TEST_HOSTS"),
            extra_root_pem,
            http: std::sync::Arc::default(),
        })
    }
}

/// Who may register clients at `POST /register` (RFC 7591), and for how long.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Open, behind an initial access token, or off.
    pub policy: RegistrationPolicy,
    /// A registered client expires after this long unused (default 30 days).
    pub client_ttl: i64,
    /// Registrations one IP address may make per hour (default 20).
    pub per_ip_per_hour: u32,
}

/// Whether `POST /register` is served (`ZEROAUTH_REGISTRATION`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationPolicy {
    /// Not served (404) and not advertised.
    Off,
    /// Anyone may register a client.
    Open,
    /// Only with `Authorization: Bearer` and the initial access token, of
    /// which only the SHA-256 digest is kept.
    InitialAccessToken {
        /// The token's digest.
        digest: String,
    },
}

impl Registration {
    /// Reads `ZEROAUTH_REGISTRATION` (`off`, `open` or `token`, with
    /// `ZEROAUTH_REGISTRATION_TOKEN`), `ZEROAUTH_REGISTERED_CLIENT_TTL` and
    /// `ZEROAUTH_REGISTRATIONS_PER_IP`; `default` when the policy is unset.
    pub fn from_env(default: RegistrationPolicy) -> Result<Self, ConfigError> {
        let policy = match std::env::var("ZEROAUTH_REGISTRATION").ok().as_deref().map(str::trim) {
            None | Some("") => default,
            Some("off") => RegistrationPolicy::Off,
            Some("open") => RegistrationPolicy::Open,
            Some("token") => {
                let raw = std::env::var("ZEROAUTH_REGISTRATION_TOKEN").ok();
                let digest = std::env::var("ZEROAUTH_REGISTRATION_TOKEN_DIGEST").ok();
                match (raw.as_deref().map(str::trim), digest.as_deref().map(str::trim)) {
                    (Some(t), _) if t.len() >= 16 => {
                        RegistrationPolicy::InitialAccessToken { digest: crate::crypto::digest(t) }
                    }
                    (_, Some(d)) if d.len() == 43 => {
                        RegistrationPolicy::InitialAccessToken { digest: d.to_owned() }
                    }
                    _ => {
                        return Err(ConfigError(
                            "ZEROAUTH_REGISTRATION=token needs ZEROAUTH_REGISTRATION_TOKEN (at least 16 \
                             characters) or ZEROAUTH_REGISTRATION_TOKEN_DIGEST (its SHA-256, base64url)"
                                .into(),
                        ));
                    }
                }
            }
            Some(other) => {
                return Err(ConfigError(format!(
                    "ZEROAUTH_REGISTRATION must be off, open or token, got {other:?}"
                )));
            }
        };
        let defaults = Self::default();
        let per_ip = seconds("ZEROAUTH_REGISTRATIONS_PER_IP", i64::from(defaults.per_ip_per_hour))?;
        Ok(Self {
            policy,
            client_ttl: seconds("ZEROAUTH_REGISTERED_CLIENT_TTL", defaults.client_ttl)?,
            per_ip_per_hour: u32::try_from(per_ip).unwrap_or(u32::MAX),
        })
    }
}

impl Default for Registration {
    fn default() -> Self {
        Self { policy: RegistrationPolicy::Off, client_ttl: 30 * 86_400, per_ip_per_hour: 20 }
    }
}

/// A configuration value is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Defaults for everything but the issuer and the key.
    pub fn new(issuer: impl Into<String>, signing_key: SigningKey) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            table: "zeroauth".into(),
            signing_key,
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 86_400,
            code_ttl: 30,
            code_retention: 600,
            login_ttl: 600,
            session_ttl: 8 * 3600,
            max_failures_per_user: 10,
            max_failures_per_ip: 50,
            throttle_window: 300,
            id_token_ttl: 3600,
            scopes_supported: None,
            keys: std::sync::Arc::new(crate::keys::Keys::empty()),
            registration: Registration::default(),
            client_metadata: ClientMetadataDocuments::default(),
            refresh_grace: 0,
            route_aliases: crate::paths::aliases::RouteAliases::default(),
            self_service: self_service::SelfService::default(),
            federation: federation::Federation { state_ttl: 600, ..Default::default() },
            factors: factors::Factors::default(),
        }
    }

    /// The configuration from the environment: `ZEROAUTH_ISSUER`,
    /// `ZEROAUTH_TABLE`, `ZEROAUTH_SIGNING_KEY` and the optional lifetimes. A
    /// random key is made when `ZEROAUTH_SIGNING_KEY` is unset; the flag says
    /// whether it was.
    pub fn from_env_or_ephemeral_key() -> Result<(Self, bool), ConfigError> {
        match std::env::var("ZEROAUTH_SIGNING_KEY") {
            Ok(v) => Ok((Self::from_env_with_key(parse_signing_key(&v)?)?, false)),
            Err(_) => {
                let bytes = crate::crypto::random_bytes(32).map_err(|e| ConfigError(e.to_string()))?;
                Ok((Self::from_env_with_key(SigningKey::new(bytes))?, true))
            }
        }
    }

    /// Reads everything but the key from the environment (`ZEROAUTH_ISSUER`,
    /// `ZEROAUTH_TABLE`, `ZEROAUTH_ACCESS_TOKEN_TTL`, `ZEROAUTH_REFRESH_TOKEN_TTL`,
    /// `ZEROAUTH_CODE_TTL`).
    pub fn from_env_with_key(key: SigningKey) -> Result<Self, ConfigError> {
        let issuer = std::env::var("ZEROAUTH_ISSUER").unwrap_or_else(|_| "http://localhost:9000".into());
        if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
            return Err(ConfigError(format!("ZEROAUTH_ISSUER must be an http(s) URL, got {issuer:?}")));
        }
        let mut c = Self::new(issuer, key);
        if let Ok(t) = std::env::var("ZEROAUTH_TABLE") {
            c.table = t;
        }
        c.access_token_ttl = seconds("ZEROAUTH_ACCESS_TOKEN_TTL", c.access_token_ttl)?;
        c.refresh_token_ttl = seconds("ZEROAUTH_REFRESH_TOKEN_TTL", c.refresh_token_ttl)?;
        c.code_ttl = seconds("ZEROAUTH_CODE_TTL", c.code_ttl)?;
        c.code_retention = c.code_retention.max(c.code_ttl * 2);
        c.id_token_ttl = seconds("ZEROAUTH_ID_TOKEN_TTL", c.id_token_ttl)?;
        c.registration = Registration::from_env(RegistrationPolicy::Off)?;
        c.client_metadata = ClientMetadataDocuments::from_env()?;
        c.self_service = self_service::SelfService::from_env(self_service::SignUp::Off)?;
        c.federation = federation::Federation::from_env()?;
        c.factors = factors::Factors::from_env()?;
        c.refresh_grace = match std::env::var("ZEROAUTH_REFRESH_GRACE") {
            Err(_) => 0,
            Ok(v) => match v.trim().parse::<i64>() {
                Ok(n) if (0..=300).contains(&n) => n,
                _ => {
                    return Err(ConfigError(format!(
                        "ZEROAUTH_REFRESH_GRACE must be 0 to 300 seconds, got {v:?}"
                    )));
                }
            },
        };
        if let Ok(text) = std::env::var("ZEROAUTH_ROUTE_ALIASES") {
            c.route_aliases = crate::paths::aliases::RouteAliases::parse(&text)
                .map_err(|e| ConfigError(format!("ZEROAUTH_ROUTE_ALIASES: {e}")))?;
        }
        if let Ok(scopes) = std::env::var("ZEROAUTH_SCOPES_SUPPORTED") {
            c.scopes_supported = Some(scopes.split_whitespace().map(str::to_owned).collect());
        }
        Ok(c)
    }
}

fn seconds(var: &str, default: i64) -> Result<i64, ConfigError> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError(format!("{var} must be a positive number of seconds, got {v:?}"))),
        },
    }
}

/// Decodes a signing key: base64 (standard or URL-safe), at least 32 bytes.
pub fn parse_signing_key(value: &str) -> Result<SigningKey, ConfigError> {
    let v = value.trim();
    let bytes = STANDARD
        .decode(v)
        .or_else(|_| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')))
        .map_err(|_| ConfigError("ZEROAUTH_SIGNING_KEY is not valid base64".into()))?;
    if bytes.len() < 32 {
        return Err(ConfigError(format!(
            "ZEROAUTH_SIGNING_KEY must be at least 32 bytes, got {}",
            bytes.len()
        )));
    }
    Ok(SigningKey::new(bytes))
}
