//! Registering clients and users: what the operator CLI, `serve --seed` and
//! the demo setup share. Validation lives here so every path enforces it.

mod api_keys;
mod dialect;
mod import;
mod providers;
mod resources;
mod tokens;
mod users;

pub use api_keys::{MAX_API_KEY_DAYS, NewApiKey, create_api_key, parse_lifetime};
pub use import::{LineOutcome, import_line};
pub use providers::{
    NewProvider, build_provider, changed_provider, create_provider, new_provider, provider_settings,
    update_provider,
};
pub use resources::{NewResource, create_resource};
pub use tokens::{MAX_LIFETIME, TokenOptions};
pub use users::{
    ClaimedEmails, NewUser, check_password, claim_emails, create_user, delete_user, existing_user, find_user,
    new_sub, normalize_username, rename_user, set_disabled, set_password,
};

use serde::Deserialize;

use crate::crypto;
use crate::domain::{Client, ClientSource, GrantType, TokenSettings};
use crate::oauth::{Scope, redirect_uri};
use crate::secret::ClientSecret;
use crate::store::{Store, StoreError};

/// A client to register.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// Display name shown on the consent page.
    pub name: String,
    /// Redirect URIs: `https`, or `http` on a loopback host.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grant types by either name in the catalogue (`token-exchange` or its
    /// RFC name); default `authorization_code` and `refresh_token`.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Allowed scopes, space-separated; default `openid profile email`.
    #[serde(default)]
    pub scope: Option<String>,
    /// A public client (no secret, PKCE required).
    #[serde(default)]
    pub public: bool,
    /// A first-party client that skips consent.
    #[serde(default)]
    pub trusted: bool,
    /// A fixed client id (seed files); random when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// A fixed secret (seed files); random when absent.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `opaque` (default) or `jwt` access tokens (RFC 9068).
    #[serde(default)]
    pub access_token_format: Option<String>,
    /// `RS256` (default), `ES256` or `EdDSA`, for JWT access tokens.
    #[serde(default)]
    pub access_token_signed_response_alg: Option<String>,
    /// `RS256` (default), `ES256` or `EdDSA`, for ID tokens.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    /// Access-token lifetime in seconds (60 to 86400).
    #[serde(default)]
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds (60 to 25 years).
    #[serde(default)]
    pub refresh_token_ttl: Option<i64>,
    /// Where `/logout` may send people back to.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `off`, `optional` or `required`: whether this client's people need
    /// a second factor (absent: the deployment's policy).
    #[serde(default)]
    pub second_factor: Option<String>,
    /// Also send the code on the redirect under this name (`auth_code`).
    #[serde(default)]
    pub code_param: Option<String>,
    /// Also send the access token in the token response under this name
    /// (`user_token`).
    #[serde(default)]
    pub access_token_field: Option<String>,
    /// Other ids that name this client.
    #[serde(default)]
    pub client_id_aliases: Vec<String>,
    /// Set for a client that registered itself (RFC 7591): when it expires
    /// unless used. Such a client is never trusted.
    #[serde(skip)]
    pub registered_until: Option<i64>,
}

/// Never the secret (a seed file may carry an app's old one).
impl std::fmt::Debug for NewClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewClient")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("redirect_uris", &self.redirect_uris)
            .field("grants", &self.grants)
            .field("client_id_aliases", &self.client_id_aliases)
            .finish_non_exhaustive()
    }
}

impl NewClient {
    /// Its token options.
    pub fn token_options(&self) -> TokenOptions {
        TokenOptions {
            access_token_format: self.access_token_format.clone(),
            access_token_signed_response_alg: self.access_token_signed_response_alg.clone(),
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            second_factor: self.second_factor.clone(),
        }
    }
}

/// Why a registration was refused, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers a client; returns it and, for confidential clients, the secret
/// (shown once: only its digest is stored).
pub async fn create_client(
    store: &dyn Store,
    new: NewClient,
    now: i64,
) -> Result<(Client, Option<ClientSecret>), AdminError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("the client needs a --name".into()));
    }
    for uri in &new.redirect_uris {
        redirect_uri::check_registrable(uri, new.public).map_err(AdminError::Invalid)?;
    }
    let grant_types = parse_grants(&new.grants)?;
    let tokens = new.token_options().apply(TokenSettings::default())?;
    for g in &grant_types {
        let spec = g.spec();
        if spec.redirects && new.redirect_uris.is_empty() {
            return Err(AdminError::Invalid(format!(
                "the {} grant needs at least one --redirect-uri",
                spec.wire
            )));
        }
        if new.public && !spec.public_clients {
            return Err(AdminError::Invalid(format!("a public client cannot use {}", spec.wire)));
        }
    }
    let scope = new.scope.as_deref().unwrap_or("openid profile email");
    let scopes = Scope::parse(scope).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let rand = |n| crypto::random_string(n).map_err(|e| AdminError::Invalid(e.to_string()));
    let client_id = match new.client_id {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => format!("za_client_{}", rand(12)?),
    };
    let dialect = dialect::dialect(
        &client_id,
        new.code_param.as_deref(),
        new.access_token_field.as_deref(),
        &new.client_id_aliases,
    )?;
    let secret = match (new.public, new.client_secret) {
        (true, Some(_)) => return Err(AdminError::Invalid("a public client has no secret".into())),
        (true, None) => None,
        (false, Some(s)) if s.len() >= 16 => Some(ClientSecret::new(s)),
        (false, Some(_)) => {
            return Err(AdminError::Invalid("a client secret must be at least 16 characters".into()));
        }
        (false, None) => Some(ClientSecret::new(format!("za_cs_{}", rand(32)?))),
    };
    let client = Client {
        client_id,
        name: name.to_owned(),
        secret_hash: secret.as_ref().map(|s| crypto::digest(s.secret())),
        redirect_uris: new.redirect_uris,
        grant_types,
        scopes,
        trusted: new.trusted && new.registered_until.is_none(),
        disabled: false,
        created_at: now,
        tokens,
        source: if new.registered_until.is_some() {
            ClientSource::Registration
        } else {
            ClientSource::Operator
        },
        expires_at: new.registered_until,
        dialect,
    };
    store.create_client(&client).await?;
    Ok((client, secret))
}

/// Grant types by either of the catalogue's names, as `--grant` takes them
/// (`client-credentials` or `client_credentials`); default
/// `authorization_code` and `refresh_token`.
fn parse_grants(names: &[String]) -> Result<Vec<GrantType>, AdminError> {
    if names.is_empty() {
        return Ok(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    }
    let mut grant_types = Vec::new();
    for g in names {
        let g = GrantType::from_name(g).ok_or_else(|| {
            AdminError::Invalid(format!("grant {g:?} is unknown; use {}", GrantType::names_sentence()))
        })?;
        if !grant_types.contains(&g) {
            grant_types.push(g);
        }
    }
    Ok(grant_types)
}

/// What `client update` changes; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct ClientChanges {
    /// A new display name.
    pub name: Option<String>,
    /// New redirect URIs (replacing the old ones) when not empty.
    pub redirect_uris: Vec<String>,
    /// New allowed scopes.
    pub scope: Option<String>,
    /// Token options.
    pub tokens: TokenOptions,
}

/// Changes a registered client.
pub async fn update_client(
    store: &dyn Store,
    client_id: &str,
    changes: ClientChanges,
) -> Result<Client, AdminError> {
    let mut client = store
        .get_client(client_id)
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("there is no client {client_id:?}")))?;
    if let Some(name) = changes.name.as_deref().map(str::trim) {
        if name.is_empty() {
            return Err(AdminError::Invalid("the client's --name cannot be empty".into()));
        }
        client.name = name.to_owned();
    }
    if !changes.redirect_uris.is_empty() {
        for uri in &changes.redirect_uris {
            redirect_uri::check_registrable(uri, client.is_public()).map_err(AdminError::Invalid)?;
        }
        client.redirect_uris = changes.redirect_uris;
    }
    if let Some(scope) = &changes.scope {
        client.scopes = Scope::parse(scope).map_err(|e| AdminError::Invalid(e.to_string()))?;
    }
    client.tokens = changes.tokens.apply(client.tokens)?;
    store.update_client(&client).await?;
    Ok(client)
}

/// A fresh client secret for an existing client; the old one stops working.
pub async fn rotate_secret(store: &dyn Store, client_id: &str) -> Result<ClientSecret, AdminError> {
    let mut client = store
        .get_client(client_id)
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("there is no client {client_id:?}")))?;
    if client.is_public() {
        return Err(AdminError::Invalid(format!("client {client_id:?} is public and has no secret")));
    }
    let secret = ClientSecret::new(format!(
        "za_cs_{}",
        crypto::random_string(32).map_err(|e| AdminError::Invalid(e.to_string()))?
    ));
    client.secret_hash = Some(crypto::digest(secret.secret()));
    store.update_client(&client).await?;
    Ok(secret)
}

/// A seed file for `zeroauth serve --seed` (TOML or JSON).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Clients to register.
    #[serde(default)]
    pub clients: Vec<NewClient>,
    /// Users to register.
    #[serde(default)]
    pub users: Vec<NewUser>,
    /// Protected resources to register (after the clients).
    #[serde(default)]
    pub resources: Vec<NewResource>,
    /// Upstream identity providers (after the clients), with their secrets.
    #[serde(default)]
    pub providers: Vec<NewProvider>,
}
