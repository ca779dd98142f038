//! Finding a client by its id: the stored record while it lives, with a
//! self-registered client's life renewed as it is used, or the client an
//! `https` client id's metadata document describes.

use crate::app::App;
use crate::domain::{Client, ClientSource};
use crate::error::OAuthError;
use crate::oauth::client_metadata;
use crate::oauth::scope::KNOWN_SCOPES;

/// A self-registered client's expiry is pushed back at most once a day, so
/// using it costs a write only on the first use of the day.
pub const RENEW_EVERY: i64 = 86_400;

/// The client `client_id` names, if it is registered and has not expired.
/// A disabled client is returned: callers say why it gets nothing.
pub async fn find(app: &App, client_id: &str) -> Result<Option<Client>, OAuthError> {
    let now = app.now();
    let client = app.store.get_client(client_id).await.map_err(OAuthError::store("reading the client"))?;
    Ok(client.filter(|c| c.is_live(now)))
}

/// [`find`] for a request that uses the client (authorization, sign-in,
/// the token endpoint): a self-registered client's life is renewed.
pub async fn find_in_use(app: &App, client_id: &str) -> Result<Option<Client>, OAuthError> {
    if client_metadata::is_document_url(client_id) {
        return client_metadata::resolve(app, client_id).await;
    }
    let now = app.now();
    let Some(mut client) = find(app, client_id).await? else {
        return Ok(None);
    };
    if client.source == ClientSource::Registration {
        let ttl = app.config.registration.client_ttl;
        if client.expires_at.is_some_and(|t| t < now + ttl - RENEW_EVERY) {
            client.expires_at = Some(now + ttl);
            // Losing this write only shortens the client's life by a day.
            if let Err(e) = app.store.update_client(&client).await {
                tracing::warn!(error = %e, "could not renew a registered client's expiry");
            }
        }
    }
    Ok(Some(client))
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
