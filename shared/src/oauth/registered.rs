//! Clients as the store keeps them: the record a client id names while it
//! lives, and the scope a client that registers itself may ask for. Both
//! [`super::clients`] and [`super::client_metadata`] read these, so neither
//! needs the other's.

use crate::app::App;
use crate::domain::Client;
use crate::error::OAuthError;
use crate::oauth::scope::KNOWN_SCOPES;

/// The client `client_id` names, if it is registered and has not expired.
/// A disabled client is returned: callers say why it gets nothing.
pub async fn find(app: &App, client_id: &str) -> Result<Option<Client>, OAuthError> {
    let now = app.now();
    let client = app.store.get_client(client_id).await.map_err(OAuthError::store("reading the client"))?;
    Ok(client.filter(|c| c.is_live(now)))
}

/// The scope a self-registered client may ask for: the scopes it names that
/// this deployment grants (RFC 7591 2: the server may replace the others),
/// or all of them when it names none that are known. The deployment grants
/// the OpenID Connect scopes, `scopes_supported` and every registered
/// resource's scopes.
pub async fn registrable_scope(app: &App, asked: Option<&str>) -> Result<String, OAuthError> {
    let resources = app.store.list_resources().await.map_err(OAuthError::store("listing the resources"))?;
    let mut known: Vec<String> = KNOWN_SCOPES.iter().map(|s| (*s).to_owned()).collect();
    known.extend(app.config.scopes_supported.iter().flatten().cloned());
    known.extend(resources.iter().flat_map(|r| r.scopes.iter().map(str::to_owned)));
    known.sort();
    known.dedup();
    let chosen: Vec<&str> = asked
        .map(|a| a.split_whitespace().filter(|s| known.iter().any(|k| k == s)).collect())
        .unwrap_or_default();
    Ok(if chosen.is_empty() { known.join(" ") } else { chosen.join(" ") })
}
