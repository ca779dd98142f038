//! Finding a client by its id: the stored record while it lives, with a
//! self-registered client's life renewed as it is used, or the client an
//! `https` client id's metadata document describes.

use crate::app::App;
use crate::domain::{Client, ClientSource};
use crate::error::OAuthError;
use crate::oauth::client_metadata;
pub use crate::oauth::registered::{find, registrable_scope};

/// A self-registered client's expiry is pushed back at most once a day, so
/// using it costs a write only on the first use of the day.
pub const RENEW_EVERY: i64 = 86_400;

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
