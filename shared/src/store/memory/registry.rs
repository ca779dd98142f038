//! What operators and clients register, in memory: clients (with their id
//! aliases), API keys and protected resources.

use async_trait::async_trait;

use super::MemoryStore;
use crate::domain::{ApiKey, Client, Resource};
use crate::store::{ApiKeyStore, ClientStore, ResourceStore, StoreError, StoreResult};

#[async_trait]
impl ClientStore for MemoryStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let mut t = self.lock();
        let taken = |id: &str| t.clients.contains_key(id) || t.client_aliases.contains_key(id);
        if taken(&client.client_id) {
            return Err(StoreError::Conflict(format!("client {}", client.client_id)));
        }
        let aliases = &client.dialect.client_id_aliases;
        if let Some(a) = aliases.iter().find(|a| taken(a)) {
            return Err(StoreError::Conflict(format!("client id alias {a}")));
        }
        for a in aliases {
            t.client_aliases.insert(a.clone(), client.client_id.clone());
        }
        t.clients.insert(client.client_id.clone(), client.clone());
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let t = self.lock();
        let id = t.client_aliases.get(client_id).map_or(client_id, String::as_str);
        Ok(t.clients.get(id).cloned())
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        Ok(self.lock().clients.values().cloned().collect())
    }

    async fn update_client(&self, client: &Client) -> StoreResult<()> {
        match self.lock().clients.get_mut(&client.client_id) {
            Some(slot) => {
                *slot = client.clone();
                Ok(())
            }
            None => Err(StoreError::NotFound(format!("client {}", client.client_id))),
        }
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        let mut t = self.lock();
        let id = t.client_aliases.get(client_id).cloned().unwrap_or_else(|| client_id.to_owned());
        let Some(client) = t.clients.remove(&id) else { return Ok(false) };
        for a in &client.dialect.client_id_aliases {
            t.client_aliases.remove(a);
        }
        Ok(true)
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let mut t = self.lock();
        if t.api_keys.contains_key(&key.id) {
            return Err(StoreError::Conflict(format!("API key {}", key.id)));
        }
        t.api_keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn get_api_key(&self, id: &str, now: i64) -> StoreResult<Option<ApiKey>> {
        Ok(self.lock().api_keys.get(id).filter(|k| k.expires_at > now).cloned())
    }

    async fn list_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKey>> {
        Ok(self.lock().api_keys.values().filter(|k| k.expires_at > now).cloned().collect())
    }

    async fn delete_api_key(&self, id: &str) -> StoreResult<bool> {
        Ok(self.lock().api_keys.remove(id).is_some())
    }

    async fn touch_api_key(&self, id: &str, at: i64) -> StoreResult<()> {
        if let Some(k) = self.lock().api_keys.get_mut(id) {
            k.last_used_at = Some(at);
        }
        Ok(())
    }
}

#[async_trait]
impl ResourceStore for MemoryStore {
    async fn create_resource(&self, resource: &Resource) -> StoreResult<()> {
        let mut t = self.lock();
        if t.resources.contains_key(&resource.uri) {
            return Err(StoreError::Conflict(format!("resource {}", resource.uri)));
        }
        t.resources.insert(resource.uri.clone(), resource.clone());
        Ok(())
    }

    async fn get_resource(&self, uri: &str) -> StoreResult<Option<Resource>> {
        Ok(self.lock().resources.get(uri).cloned())
    }

    async fn list_resources(&self) -> StoreResult<Vec<Resource>> {
        Ok(self.lock().resources.values().cloned().collect())
    }

    async fn delete_resource(&self, uri: &str) -> StoreResult<bool> {
        Ok(self.lock().resources.remove(uri).is_some())
    }
}
