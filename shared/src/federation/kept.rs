//! The person's upstream tokens, kept for a protected resource (SPEC.md
//! section 11). A provider names the resources it keeps tokens for; when a
//! sign-in through it is for one of them, the access token the provider
//! issued travels, sealed (AES-256-GCM), to that one authorization's code
//! and on to the grant (token family) the code becomes:
//!
//! - from the provider's callback to the consent page it rides in the sealed
//!   authorization request, under a key derived from the signing key that
//!   only the callback function holds (never in a cookie, never stored);
//! - on the code, sealed under the code itself;
//! - on the grant, sealed twice: under the family's refresh token and under
//!   its newest access token, and sealed afresh at each refresh.
//!
//! Only holders of those secrets can open it, so a copy of the table cannot
//! read it, and it dies with the grant. The resource's own confidential
//! client opens it with the access token it was sent, by token exchange.

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
    /// When it expires (epoch seconds), if the provider said.
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

/// Seals `tokens` under `secret` (a token only its holder knows).
pub fn seal_under(secret: &str, tokens: &KeptTokens) -> Option<String> {
    crypto::seal_for(secret, &serde_json::to_vec(tokens).ok()?).ok()
}

/// Opens what [`seal_under`] sealed under `secret`.
pub fn open_under(secret: &str, sealed: &str) -> Option<KeptTokens> {
    serde_json::from_slice(&crypto::open_for(secret, sealed)?).ok()
}

/// The secret of the leg from the provider's callback to the code: only
/// the callback function holds the signing key it comes from.
fn callback_secret(app: &App) -> String {
    crypto::sign(&app.config.signing_key, b"zeroauth upstream tokens, callback to code")
}

/// Seals `tokens` for the authorization request they ride in.
pub fn seal_for_request(app: &App, tokens: &KeptTokens) -> Option<String> {
    seal_under(&callback_secret(app), tokens)
}

/// Opens what [`seal_for_request`] sealed.
pub fn open_from_request(app: &App, sealed: &str) -> Option<KeptTokens> {
    open_under(&callback_secret(app), sealed)
}

/// The grant's copies: under its refresh token (to seal them afresh at the
/// next refresh) and under its newest access token (to hand them out).
#[derive(Serialize, Deserialize)]
struct GrantCopies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh: Option<String>,
    access: String,
}

/// What a grant keeps: `tokens` sealed under its `refresh` and `access` tokens.
pub fn for_grant(tokens: &KeptTokens, refresh: Option<&str>, access: &str) -> Option<String> {
    let copies = GrantCopies {
        refresh: match refresh {
            Some(r) => Some(seal_under(r, tokens)?),
            None => None,
        },
        access: seal_under(access, tokens)?,
    };
    serde_json::to_string(&copies).ok()
}

/// The grant's tokens, opened with its refresh token.
pub fn open_with_refresh(kept: &str, refresh: &str) -> Option<KeptTokens> {
    let copies: GrantCopies = serde_json::from_str(kept).ok()?;
    open_under(refresh, copies.refresh.as_deref()?)
}

/// The grant's tokens, opened with its newest access token.
pub fn open_with_access(kept: &str, access: &str) -> Option<KeptTokens> {
    let copies: GrantCopies = serde_json::from_str(kept).ok()?;
    open_under(access, &copies.access)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> KeptTokens {
        KeptTokens { provider: "github".into(), access_token: "gho_the-token".into(), expires_at: None }
    }

    #[test]
    fn a_grants_tokens_open_only_with_its_own_tokens() {
        let kept = for_grant(&tokens(), Some("za_rt_refresh"), "za_at_access").expect("sealed");
        assert!(!kept.contains("gho_"), "{kept}");
        assert_eq!(open_with_access(&kept, "za_at_access"), Some(tokens()));
        assert_eq!(open_with_refresh(&kept, "za_rt_refresh"), Some(tokens()));
        assert_eq!(open_with_access(&kept, "za_at_other"), None, "another access token opens nothing");
        assert_eq!(open_with_refresh(&kept, "za_at_access"), None);
        let no_refresh = for_grant(&tokens(), None, "za_at_access").expect("sealed");
        assert_eq!(open_with_refresh(&no_refresh, "za_rt_refresh"), None);
        assert!(!format!("{:?}", tokens()).contains("the-token"), "Debug hides the token");
    }

    #[test]
    fn the_requests_copy_opens_only_with_this_deployments_key() {
        let app = |key: u8| {
            let store = std::sync::Arc::new(crate::store::memory::MemoryStore::new());
            let key = crate::secret::SigningKey::new(vec![key; 32]);
            App::new(store, crate::config::Config::new("https://id.example", key))
        };
        let sealed = seal_for_request(&app(1), &tokens()).expect("sealed");
        assert_eq!(open_from_request(&app(1), &sealed), Some(tokens()));
        assert_eq!(open_from_request(&app(2), &sealed), None);
    }
}
