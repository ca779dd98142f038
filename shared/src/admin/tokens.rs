//! A client's token settings as an operator names them (the CLI's flags,
//! the seed file, `/register`): checked and applied to the stored settings.

use super::AdminError;
use crate::domain::{AccessTokenFormat, TokenSettings};
use crate::keys::Alg;
use crate::oauth::jwt::MAX_ACCESS_TOKEN_TTL;
use crate::oauth::redirect_uri;

/// A client's token options as an operator names them.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// `opaque` or `jwt`.
    pub access_token_format: Option<String>,
    /// `RS256`, `ES256` or `EdDSA`, for JWT access tokens.
    pub access_token_signed_response_alg: Option<String>,
    /// `RS256`, `ES256` or `EdDSA`, for ID tokens.
    pub id_token_signed_response_alg: Option<String>,
    /// Access-token lifetime in seconds.
    pub access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_ttl: Option<i64>,
    /// Post-logout redirect URIs (replacing the old ones) when not empty.
    pub post_logout_redirect_uris: Vec<String>,
    /// `off`, `optional`, `required`, or `deployment` (back to the
    /// deployment's policy).
    pub second_factor: Option<String>,
}

impl TokenOptions {
    /// The settings these options give `base` (absent options keep its values).
    pub fn apply(&self, mut base: TokenSettings) -> Result<TokenSettings, AdminError> {
        let invalid = |m: String| AdminError::Invalid(m);
        if let Some(f) = &self.access_token_format {
            base.access_token_format = match f.as_str() {
                "opaque" => AccessTokenFormat::Opaque,
                "jwt" => AccessTokenFormat::Jwt,
                other => {
                    return Err(invalid(format!(
                        "access token format {other:?} is unknown; use opaque or jwt"
                    )));
                }
            };
        }
        let alg = |name: &str| {
            Alg::parse(name)
                .ok_or_else(|| invalid(format!("algorithm {name:?} is unknown; use RS256, ES256 or EdDSA")))
        };
        if let Some(a) = &self.access_token_signed_response_alg {
            base.access_token_alg = alg(a)?;
        }
        if let Some(a) = &self.id_token_signed_response_alg {
            base.id_token_alg = alg(a)?;
        }
        if let Some(ttl) = self.access_token_ttl {
            base.access_token_ttl = Some(ttl);
        }
        if let Some(ttl) = base.access_token_ttl {
            // A JWT cannot be recalled, so it stays short; an opaque token is
            // revocable and may live as long as a provider's own did.
            let max = match base.access_token_format {
                AccessTokenFormat::Jwt => MAX_ACCESS_TOKEN_TTL,
                AccessTokenFormat::Opaque => MAX_LIFETIME,
            };
            if !(60..=max).contains(&ttl) {
                return Err(invalid(format!(
                    "a {} access-token lifetime must be 60 to {max} seconds, not {ttl}",
                    if max == MAX_LIFETIME { "opaque" } else { "JWT" }
                )));
            }
        }
        if let Some(ttl) = self.refresh_token_ttl {
            if !(60..=MAX_LIFETIME).contains(&ttl) {
                return Err(invalid(format!(
                    "a refresh-token lifetime must be 60 to {MAX_LIFETIME} seconds, not {ttl}"
                )));
            }
            base.refresh_token_ttl = Some(ttl);
        }
        if !self.post_logout_redirect_uris.is_empty() {
            for uri in &self.post_logout_redirect_uris {
                redirect_uri::check_registrable(uri, false)
                    .map_err(|e| invalid(e.replace("redirect URI", "post-logout redirect URI")))?;
            }
            base.post_logout_redirect_uris = self.post_logout_redirect_uris.clone();
        }
        if let Some(p) = &self.second_factor {
            base.second_factor = match p.as_str() {
                "deployment" => None,
                other => Some(crate::domain::FactorPolicy::parse(other).ok_or_else(|| {
                    invalid(format!(
                        "second-factor policy {other:?} is unknown; use off, optional, required or deployment"
                    ))
                })?),
            };
        }
        Ok(base)
    }
}

/// The longest lifetime a client's opaque access tokens or refresh tokens
/// may have: 25 years (inTandem's tokens live 20).
pub const MAX_LIFETIME: i64 = 25 * 366 * 86_400;
