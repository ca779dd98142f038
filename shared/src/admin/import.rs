//! `zeroauth user import`: people from another server, one JSON object per
//! line, with the password hash they already have (SPEC.md section 9). Each
//! line is one write: it is imported whole or not at all.

use serde::Deserialize;

use super::{AdminError, new_sub, normalize_username};
use crate::domain::{Credential, User};
use crate::sign_in::hashes::{self, Scheme};
use crate::store::{Store, StoreError};

/// One person as exported by their old server.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportedUser {
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    password_hash: String,
    /// The subject identifier apps already know them by (default: a new one).
    #[serde(default)]
    sub: Option<String>,
}

/// What became of one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// Imported: the username and the hash's scheme.
    Imported(String, Scheme),
    /// The username was taken already; nothing was changed.
    Skipped(String),
    /// Refused, and why.
    Failed(String),
}

/// Imports one line (`now` is the creation time). Blank lines are `None`.
pub async fn import_line(store: &dyn Store, line: &str, now: i64) -> Option<LineOutcome> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(match user_of(line, now) {
        Err(why) => LineOutcome::Failed(why),
        Ok((user, password, scheme)) => {
            let name = user.username.clone().unwrap_or_default();
            match store.create_person(&user, &[password]).await {
                Ok(()) => LineOutcome::Imported(name, scheme),
                // Someone else has the address: not the same person again.
                Err(StoreError::Conflict(what)) if what.contains("email:") => LineOutcome::Failed(format!(
                    "{name}: the email address belongs to another person already"
                )),
                Err(StoreError::Conflict(_)) => LineOutcome::Skipped(name),
                Err(e) => LineOutcome::Failed(AdminError::Store(e).to_string()),
            }
        }
    })
}

fn user_of(line: &str, now: i64) -> Result<(User, Credential, Scheme), String> {
    let u: ImportedUser = serde_json::from_str(line).map_err(|e| format!("not a JSON person: {e}"))?;
    let username = normalize_username(&u.username).map_err(|e| e.to_string())?;
    let scheme = hashes::scheme(&u.password_hash)?;
    let sub = match u.sub.map(|s| s.trim().to_owned()) {
        Some(s) if !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control) => s,
        Some(_) => return Err("`sub` must be 1 to 255 characters".into()),
        None => new_sub().map_err(|e| e.to_string())?,
    };
    let user = User {
        sub,
        username: Some(username),
        email: u.email.filter(|e| !e.trim().is_empty()),
        name: u.name.filter(|n| !n.trim().is_empty()),
        disabled: false,
        created_at: now,
        epoch: 0,
        email_verified: true,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    };
    let password = Credential::password(&user.sub, u.password_hash, now);
    Ok((user, password, scheme))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::find_user;
    use crate::store::memory::MemoryStore;

    const BCRYPT: &str = "$2b$04$VhtHsRCztwgfZ66qxMSLluuTSxUx93yRiVRcjEol1KkedTJeV/hnC";

    #[tokio::test]
    async fn lines_are_imported_skipped_or_refused_one_by_one() {
        let store = MemoryStore::new();
        let ok = format!(
            r#"{{"username":"Alice","email":"a@example.com","password_hash":"{BCRYPT}","sub":"u-1"}}"#
        );
        assert_eq!(
            import_line(&store, &ok, 1).await,
            Some(LineOutcome::Imported("alice".into(), Scheme::Bcrypt))
        );
        assert_eq!(
            import_line(&store, &ok, 2).await,
            Some(LineOutcome::Skipped("alice".into())),
            "idempotent"
        );
        assert_eq!(import_line(&store, "   ", 3).await, None);
        for (name, line) in [
            ("should fail because it is not JSON", "{username: alice}".to_owned()),
            (
                "should fail because the hash is unknown",
                r#"{"username":"bob","password_hash":"md5$x$y"}"#.into(),
            ),
            (
                "should fail because of an unknown field",
                format!(r#"{{"username":"bob","password_hash":"{BCRYPT}","role":"x"}}"#),
            ),
            (
                "should fail because the username is bad",
                format!(r#"{{"username":"b b","password_hash":"{BCRYPT}"}}"#),
            ),
        ] {
            assert!(matches!(import_line(&store, &line, 4).await, Some(LineOutcome::Failed(_))), "{name}");
        }
        assert_eq!(find_user(&store, "bob").await.unwrap(), None, "nothing of a refused line is written");
        let alice = find_user(&store, "alice").await.unwrap().unwrap();
        assert_eq!((alice.sub.as_str(), alice.created_at), ("u-1", 1));
    }
}
