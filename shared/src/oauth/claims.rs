//! Which claims about a person a scope releases (OpenID Connect Core 5.4):
//! `sub` always, `preferred_username` and `name` with `profile`, `email`
//! and `email_verified` with `email`.

use serde_json::{Value, json};

use crate::domain::User;
use crate::oauth::scope::Scope;

/// The claims ZeroAuth can release.
pub const SUPPORTED: &[&str] =
    &["sub", "name", "preferred_username", "email", "email_verified", "auth_time", "acr", "amr", "idp"];

/// The person's claims that `scope` allows, as a JSON object.
pub fn for_scope(user: &User, scope: &Scope) -> Value {
    let mut claims = json!({ "sub": user.sub });
    if scope.contains("profile") {
        if let Some(username) = &user.username {
            claims["preferred_username"] = json!(username);
        }
        if let Some(name) = &user.name {
            claims["name"] = json!(name);
        }
    }
    if scope.contains("email")
        && let Some(email) = &user.email
    {
        claims["email"] = json!(email);
        claims["email_verified"] = json!(user.email_verified);
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_release_only_their_claims() {
        let user = User {
            sub: "za_user_1".into(),
            username: Some("alice".into()),
            email: Some("alice@example.com".into()),
            name: Some("Alice".into()),
            disabled: false,
            created_at: 0,
            epoch: 0,
            email_verified: true,
            tokens_revoked_at: 0,
            upstream: vec![],
            passkey_user: None,
        };
        let cases: &[(&str, &str, Value)] = &[
            ("should release only sub for openid", "openid", json!({"sub": "za_user_1"})),
            (
                "should add the profile claims for profile",
                "openid profile",
                json!({"sub": "za_user_1", "preferred_username": "alice", "name": "Alice"}),
            ),
            (
                "should add email for email",
                "email",
                json!({"sub": "za_user_1", "email": "alice@example.com", "email_verified": true}),
            ),
        ];
        for (name, scope, want) in cases {
            assert_eq!(for_scope(&user, &Scope::from_stored(scope)), *want, "{name}");
        }
        let unverified = User { email_verified: false, ..user };
        let claims = for_scope(&unverified, &Scope::from_stored("email"));
        assert_eq!(claims["email_verified"], json!(false), "an address not yet proved says so");
    }
}
