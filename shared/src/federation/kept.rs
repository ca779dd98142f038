//! The person's upstream tokens, kept for a protected resource (SPEC.md
//! section 11): when a provider keeps tokens, the access (and refresh)
//! token the provider issued at sign-in are sealed (AES-256-GCM) under a
//! key derived from the deployment's signing secret, which lives in SSM
//! and never in the table, so a copy of the table cannot read them. The
//! sealed value rides in the session, then the code, then the grant it
//! becomes, and dies with that grant; only the resource's own confidential
//! client gets the token out, by token exchange.

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::crypto;

/// RFC 8693 `requested_token_type` (and `issued_token_type`) of the
/// person's upstream access token.
pub const UPSTREAM_TOKEN_TYPE: &str = "urn:zeroauth:params:oauth:token-type:upstream-access-token";

/// What the provider issued at sign-in.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptTokens {
    /// The provider's id.
    pub provider: String,
    /// The access token at the provider.
    pub access_token: String,
    /// Its refresh token, if it gave one (kept, never handed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires (epoch seconds), if the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for KeptTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptTokens")
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The sealing key's secret: an HMAC of a fixed label under the signing key.
fn secret(app: &App) -> String {
    crypto::sign(&app.config.signing_key, b"zeroauth upstream tokens")
}

/// Seals `tokens`.
pub fn seal(app: &App, tokens: &KeptTokens) -> Option<String> {
    let json = serde_json::to_vec(tokens).ok()?;
    crypto::seal_for(&secret(app), &json).ok()
}

/// Opens what [`seal`] sealed; `None` if it does not open.
pub fn open(app: &App, sealed: &str) -> Option<KeptTokens> {
    serde_json::from_slice(&crypto::open_for(&secret(app), sealed)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::secret::SigningKey;

    fn app(key: u8) -> App {
        let store = std::sync::Arc::new(crate::store::memory::MemoryStore::new());
        App::new(store, Config::new("https://id.example", SigningKey::new(vec![key; 32])))
    }

    #[test]
    fn kept_tokens_are_unreadable_without_the_deployments_key() {
        let tokens = KeptTokens {
            provider: "github".into(),
            access_token: "gho_the-token".into(),
            refresh_token: Some("ghr_the-refresh".into()),
            expires_at: None,
        };
        let sealed = seal(&app(1), &tokens).expect("sealed");
        assert!(!sealed.contains("gho_") && !sealed.contains("ghr_"));
        assert_eq!(open(&app(1), &sealed), Some(tokens.clone()));
        assert_eq!(open(&app(2), &sealed), None, "another deployment's key opens nothing");
        assert!(!format!("{tokens:?}").contains("the-token"), "Debug hides them");
    }
}
