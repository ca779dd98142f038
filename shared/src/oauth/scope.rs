//! Scopes as OAuth answers them: the [`Scope`] type lives in the domain;
//! here its refusals become `invalid_scope` (RFC 6749 5.2), and the scopes
//! ZeroAuth itself knows are listed.

pub use crate::domain::{Scope, ScopeError};
use crate::error::OAuthError;

/// The scopes ZeroAuth knows how to describe and answer at `/userinfo`.
pub const KNOWN_SCOPES: &[&str] = &["openid", "profile", "email"];

impl From<ScopeError> for OAuthError {
    fn from(e: ScopeError) -> Self {
        OAuthError::invalid_scope(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn a_refused_scope_is_invalid_scope_with_its_reason() {
        for e in [ScopeError::Malformed("a\"b".into()), ScopeError::NotAllowed("admin".into())] {
            let oauth = OAuthError::from(e.clone());
            assert_eq!((oauth.code, oauth.description), (ErrorCode::InvalidScope, e.to_string()));
        }
    }
}
