//! Second factors and passkeys (SPEC.md section 11): the deployment's
//! policy, whether a mailed code may sign people in, and the WebAuthn
//! relying party (its id and the origins a ceremony may come from).

use super::ConfigError;
use crate::domain::FactorPolicy;

/// The deployment's second-factor settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Factors {
    /// `ZEROAUTH_SECOND_FACTOR`: `off`, `optional` (the default) or `required`.
    pub policy: FactorPolicy,
    /// `ZEROAUTH_EMAIL_CODE_SIGN_IN=on`: a code mailed to a verified address
    /// signs its person in, without a password (needs mail).
    pub email_code_sign_in: bool,
    /// `ZEROAUTH_RP_ID`: the WebAuthn relying party id. `None`: the issuer's
    /// host. Never taken from a request's `Host` header. A passkey works
    /// only under the RP ID it was made for: choose it before people enrol.
    pub rp_id: Option<String>,
    /// `ZEROAUTH_WEBAUTHN_ORIGINS` (space- or comma-separated): the origins a
    /// ceremony may come from. Empty: the issuer's origin only.
    pub origins: Vec<String>,
    /// `ZEROAUTH_RP_NAME`: the name authenticators show (default `ZeroAuth`).
    pub rp_name: Option<String>,
}

impl Factors {
    /// From the environment variables above.
    pub fn from_env() -> Result<Self, ConfigError> {
        let policy = match std::env::var("ZEROAUTH_SECOND_FACTOR") {
            Err(_) => FactorPolicy::default(),
            Ok(v) => FactorPolicy::parse(&v).ok_or_else(|| {
                ConfigError(format!("ZEROAUTH_SECOND_FACTOR must be off, optional or required, got {v:?}"))
            })?,
        };
        let email_code_sign_in = match std::env::var("ZEROAUTH_EMAIL_CODE_SIGN_IN").as_deref().map(str::trim)
        {
            Err(_) | Ok("off" | "false" | "0" | "") => false,
            Ok("on" | "true" | "1") => true,
            Ok(other) => {
                return Err(ConfigError(format!(
                    "ZEROAUTH_EMAIL_CODE_SIGN_IN must be on or off, got {other:?}"
                )));
            }
        };
        let rp_id = std::env::var("ZEROAUTH_RP_ID").ok().map(|v| v.trim().to_ascii_lowercase());
        if let Some(id) = &rp_id
            && (id.is_empty() || id.contains([':', '/', ' ']) || id.parse::<std::net::IpAddr>().is_ok())
        {
            return Err(ConfigError(format!("ZEROAUTH_RP_ID must be a domain name, got {id:?}")));
        }
        let origins: Vec<String> = std::env::var("ZEROAUTH_WEBAUTHN_ORIGINS")
            .map(|v| v.split([' ', ',']).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        if let Some(bad) =
            origins.iter().find(|o| !(o.starts_with("https://") || o.starts_with("http://localhost")))
        {
            return Err(ConfigError(format!(
                "ZEROAUTH_WEBAUTHN_ORIGINS takes https origins (or http://localhost), got {bad:?}"
            )));
        }
        let rp_name = std::env::var("ZEROAUTH_RP_NAME").ok().filter(|n| !n.trim().is_empty());
        Ok(Self { policy, email_code_sign_in, rp_id, origins, rp_name })
    }

    /// The RP ID: the configured one, else the issuer's host.
    pub fn rp_id(&self, issuer: &str) -> String {
        self.rp_id.clone().unwrap_or_else(|| host_of(issuer).to_owned())
    }

    /// The allowed origins: the configured ones, else the issuer's origin.
    pub fn origins(&self, issuer: &str) -> Vec<String> {
        if self.origins.is_empty() { vec![origin_of(issuer).to_owned()] } else { self.origins.clone() }
    }
}

/// `https://auth.example.com:8443/x` → `auth.example.com`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// `https://auth.example.com:8443/x` → `https://auth.example.com:8443`.
fn origin_of(url: &str) -> &str {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let end = url[scheme_end..].find(['/', '?', '#']).map_or(url.len(), |i| scheme_end + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_defaults_to_the_issuer() {
        let f = Factors::default();
        assert_eq!(f.rp_id("https://auth.example.com/tenant"), "auth.example.com");
        assert_eq!(f.rp_id("http://localhost:9000"), "localhost");
        assert_eq!(f.origins("http://localhost:9000/x"), vec!["http://localhost:9000".to_owned()]);
        let f =
            Factors { rp_id: Some("example.com".into()), origins: vec!["https://a.example.com".into()], ..f };
        assert_eq!(f.rp_id("https://auth.example.com"), "example.com");
        assert_eq!(f.origins("https://auth.example.com"), vec!["https://a.example.com".to_owned()]);
    }
}
