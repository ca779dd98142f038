//! Issuing API keys (SPEC.md section 9).

use super::{AdminError, normalize_username};
use crate::domain::ApiKey;
use crate::oauth::{Scope, api_keys};
use crate::secret::AccessToken;
use crate::store::Store;

/// The longest an API key may live: five years.
pub const MAX_API_KEY_DAYS: i64 = 5 * 366;

/// An API key to issue.
#[derive(Debug, Clone, Default)]
pub struct NewApiKey {
    /// The client it acts as (id or id alias).
    pub client_id: String,
    /// The person it acts for, by username.
    pub username: Option<String>,
    /// Its scopes, space-separated; default the client's.
    pub scope: Option<String>,
    /// How long it lives: `90d`, `12h` (default 90 days).
    pub expires: Option<String>,
}

/// Parses a lifetime such as `90d` or `12h` into seconds: an hour to five years.
pub fn parse_lifetime(text: &str) -> Result<i64, AdminError> {
    let t = text.trim();
    let bad = || {
        AdminError::Invalid(format!(
            "--expires {text:?} must be a number of days or hours such as 90d or 12h, from 1h to {MAX_API_KEY_DAYS}d"
        ))
    };
    let (n, unit) = t.split_at(t.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(bad)?;
    if (3600..=MAX_API_KEY_DAYS * 86_400).contains(&secs) { Ok(secs) } else { Err(bad()) }
}

/// Issues a key: the client (and person) must exist and be active, the
/// scope must be the client's or narrower. Returns the key, to be shown
/// once, and its record.
pub async fn create_api_key(
    store: &dyn Store,
    new: NewApiKey,
    now: i64,
) -> Result<(AccessToken, ApiKey), AdminError> {
    let client = store
        .get_client(new.client_id.trim())
        .await?
        .filter(|c| c.is_live(now))
        .ok_or_else(|| AdminError::Invalid(format!("there is no client {:?}", new.client_id)))?;
    if client.disabled {
        return Err(AdminError::Invalid(format!("client {:?} is disabled", client.client_id)));
    }
    let user = match &new.username {
        Some(u) => {
            let name = normalize_username(u)?;
            let user = super::find_user(store, &name).await?.filter(|u| u.is_active());
            Some(user.ok_or_else(|| AdminError::Invalid(format!("there is no active user {name:?}")))?)
        }
        None => None,
    };
    let scope = Scope::narrow(new.scope.as_deref(), &client.scopes)
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    let lifetime = parse_lifetime(new.expires.as_deref().unwrap_or("90d"))?;
    let (key, record) = api_keys::mint(
        &client.client_id,
        user.as_ref().map(|u| (u.username.as_deref().unwrap_or_default(), u.sub.as_str())),
        scope,
        now,
        now + lifetime,
    )
    .map_err(|e| AdminError::Invalid(e.to_string()))?;
    store.create_api_key(&record).await?;
    Ok((key, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_days_or_hours_within_bounds() {
        assert_eq!(parse_lifetime("90d").unwrap(), 90 * 86_400);
        assert_eq!(parse_lifetime("12h").unwrap(), 12 * 3600);
        for bad in ["", "d", "90", "0h", "90w", "-1d", "99999999999999999d", "1831d", "1.5d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad:?}");
        }
    }
}
