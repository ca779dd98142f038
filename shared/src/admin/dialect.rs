//! Checks on a client's dialect (SPEC.md section 9): the extra names it is
//! answered with must not collide with a standard one, and its id aliases
//! must be usable ids.

use super::AdminError;
use crate::domain::Dialect;
use crate::http::MAX_ID_BYTES;

/// Names the redirect already carries (RFC 6749 4.1.2 and 4.1.2.1, RFC 9207,
/// OpenID Connect).
const REDIRECT_NAMES: &[&str] =
    &["code", "state", "iss", "error", "error_description", "error_uri", "id_token", "session_state"];

/// Names the token response already carries (RFC 6749 5.1 and 5.2, RFC
/// 8693, OpenID Connect, ZeroAuth's `created_at`).
const TOKEN_RESPONSE_NAMES: &[&str] = &[
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
    "state",
    "created_at",
    "issued_token_type",
    "error",
    "error_description",
    "error_uri",
];

/// The dialect these options describe, checked.
pub fn dialect(
    client_id: &str,
    code_param: Option<&str>,
    access_token_field: Option<&str>,
    aliases: &[String],
) -> Result<Dialect, AdminError> {
    let invalid = |m: String| Err(AdminError::Invalid(m));
    let name = |what: &str, v: Option<&str>, taken: &[&str]| -> Result<Option<String>, AdminError> {
        let Some(v) = v.map(str::trim) else { return Ok(None) };
        if v.is_empty()
            || v.len() > 64
            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
        {
            return Err(AdminError::Invalid(format!(
                "{what} {v:?} must be 1 to 64 letters, digits, `_`, `-` or `.`"
            )));
        }
        if taken.contains(&v) {
            return Err(AdminError::Invalid(format!(
                "{what} {v:?} is a standard name already; pick another"
            )));
        }
        Ok(Some(v.to_owned()))
    };
    let code_param = name("--code-param", code_param, REDIRECT_NAMES)?;
    let access_token_field = name("--access-token-field", access_token_field, TOKEN_RESPONSE_NAMES)?;
    let mut client_id_aliases: Vec<String> = Vec::new();
    for alias in aliases.iter().map(|a| a.trim()) {
        if alias.is_empty()
            || alias.len() > MAX_ID_BYTES
            || alias.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return invalid(format!(
                "client id alias {alias:?} must be 1 to {MAX_ID_BYTES} bytes without spaces"
            ));
        }
        if alias.starts_with("https://") || alias.starts_with("http://") {
            return invalid(format!(
                "client id alias {alias:?} looks like a URL, which names a client metadata document"
            ));
        }
        if alias == client_id || client_id_aliases.iter().any(|a| a == alias) {
            return invalid(format!("client id alias {alias:?} is given twice or is the client's own id"));
        }
        client_id_aliases.push(alias.to_owned());
    }
    Ok(Dialect { code_param, access_token_field, client_id_aliases })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_names_that_collide_or_are_malformed_are_refused() {
        let ok = dialect("c", Some("auth_code"), Some("user_token"), &["gate_1".into()]).unwrap();
        assert_eq!(ok.code_param.as_deref(), Some("auth_code"));
        for (name, code, field, aliases) in [
            ("should fail because the redirect has a code already", Some("code"), None, vec![]),
            ("should fail because the redirect has a state already", Some("state"), None, vec![]),
            ("should fail because the response has a scope already", None, Some("scope"), vec![]),
            ("should fail because of a space in the name", None, Some("user token"), vec![]),
            ("should fail because the name is empty", Some(""), None, vec![]),
            ("should fail because an alias is the id", None, None, vec!["c".to_owned()]),
            ("should fail because an alias repeats", None, None, vec!["a".to_owned(), "a".to_owned()]),
            ("should fail because an alias is a URL", None, None, vec!["https://a.example/c".to_owned()]),
            ("should fail because an alias is too long", None, None, vec!["a".repeat(256)]),
        ] {
            assert!(dialect("c", code, field, &aliases).is_err(), "{name}");
        }
    }
}

#[cfg(test)]
mod debug_tests {
    use crate::admin::NewClient;

    #[test]
    fn new_client_debug_hides_the_secret() {
        let c = NewClient { client_secret: Some("the-old-secret-1234".into()), ..Default::default() };
        let shown = format!("{c:?}");
        assert!(!shown.contains("the-old-secret-1234") && shown.contains("[redacted]"), "{shown}");
    }
}
