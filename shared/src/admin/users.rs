//! Registering the people who sign in.

use serde::Deserialize;

use super::AdminError;
use crate::crypto;
use crate::domain::User;
use crate::secret::Password;
use crate::store::Store;

/// A user to register.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Sign-in name (stored lower-case).
    pub username: String,
    /// Email claim.
    #[serde(default)]
    pub email: Option<String>,
    /// Name claim.
    #[serde(default)]
    pub name: Option<String>,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser").field("username", &self.username).field("password", &"[redacted]").finish()
    }
}

/// Normalises a username: trimmed, lower-case, 1–64 of `[a-z0-9._@+-]`.
pub fn normalize_username(raw: &str) -> Result<String, AdminError> {
    let u = raw.trim().to_lowercase();
    let ok = (1..=64).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'+' | b'-'));
    if ok {
        Ok(u)
    } else {
        Err(AdminError::Invalid(format!("username {raw:?} must be 1 to 64 letters, digits or . _ @ + -")))
    }
}

/// Checks a new password: 8 to 1024 bytes.
pub fn check_password(p: &Password) -> Result<(), AdminError> {
    match p.secret().len() {
        0..=7 => Err(AdminError::Invalid("the password must be at least 8 characters".into())),
        n if n > crypto::MAX_PASSWORD_BYTES => Err(AdminError::Invalid(format!(
            "the password must be at most {} bytes",
            crypto::MAX_PASSWORD_BYTES
        ))),
        _ => Ok(()),
    }
}

/// Registers a user with an argon2id password hash.
pub async fn create_user(store: &dyn Store, new: NewUser, now: i64) -> Result<User, AdminError> {
    let username = normalize_username(&new.username)?;
    let password = Password::new(new.password);
    check_password(&password)?;
    let hash = crypto::hash_password(&password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = User {
        username,
        sub: format!(
            "za_user_{}",
            crypto::random_string(12).map_err(|e| AdminError::Invalid(e.to_string()))?
        ),
        email: new.email.filter(|e| !e.trim().is_empty()),
        name: new.name.filter(|n| !n.trim().is_empty()),
        password_hash: hash,
        disabled: false,
        created_at: now,
        sign_outs: 0,
    };
    store.create_user(&user).await?;
    Ok(user)
}

/// Sets a user's password.
pub async fn set_password(store: &dyn Store, username: &str, password: Password) -> Result<(), AdminError> {
    check_password(&password)?;
    let username = normalize_username(username)?;
    let mut user = store
        .get_user(&username)
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("there is no user {username:?}")))?;
    user.password_hash = crypto::hash_password(&password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    store.update_user(&user).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
    }

    #[test]
    fn new_user_debug_hides_the_password() {
        let u = NewUser { username: "a".into(), email: None, name: None, password: "hunter22".into() };
        assert!(!format!("{u:?}").contains("hunter22"));
    }
}
