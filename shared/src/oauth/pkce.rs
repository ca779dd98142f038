//! PKCE (RFC 7636) with S256 only (RFC 9700 2.1.1): the challenge at the
//! authorization request, the verifier at the code exchange.

use crate::crypto;
use crate::error::OAuthError;
use crate::secret::CodeVerifier;

/// RFC 7636 4.3 and RFC 9700 2.1.1: the request's challenge, if any. Only
/// S256 is accepted; public clients must send one.
pub fn challenge(
    challenge: Option<&str>,
    method: Option<&str>,
    public_client: bool,
) -> Result<Option<String>, OAuthError> {
    match (challenge, method) {
        (None, None) if public_client => {
            Err(OAuthError::invalid_request("public clients must use PKCE: send code_challenge with S256"))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => {
            Err(OAuthError::invalid_request("code_challenge_method was sent without code_challenge"))
        }
        (Some(c), Some("S256")) if c.len() == 43 && crypto::is_pkce_string(c) => Ok(Some(c.to_owned())),
        (Some(_), Some("S256")) => Err(OAuthError::invalid_request(
            "code_challenge must be the 43-character base64url SHA-256 of the verifier",
        )),
        (Some(_), _) => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256; plain is not accepted (RFC 9700 2.1.1)",
        )),
    }
}

/// RFC 7636 4.6: the verifier must hash to the code's challenge. A verifier
/// for a code issued without a challenge is refused too (PKCE downgrade,
/// RFC 9700 4.8.2).
pub fn verify(challenge: Option<&str>, verifier: Option<&CodeVerifier>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => {
            Err(OAuthError::invalid_grant("code_verifier was sent but the code has no PKCE challenge"))
        }
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required for this code")),
        (Some(_), Some(v)) if !crypto::is_pkce_string(v.secret()) => Err(OAuthError::invalid_grant(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)",
        )),
        (Some(c), Some(v)) if crypto::ct_eq(c, &crypto::pkce_s256(v.secret())) => Ok(()),
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn verifier_checks_follow_rfc7636() {
        let other = "x".repeat(43);
        // name, the code's challenge, the verifier sent, the outcome
        type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Result<(), ErrorCode>);
        let cases: &[Case<'_>] = &[
            ("should pass the RFC 7636 Appendix B pair", Some(CHALLENGE), Some(VERIFIER), Ok(())),
            ("should pass a code without PKCE", None, None, Ok(())),
            (
                "should fail because the verifier does not match",
                Some(CHALLENGE),
                Some(&other),
                Err(ErrorCode::InvalidGrant),
            ),
            (
                "should fail because the verifier is missing",
                Some(CHALLENGE),
                None,
                Err(ErrorCode::InvalidGrant),
            ),
            (
                "should fail because the code had no challenge (downgrade)",
                None,
                Some(VERIFIER),
                Err(ErrorCode::InvalidGrant),
            ),
            (
                "should fail because the verifier is too short",
                Some(CHALLENGE),
                Some("short"),
                Err(ErrorCode::InvalidGrant),
            ),
            (
                "should fail because the verifier has a space",
                Some(CHALLENGE),
                Some(&"a b".repeat(20)),
                Err(ErrorCode::InvalidGrant),
            ),
        ];
        for (name, challenge, verifier, want) in cases {
            let v = verifier.map(CodeVerifier::new);
            assert_eq!(verify(*challenge, v.as_ref()).map_err(|e| e.code), *want, "{name}");
        }
    }

    #[test]
    fn challenges_are_s256_and_required_of_public_clients() {
        // name, code_challenge, code_challenge_method, public client, whether a challenge is kept
        type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, bool, Result<bool, ErrorCode>);
        let cases: &[Case<'_>] = &[
            ("should take an S256 challenge", Some(CHALLENGE), Some("S256"), true, Ok(true)),
            ("should let a confidential client skip PKCE", None, None, false, Ok(false)),
            (
                "should fail because a public client sent none",
                None,
                None,
                true,
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because plain is refused",
                Some(CHALLENGE),
                Some("plain"),
                false,
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because the method is missing",
                Some(CHALLENGE),
                None,
                false,
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because the challenge is missing",
                None,
                Some("S256"),
                false,
                Err(ErrorCode::InvalidRequest),
            ),
            (
                "should fail because the challenge is not 43 characters",
                Some("abc"),
                Some("S256"),
                false,
                Err(ErrorCode::InvalidRequest),
            ),
        ];
        for (name, c, m, public, want) in cases {
            assert_eq!(challenge(*c, *m, *public).map(|c| c.is_some()).map_err(|e| e.code), *want, "{name}");
        }
    }
}
