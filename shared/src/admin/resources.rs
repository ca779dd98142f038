//! Registering protected resources (RFC 8707).

use serde::Deserialize;

use super::AdminError;
use crate::domain::Resource;
use crate::oauth::{Scope, resource};
use crate::store::Store;

/// A protected resource to register (RFC 8707).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    /// The canonical URI (absolute, no fragment), e.g. `https://mcp.example.com/mcp`.
    pub uri: String,
    /// The scopes it accepts, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// Confidential clients the resource server authenticates as, which may
    /// introspect tokens for it.
    #[serde(default)]
    pub clients: Vec<String>,
}

/// Registers a protected resource.
pub async fn create_resource(store: &dyn Store, new: NewResource, now: i64) -> Result<Resource, AdminError> {
    let uri = new.uri.trim().to_owned();
    resource::check_uri(&uri).map_err(AdminError::Invalid)?;
    let scopes = match new.scope.as_deref() {
        Some(s) => Scope::parse(s).map_err(|e| AdminError::Invalid(e.to_string()))?,
        None => Scope::default(),
    };
    for id in &new.clients {
        let client = store.get_client(id).await?;
        match client {
            Some(c) if !c.is_public() => {}
            Some(_) => {
                return Err(AdminError::Invalid(format!(
                    "client {id:?} is public: only a confidential client can introspect"
                )));
            }
            None => return Err(AdminError::Invalid(format!("there is no client {id:?}"))),
        }
    }
    let resource = Resource { uri, scopes, clients: new.clients, created_at: now };
    store.create_resource(&resource).await?;
    Ok(resource)
}
