//! The store traits on the file store: plain reads and writes, and the
//! atomic ones as `BEGIN IMMEDIATE` transactions.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{
    ACCESS, API_KEYS, CLIENT_ALIASES, CLIENTS, CODES, COUNTERS, FileStore, GRANTS, Put, RESOURCES,
    atomically, backend, delete, get, list, put,
};
use crate::domain::{AccessTokenRecord, ApiKey, Client, CodeRecord, Grant, Redemption, Resource};
use crate::store::{
    ApiKeyStore, ClientStore, CodeStore, ConsumeOutcome, Issuance, ResourceStore, RotateOutcome, Rotation,
    StoreError, StoreResult, ThrottleStore, TokenStore, redemption_verdict, rotation_verdict,
};

#[async_trait]
impl ClientStore for FileStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let id = &client.client_id;
        atomically(self, client.created_at, |c| {
            // Ids and aliases share one name space.
            let taken = |name: &str| -> StoreResult<bool> {
                Ok(get::<Client>(c, CLIENTS, name, None)?.is_some()
                    || get::<String>(c, CLIENT_ALIASES, name, None)?.is_some())
            };
            if taken(id)? {
                return Err(StoreError::Conflict(format!("client {id}")));
            }
            for alias in &client.dialect.client_id_aliases {
                if taken(alias)? {
                    return Err(StoreError::Conflict(format!("client id alias {alias}")));
                }
                put(c, CLIENT_ALIASES, alias, None, id, Put::New)?;
            }
            put(c, CLIENTS, id, client.expires_at, client, Put::New)?;
            Ok(((), true))
        })
    }
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let conn = self.lock();
        match get::<String>(&conn, CLIENT_ALIASES, client_id, None)? {
            Some(target) => get(&conn, CLIENTS, &target, None),
            None => get(&conn, CLIENTS, client_id, None),
        }
    }
    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        list(&self.lock(), CLIENTS)
    }
    async fn update_client(&self, client: &Client) -> StoreResult<()> {
        put(&self.lock(), CLIENTS, &client.client_id, client.expires_at, client, Put::Existing)
    }
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        let Some(client) = self.get_client(client_id).await? else { return Ok(false) };
        atomically(self, client.created_at, |c| {
            for alias in &client.dialect.client_id_aliases {
                delete(c, CLIENT_ALIASES, alias)?;
            }
            Ok((delete(c, CLIENTS, &client.client_id)?, true))
        })
    }
}

#[async_trait]
impl ApiKeyStore for FileStore {
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        put(&self.lock(), API_KEYS, &key.id, Some(key.expires_at), key, Put::New)
    }
    async fn get_api_key(&self, id: &str, now: i64) -> StoreResult<Option<ApiKey>> {
        get(&self.lock(), API_KEYS, id, Some(now))
    }
    async fn list_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKey>> {
        Ok(list::<ApiKey>(&self.lock(), API_KEYS)?.into_iter().filter(|k| k.expires_at > now).collect())
    }
    async fn delete_api_key(&self, id: &str) -> StoreResult<bool> {
        delete(&self.lock(), API_KEYS, id)
    }
    async fn touch_api_key(&self, id: &str, at: i64) -> StoreResult<()> {
        atomically(self, at, |c| {
            let Some(mut key) = get::<ApiKey>(c, API_KEYS, id, None)? else { return Ok(((), false)) };
            key.last_used_at = Some(at);
            put(c, API_KEYS, id, Some(key.expires_at), &key, Put::Existing)?;
            Ok(((), true))
        })
    }
}

#[async_trait]
impl ResourceStore for FileStore {
    async fn create_resource(&self, resource: &Resource) -> StoreResult<()> {
        put(&self.lock(), RESOURCES, &resource.uri, None, resource, Put::New)
    }
    async fn get_resource(&self, uri: &str) -> StoreResult<Option<Resource>> {
        get(&self.lock(), RESOURCES, uri, None)
    }
    async fn list_resources(&self) -> StoreResult<Vec<Resource>> {
        list(&self.lock(), RESOURCES)
    }
    async fn delete_resource(&self, uri: &str) -> StoreResult<bool> {
        delete(&self.lock(), RESOURCES, uri)
    }
}

#[async_trait]
impl CodeStore for FileStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        atomically(self, code.issued_at, |c| {
            put(c, CODES, &code.digest, Some(code.expires_at), code, Put::New).map(|()| ((), true))
        })
    }

    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>> {
        get(&self.lock(), CODES, digest, Some(now))
    }

    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome> {
        atomically(self, now, |c| {
            let Some(mut code) = get::<CodeRecord>(c, CODES, digest, Some(now))? else {
                return Ok((ConsumeOutcome::Invalid, false));
            };
            if let Some(verdict) = redemption_verdict(&code, issuance, now) {
                return Ok((verdict, false));
            }
            code.redeemed = Some(Redemption {
                grant_id: issuance.grant.grant_id.clone(),
                consume_id: issuance.consume_id.clone(),
            });
            put(c, CODES, digest, Some(code.expires_at), &code, Put::Existing)?;
            let g = &issuance.grant;
            put(c, GRANTS, &g.grant_id, Some(g.expires_at), g, Put::New)?;
            if let Some(a) = &issuance.access {
                put(c, ACCESS, &a.digest, Some(a.expires_at), a, Put::New)?;
            }
            Ok((ConsumeOutcome::Consumed, true))
        })
    }
}

#[async_trait]
impl TokenStore for FileStore {
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        atomically(self, token.issued_at, |c| {
            put(c, ACCESS, &token.digest, Some(token.expires_at), token, Put::New).map(|()| ((), true))
        })
    }

    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>> {
        let token: Option<AccessTokenRecord> = get(&self.lock(), ACCESS, digest, Some(now))?;
        Ok(token.map(AccessTokenRecord::with_legacy_kind))
    }

    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>> {
        get(&self.lock(), GRANTS, grant_id, Some(now))
    }

    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome> {
        atomically(self, now, |c| {
            let Some(mut grant) = get::<Grant>(c, GRANTS, grant_id, Some(now))? else {
                return Ok((RotateOutcome::Invalid, false));
            };
            if let Some(verdict) = rotation_verdict(&grant, rotation, now) {
                return Ok((verdict, false));
            }
            grant.refresh_digest = Some(rotation.new_digest.clone());
            grant.retired_digests = rotation.retired.clone();
            grant.refresh_expires_at = rotation.new_refresh_expires_at;
            grant.last_rotation = rotation.last.clone();
            grant.upstream = rotation.upstream.clone();
            grant.expires_at = grant.expires_at.max(rotation.new_refresh_expires_at);
            put(c, GRANTS, grant_id, Some(grant.expires_at), &grant, Put::Existing)?;
            if let Some(a) = &rotation.access {
                put(c, ACCESS, &a.digest, Some(a.expires_at), a, Put::New)?;
            }
            Ok((RotateOutcome::Rotated, true))
        })
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()> {
        atomically(self, 0, |c| match get::<Grant>(c, GRANTS, grant_id, None)? {
            Some(mut g) => {
                g.revoked = true;
                put(c, GRANTS, grant_id, Some(g.expires_at), &g, Put::Existing).map(|()| ((), true))
            }
            None => Ok(((), false)),
        })
    }

    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()> {
        delete(&self.lock(), ACCESS, digest).map(|_| ())
    }
}

/// A throttle counter's row body.
#[derive(Serialize, serde::Deserialize)]
struct Counter {
    hits: u32,
}

#[async_trait]
impl ThrottleStore for FileStore {
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32> {
        atomically(self, now, |c| {
            let sql = format!("SELECT expires_at, body FROM {COUNTERS} WHERE id = ?1");
            let row: Option<(i64, String)> = c
                .query_row(&sql, params![key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(backend)?;
            let (hits, end) = match row {
                Some((end, body)) if end > now => {
                    let old: Counter =
                        serde_json::from_str(&body).map_err(|e| StoreError::Backend(e.to_string()))?;
                    (old.hits.saturating_add(1), end)
                }
                _ => (1, window_end),
            };
            put(c, COUNTERS, key, Some(end), &Counter { hits }, Put::Any)?;
            Ok((hits, true))
        })
    }

    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32> {
        Ok(get::<Counter>(&self.lock(), COUNTERS, key, Some(now))?.map_or(0, |c| c.hits))
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        delete(&self.lock(), COUNTERS, key).map(|_| ())
    }
}
