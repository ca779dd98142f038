//! The `prompt` parameter (OpenID Connect Core 3.1.2.1).

use crate::error::OAuthError;

/// What `prompt` asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: answer without showing anything, or fail.
    pub none: bool,
    /// `login`: ask for the password even with a session.
    pub login: bool,
    /// `consent`: ask for consent even from a trusted client.
    pub consent: bool,
}

impl Prompt {
    /// Parses the space-delimited values; unknown ones and `none` combined
    /// with another are `invalid_request`.
    pub fn parse(value: Option<&str>) -> Result<Self, OAuthError> {
        let mut p = Prompt::default();
        for v in value.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                // One account per session: choosing one is signing in again.
                "select_account" => p.login = true,
                other => {
                    return Err(OAuthError::invalid_request(format!("prompt `{other}` is not supported")));
                }
            }
        }
        if p.none && (p.login || p.consent) {
            return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_values_parse_as_openid_connect_defines_them() {
        let p = |none, login, consent| Ok(Prompt { none, login, consent });
        let cases: &[(&str, Option<&str>, Result<Prompt, ()>)] = &[
            ("should ask nothing special when absent", None, p(false, false, false)),
            ("should read none", Some("none"), p(true, false, false)),
            ("should read login and consent together", Some("login consent"), p(false, true, true)),
            ("should read select_account as signing in again", Some("select_account"), p(false, true, false)),
            ("should fail because the value is unknown", Some("bogus"), Err(())),
            ("should fail because none is combined with login", Some("none login"), Err(())),
        ];
        for (name, value, want) in cases {
            assert_eq!(Prompt::parse(*value).map_err(|_| ()), *want, "{name}");
        }
    }
}
