//! The client, user and throttle stores on DynamoDB, and the helpers every
//! store method uses.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;

use super::item::{self, Item, Reader};
use super::{DynamoStore, backend, n, s};
use crate::domain::{ApiKey, Client, Resource};
use crate::store::{ApiKeyStore, ClientStore, ResourceStore, StoreError, StoreResult, ThrottleStore};

/// The attribute of a client id alias's item: the client it names.
const ALIAS_OF: &str = "alias_of";

/// Transactions cancelled by a concurrent transaction are retried this often.
pub(super) const CONFLICT_RETRIES: usize = 5;

impl DynamoStore {
    pub(super) async fn put_new(&self, item: Item, what: String) -> StoreResult<()> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict(what))
            }
            Err(e) => Err(backend(e)),
        }
    }

    /// Stores an item, replacing any under its key.
    pub(super) async fn put_any(&self, item: Item) -> StoreResult<()> {
        self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await.map_err(backend)?;
        Ok(())
    }

    pub(super) async fn put_existing(&self, item: Item, what: String) -> StoreResult<()> {
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(StoreError::NotFound(what))
            }
            Err(e) => Err(backend(e)),
        }
    }

    pub(super) async fn delete(&self, key: (String, String)) -> StoreResult<bool> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(key)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// Every item of one partition, following pagination.
    pub(super) async fn query_partition(&self, pk: &str) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(backend)?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    pub(super) async fn get_live<T>(&self, key: (String, String), now: i64) -> StoreResult<Option<T>>
    where
        T: for<'a> TryFrom<&'a Item, Error = StoreError>,
    {
        match self.get(key).await? {
            Some(i) if item::is_live(&i, now) => T::try_from(&i).map(Some),
            _ => Ok(None),
        }
    }
}

#[async_trait]
impl ClientStore for DynamoStore {
    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        let aliases = &client.dialect.client_id_aliases;
        if aliases.is_empty() {
            return self.put_new(client.into(), format!("client {}", client.client_id)).await;
        }
        // The client and a pointer item per alias, in the clients' own key
        // space, so an alias can take neither an id nor another alias.
        let mut items = vec![self.put(client.into(), Some("attribute_not_exists(pk)"))?];
        for alias in aliases {
            let pointer = item::Builder::new(item::client_key(alias)).s(ALIAS_OF, &client.client_id).0;
            items.push(self.put(pointer, Some("attribute_not_exists(pk)"))?);
        }
        match self.transact(items).await? {
            Ok(()) => Ok(()),
            Err(reasons) => match reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                Some(0) => Err(StoreError::Conflict(format!("client {}", client.client_id))),
                Some(i) => Err(StoreError::Conflict(format!(
                    "client id alias {}",
                    i.checked_sub(1).and_then(|i| aliases.get(i)).map_or("", String::as_str)
                ))),
                // Cancelled by a concurrent write, not by a taken name.
                None => Err(StoreError::Unavailable(
                    "creating the client met a concurrent write; try again".into(),
                )),
            },
        }
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let Some(found) = self.get(item::client_key(client_id)).await? else {
            return Ok(None);
        };
        match Reader(&found).opt_s(ALIAS_OF)? {
            Some(target) => self.get_live(item::client_key(&target), 0).await,
            None => Client::try_from(&found).map(Some),
        }
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        let items = self.query_partition("CLIENT").await?;
        items.iter().filter(|i| !i.contains_key(ALIAS_OF)).map(Client::try_from).collect()
    }

    async fn update_client(&self, client: &Client) -> StoreResult<()> {
        self.put_existing(client.into(), format!("client {}", client.client_id)).await
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        let Some(client) = self.get_client(client_id).await? else {
            return Ok(false);
        };
        // The client first: a pointer left behind by a failure points at nothing.
        let deleted = self.delete(item::client_key(&client.client_id)).await?;
        for alias in &client.dialect.client_id_aliases {
            self.delete(item::client_key(alias)).await?;
        }
        Ok(deleted)
    }
}

#[async_trait]
impl ApiKeyStore for DynamoStore {
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.put_new(key.into(), format!("API key {}", key.id)).await
    }

    async fn get_api_key(&self, id: &str, now: i64) -> StoreResult<Option<ApiKey>> {
        self.get_live(item::api_key_key(id), now).await
    }

    async fn list_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKey>> {
        let items = self.query_partition("APIKEY").await?;
        items.iter().filter(|i| item::is_live(i, now)).map(ApiKey::try_from).collect()
    }

    async fn delete_api_key(&self, id: &str) -> StoreResult<bool> {
        self.delete(item::api_key_key(id)).await
    }

    async fn touch_api_key(&self, id: &str, at: i64) -> StoreResult<()> {
        // A key revoked meanwhile fails the condition and stays revoked.
        self.update_returning(
            item::api_key_key(id),
            "SET last_used_at = :at",
            "attribute_exists(pk)",
            vec![(":at", n(at))],
        )
        .await
        .map(|_| ())
    }
}

#[async_trait]
impl ResourceStore for DynamoStore {
    async fn create_resource(&self, resource: &Resource) -> StoreResult<()> {
        self.put_new(resource.into(), format!("resource {}", resource.uri)).await
    }

    async fn get_resource(&self, uri: &str) -> StoreResult<Option<Resource>> {
        self.get_live(item::resource_key(uri), 0).await
    }

    async fn list_resources(&self) -> StoreResult<Vec<Resource>> {
        self.query_partition("RESOURCE").await?.iter().map(Resource::try_from).collect()
    }

    async fn delete_resource(&self, uri: &str) -> StoreResult<bool> {
        self.delete(item::resource_key(uri)).await
    }
}

#[async_trait]
impl ThrottleStore for DynamoStore {
    async fn hit(&self, key: &str, window_end: i64, now: i64) -> StoreResult<u32> {
        for _ in 0..CONFLICT_RETRIES {
            // Count within the live window…
            let bumped = self
                .update_returning(
                    item::counter_key(key),
                    "SET expires_at = if_not_exists(expires_at, :end) ADD hits :one",
                    "attribute_not_exists(pk) OR expires_at > :now",
                    vec![(":end", n(window_end)), (":one", n(1)), (":now", n(now))],
                )
                .await?;
            if let Ok(new) = bumped {
                let hits = Reader(&new).n("hits")?;
                return Ok(u32::try_from(hits).unwrap_or(u32::MAX));
            }
            // …or start a new window over an expired counter.
            let restarted = self
                .update_returning(
                    item::counter_key(key),
                    "SET expires_at = :end, hits = :one",
                    "expires_at <= :now",
                    vec![(":end", n(window_end)), (":one", n(1)), (":now", n(now))],
                )
                .await?;
            if restarted.is_ok() {
                return Ok(1);
            }
        }
        Err(StoreError::Unavailable("throttle counter kept conflicting with concurrent writes".into()))
    }

    async fn hits(&self, key: &str, now: i64) -> StoreResult<u32> {
        match self.get(item::counter_key(key)).await? {
            Some(i) if item::is_live(&i, now) => {
                Ok(u32::try_from(Reader(&i).opt_n("hits")?.unwrap_or(0)).unwrap_or(u32::MAX))
            }
            _ => Ok(0),
        }
    }

    async fn clear(&self, key: &str) -> StoreResult<()> {
        self.delete(item::counter_key(key)).await.map(|_| ())
    }
}
