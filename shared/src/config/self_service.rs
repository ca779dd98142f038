//! The deployment's self-service policies (SPEC.md section 11): who may
//! sign up, which addresses, whether an unverified person may sign in, the
//! codes' lifetimes and the mail limits.

use super::ConfigError;

/// Who may create an account (`ZEROAUTH_SIGNUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUp {
    /// Anyone (the `serve` default).
    Open,
    /// Only people an operator invited (`zeroauth user invite`).
    Invite,
    /// Nobody: operators create people (the AWS default).
    Off,
}

impl SignUp {
    /// The policy's name, as configured.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Off => "off",
        }
    }
}

/// Self-service settings.
#[derive(Debug, Clone)]
pub struct SelfService {
    /// Who may sign up.
    pub sign_up: SignUp,
    /// When not empty, only addresses at these domains (or their
    /// subdomains) may sign up (`ZEROAUTH_SIGNUP_DOMAINS`).
    pub domains: Vec<String>,
    /// Whether the sign-up form asks for a username too
    /// (`ZEROAUTH_SIGNUP_USERNAME=on`); the email address is the identifier
    /// either way.
    pub usernames: bool,
    /// Whether a person whose address is not verified may sign in to
    /// clients (`ZEROAUTH_UNVERIFIED_SIGN_IN=allow`); by default they are
    /// asked to verify it first.
    pub unverified_sign_in: bool,
    /// Terms of service shown at sign-up (`ZEROAUTH_TERMS_URL`).
    pub terms_url: Option<String>,
    /// Privacy policy shown at sign-up (`ZEROAUTH_PRIVACY_URL`).
    pub privacy_url: Option<String>,
    /// Verification code lifetime (`ZEROAUTH_VERIFY_TTL`, default 1 h).
    pub verify_ttl: i64,
    /// Reset code lifetime (`ZEROAUTH_RESET_TTL`, default 30 min).
    pub reset_ttl: i64,
    /// Invitation lifetime (`ZEROAUTH_INVITE_TTL`, default 7 days).
    pub invite_ttl: i64,
    /// Wrong codes a flow may try before its code is burnt.
    pub max_attempts: u32,
    /// Mails one address may be sent per hour (`ZEROAUTH_MAILS_PER_ADDRESS`, default 5).
    pub mails_per_address: u32,
    /// Mails one client address may cause per hour (`ZEROAUTH_MAILS_PER_IP`, default 20).
    pub mails_per_ip: u32,
    /// The least time, in milliseconds, a request that may mail takes to
    /// answer, so that mailing or not cannot be told by timing
    /// (`ZEROAUTH_MAIL_RESPONSE_FLOOR_MS`, default 350).
    pub response_floor_ms: u64,
}

impl Default for SelfService {
    fn default() -> Self {
        Self {
            sign_up: SignUp::Off,
            domains: Vec::new(),
            usernames: false,
            unverified_sign_in: false,
            terms_url: None,
            privacy_url: None,
            verify_ttl: 3600,
            reset_ttl: 1800,
            invite_ttl: 7 * 86_400,
            max_attempts: 5,
            mails_per_address: 5,
            mails_per_ip: 20,
            response_floor_ms: 350,
        }
    }
}

impl SelfService {
    /// Reads the `ZEROAUTH_SIGNUP*` and related variables; `default` when
    /// `ZEROAUTH_SIGNUP` is unset.
    pub fn from_env(default: SignUp) -> Result<Self, ConfigError> {
        let var =
            |name: &str| std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let d = Self::default();
        let sign_up = match var("ZEROAUTH_SIGNUP").as_deref() {
            None => default,
            Some("open") => SignUp::Open,
            Some("invite") => SignUp::Invite,
            Some("off") => SignUp::Off,
            Some(other) => {
                return Err(ConfigError(format!(
                    "ZEROAUTH_SIGNUP must be open, invite or off, got {other:?}"
                )));
            }
        };
        let on_off = |name: &str, default: bool, on: &str, off: &str| -> Result<bool, ConfigError> {
            match var(name).as_deref() {
                None => Ok(default),
                Some(v) if v == on => Ok(true),
                Some(v) if v == off => Ok(false),
                Some(v) => Err(ConfigError(format!("{name} must be {on} or {off}, got {v:?}"))),
            }
        };
        let url = |name: &str| -> Result<Option<String>, ConfigError> {
            match var(name) {
                Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(Some(u)),
                Some(u) => Err(ConfigError(format!("{name} must be an http(s) URL, got {u:?}"))),
                None => Ok(None),
            }
        };
        let count = |name: &str, default: u32| -> Result<u32, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ConfigError(format!("{name} must be a positive number, got {v:?}"))),
            }
        };
        let secs = |name: &str, default: i64| -> Result<i64, ConfigError> {
            Ok(i64::from(count(name, u32::try_from(default).unwrap_or(u32::MAX))?))
        };
        Ok(Self {
            sign_up,
            domains: var("ZEROAUTH_SIGNUP_DOMAINS")
                .map(|v| {
                    v.split([' ', ','])
                        .filter(|s| !s.is_empty())
                        .map(|s| s.trim_start_matches('@').to_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
            usernames: on_off("ZEROAUTH_SIGNUP_USERNAME", d.usernames, "on", "off")?,
            unverified_sign_in: on_off(
                "ZEROAUTH_UNVERIFIED_SIGN_IN",
                d.unverified_sign_in,
                "allow",
                "verify",
            )?,
            terms_url: url("ZEROAUTH_TERMS_URL")?,
            privacy_url: url("ZEROAUTH_PRIVACY_URL")?,
            verify_ttl: secs("ZEROAUTH_VERIFY_TTL", d.verify_ttl)?,
            reset_ttl: secs("ZEROAUTH_RESET_TTL", d.reset_ttl)?,
            invite_ttl: secs("ZEROAUTH_INVITE_TTL", d.invite_ttl)?,
            max_attempts: d.max_attempts,
            mails_per_address: count("ZEROAUTH_MAILS_PER_ADDRESS", d.mails_per_address)?,
            mails_per_ip: count("ZEROAUTH_MAILS_PER_IP", d.mails_per_ip)?,
            response_floor_ms: match var("ZEROAUTH_MAIL_RESPONSE_FLOOR_MS") {
                None => d.response_floor_ms,
                Some(v) => v.parse::<u64>().map_err(|_| {
                    ConfigError(format!("ZEROAUTH_MAIL_RESPONSE_FLOOR_MS must be a number, got {v:?}"))
                })?,
            },
        })
    }

    /// Whether an address at `domain` may sign up.
    pub fn allows_domain(&self, domain: &str) -> bool {
        let domain = domain.to_lowercase();
        self.domains.is_empty()
            || self.domains.iter().any(|d| domain == *d || domain.ends_with(&format!(".{d}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_domains_take_subdomains_but_not_lookalikes() {
        let s = SelfService { domains: vec!["example.com".into()], ..SelfService::default() };
        assert!(s.allows_domain("example.com"));
        assert!(s.allows_domain("Mail.Example.com"));
        assert!(!s.allows_domain("evilexample.com"));
        assert!(!s.allows_domain("example.com.evil.org"));
        assert!(SelfService::default().allows_domain("anything.org"));
    }
}
