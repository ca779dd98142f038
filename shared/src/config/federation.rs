//! How ZeroAuth reaches upstream identity providers (SPEC.md section 11).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::ConfigError;

/// A fetched document: when (epoch seconds), and its JSON.
pub type Fetched = (i64, Arc<serde_json::Value>);

/// The outbound side of federation: which loopback hosts tests may name,
/// an extra trusted root, how long a sign-in through a provider may take,
/// and what this process has fetched (the HTTP client, providers' metadata
/// and keys).
#[derive(Debug, Clone, Default)]
pub struct Federation {
    /// `ZEROAUTH_OUTBOUND_TEST_HOSTS`: hosts allowed to resolve to private
    /// or loopback addresses. For tests only.
    pub test_hosts: Vec<String>,
    /// `ZEROAUTH_OUTBOUND_CA_FILE`: an extra trusted root (PEM). For tests.
    pub extra_root_pem: Option<Vec<u8>>,
    /// Seconds a person has to come back from the provider
    /// (`ZEROAUTH_UPSTREAM_TTL`, default 600).
    pub state_ttl: i64,
    /// The HTTP client, made on first use.
    pub http: Arc<OnceLock<reqwest::Client>>,
    /// Providers' discovery documents and key sets, by URL: when fetched
    /// (epoch seconds) and the JSON.
    pub cache: Arc<Mutex<HashMap<String, Fetched>>>,
}

impl Federation {
    /// From `ZEROAUTH_OUTBOUND_TEST_HOSTS`, `ZEROAUTH_OUTBOUND_CA_FILE` and
    /// `ZEROAUTH_UPSTREAM_TTL`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let test_hosts = std::env::var("ZEROAUTH_OUTBOUND_TEST_HOSTS")
            .map(|v| v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_ascii_lowercase).collect())
            .unwrap_or_default();
        let extra_root_pem =
            match std::env::var("ZEROAUTH_OUTBOUND_CA_FILE") {
                Ok(path) => Some(std::fs::read(&path).map_err(|e| {
                    ConfigError(format!("cannot read ZEROAUTH_OUTBOUND_CA_FILE {path:?}: {e}"))
                })?),
                Err(_) => None,
            };
        let state_ttl = super::seconds("ZEROAUTH_UPSTREAM_TTL", 600)?;
        if !(60..=3600).contains(&state_ttl) {
            return Err(ConfigError("ZEROAUTH_UPSTREAM_TTL must be 60 to 3600 seconds".into()));
        }
        Ok(Self { test_hosts, extra_root_pem, state_ttl, ..Self::default() })
    }
}
