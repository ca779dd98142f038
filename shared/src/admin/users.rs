//! The people who sign in, for the operator: create, find, rename,
//! disable, set a password, delete.

use serde::Deserialize;

use super::AdminError;
use crate::crypto;
use crate::domain::{Credential, Identifier, User};
use crate::secret::Password;
use crate::store::{Store, StoreError};

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

/// A fresh subject identifier: `za_user_` and 12 random bytes.
pub fn new_sub() -> Result<String, AdminError> {
    let random = crypto::random_string(12).map_err(|e| AdminError::Invalid(e.to_string()))?;
    Ok(format!("za_user_{random}"))
}

/// Registers a person with a username and an argon2id password: the
/// person, their username and their password are written at once.
pub async fn create_user(store: &dyn Store, new: NewUser, now: i64) -> Result<User, AdminError> {
    let username = normalize_username(&new.username)?;
    let password = Password::new(new.password);
    check_password(&password)?;
    let hash = crypto::hash_password(&password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    let user = User {
        sub: new_sub()?,
        username: Some(username),
        email: new.email.filter(|e| !e.trim().is_empty()),
        name: new.name.filter(|n| !n.trim().is_empty()),
        disabled: false,
        created_at: now,
        epoch: 0,
        email_verified: true,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    };
    store.create_person(&user, &[Credential::password(&user.sub, hash, now)]).await?;
    Ok(user)
}

/// The person `username` names, if any.
pub async fn find_user(store: &dyn Store, username: &str) -> Result<Option<User>, AdminError> {
    let username = normalize_username(username)?;
    let Some(sub) = store.find_identifier(&Identifier::Username(username.clone())).await? else {
        return Ok(None);
    };
    Ok(store.get_person(&sub, Some(&username)).await?)
}

/// The person `username` names, or `Invalid` saying there is none.
pub async fn existing_user(store: &dyn Store, username: &str) -> Result<User, AdminError> {
    find_user(store, username)
        .await?
        .ok_or_else(|| AdminError::Invalid(format!("there is no user {username:?}")))
}

/// Sets a person's password; every session of theirs ends.
pub async fn set_password(
    store: &dyn Store,
    username: &str,
    password: Password,
    now: i64,
) -> Result<(), AdminError> {
    check_password(&password)?;
    let mut user = existing_user(store, username).await?;
    let hash = crypto::hash_password(&password).map_err(|e| AdminError::Invalid(e.to_string()))?;
    user.epoch += 1;
    store.update_person(&user, Some(&Credential::password(&user.sub, hash, now))).await?;
    Ok(())
}

/// Disables (or enables) a person. Disabling ends every session of theirs
/// and stops their tokens.
pub async fn set_disabled(store: &dyn Store, username: &str, disabled: bool) -> Result<User, AdminError> {
    let mut user = existing_user(store, username).await?;
    if disabled && !user.disabled {
        user.epoch += 1;
    }
    user.disabled = disabled;
    store.update_person(&user, None).await?;
    Ok(user)
}

/// Renames a person: their `sub`, tokens and sessions stay.
pub async fn rename_user(store: &dyn Store, username: &str, new_name: &str) -> Result<User, AdminError> {
    let new_name = normalize_username(new_name)?;
    let old_name = normalize_username(username)?;
    let mut user = existing_user(store, &old_name).await?;
    let from = Identifier::Username(old_name);
    if user.username.as_deref() == Some(new_name.as_str()) {
        return Ok(user);
    }
    user.username = Some(new_name.clone());
    let to = Identifier::Username(new_name.clone());
    match store.rename_person(&user, &from, &to).await {
        Err(StoreError::Conflict(_)) => {
            Err(AdminError::Invalid(format!("the username {new_name:?} is taken")))
        }
        other => other.map(|()| user).map_err(AdminError::from),
    }
}

/// Deletes a person with their identifiers and credentials; `false` if
/// there was none.
pub async fn delete_user(store: &dyn Store, username: &str) -> Result<bool, AdminError> {
    match find_user(store, username).await? {
        Some(user) => Ok(store.delete_person(&user).await?),
        None => Ok(false),
    }
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

/// What claiming people's addresses as identifiers came to.
#[derive(Debug, Default)]
pub struct ClaimedEmails {
    /// Addresses now found by email.
    pub claimed: usize,
    /// Addresses that belong to someone else already (the person stays
    /// findable by username only), as `sub: address`.
    pub clashes: Vec<String>,
}

/// Makes every person's address an identifier that finds them, where it is
/// free: people of earlier releases (and moved legacy ones) have an address
/// in their record but no identifier item, so sign-in by email, reset and
/// sign-up could not find them. Idempotent.
pub async fn claim_emails(store: &dyn Store) -> Result<ClaimedEmails, AdminError> {
    let mut out = ClaimedEmails::default();
    for person in store.list_people().await? {
        let Some(email) = person.email.as_deref() else { continue };
        let id = Identifier::email(email);
        if store.find_identifier(&id).await?.as_deref() == Some(person.sub.as_str()) {
            continue;
        }
        if store.claim_identifier(&person.sub, &id).await? {
            out.claimed += 1;
        } else {
            out.clashes.push(format!("{}: {email}", person.sub));
        }
    }
    Ok(out)
}
