//! The store traits on DynamoDB.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Update};

use super::item::{self, Item, Reader};
use super::{Cancelled, DynamoStore, backend, n, reason, s};
use crate::domain::{AccessTokenRecord, Client, CodeRecord, Grant, User};
use crate::store::{
    ClientStore, CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, StoreError, StoreResult,
    ThrottleStore, TokenStore, UserStore, redemption_verdict, rotation_verdict,
};

/// Transactions cancelled by a concurrent transaction are retried this often.
const CONFLICT_RETRIES: usize = 5;

impl DynamoStore {
    async fn put_new(&self, item: Item, what: String) -> StoreResult<()> {
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

    async fn put_existing(&self, item: Item, what: String) -> StoreResult<()> {
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

    async fn delete(&self, key: (String, String)) -> StoreResult<bool> {
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
    async fn query_partition(&self, pk: &str) -> StoreResult<Vec<Item>> {
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

    async fn get_live<T>(&self, key: (String, String), now: i64) -> StoreResult<Option<T>>
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
        self.put_new(client.into(), format!("client {}", client.client_id)).await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        self.get_live(item::client_key(client_id), 0).await
    }

    async fn list_clients(&self) -> StoreResult<Vec<Client>> {
        self.query_partition("CLIENT").await?.iter().map(Client::try_from).collect()
    }

    async fn update_client(&self, client: &Client) -> StoreResult<()> {
        self.put_existing(client.into(), format!("client {}", client.client_id)).await
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        self.delete(item::client_key(client_id)).await
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, user: &User) -> StoreResult<()> {
        self.put_new(user.into(), format!("user {}", user.username)).await
    }

    async fn get_user(&self, username: &str) -> StoreResult<Option<User>> {
        self.get_live(item::user_key(username), 0).await
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        self.query_partition("USER").await?.iter().map(User::try_from).collect()
    }

    async fn update_user(&self, user: &User) -> StoreResult<()> {
        self.put_existing(user.into(), format!("user {}", user.username)).await
    }

    async fn delete_user(&self, username: &str) -> StoreResult<bool> {
        self.delete(item::user_key(username)).await
    }
}

#[async_trait]
impl CodeStore for DynamoStore {
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()> {
        self.put_new(code.into(), "authorization code".into()).await
    }

    async fn get_code(&self, digest: &str, now: i64) -> StoreResult<Option<CodeRecord>> {
        self.get_live(item::code_key(digest), now).await
    }

    async fn consume_code(&self, digest: &str, issuance: &Issuance, now: i64) -> StoreResult<ConsumeOutcome> {
        let redeem = Update::builder()
            .set_key(Some(item::key(item::code_key(digest))))
            .update_expression("SET redeemed_grant = :gid, consume_id = :cid")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(redeemed_grant) \
                 AND valid_until > :now AND expires_at > :now",
            )
            .expression_attribute_values(":gid", s(&issuance.grant.grant_id))
            .expression_attribute_values(":cid", s(&issuance.consume_id))
            .expression_attribute_values(":now", n(now));
        for _ in 0..CONFLICT_RETRIES {
            let items = vec![
                self.update(redeem.clone())?,
                self.put((&issuance.grant).into(), Some("attribute_not_exists(pk)"))?,
                self.put((&issuance.access).into(), Some("attribute_not_exists(pk)"))?,
            ];
            let reasons = match self.transact(items).await? {
                Ok(()) => return Ok(ConsumeOutcome::Consumed),
                Err(reasons) => reasons,
            };
            let old = match reason(&reasons, 0) {
                Cancelled::Condition(old) => old,
                // Another transaction held the code: read what it left.
                Cancelled::Conflict => self.get(item::code_key(digest)).await?,
                Cancelled::Other(why) => {
                    return Err(StoreError::Backend(format!("code redemption cancelled: {why}")));
                }
            };
            let Some(old) = old.filter(|o| item::is_live(o, now)) else {
                return Ok(ConsumeOutcome::Invalid);
            };
            match redemption_verdict(&CodeRecord::try_from(&old)?, issuance, now) {
                Some(verdict) => return Ok(verdict),
                // Unredeemed and valid: the cancellation came from a conflict; try again.
                None => continue,
            }
        }
        Err(StoreError::Backend("code redemption kept conflicting with concurrent writes".into()))
    }
}

#[async_trait]
impl TokenStore for DynamoStore {
    async fn put_access_token(&self, token: &AccessTokenRecord) -> StoreResult<()> {
        self.put_new(token.into(), "access token".into()).await
    }

    async fn get_access_token(&self, digest: &str, now: i64) -> StoreResult<Option<AccessTokenRecord>> {
        self.get_live(item::access_key(digest), now).await
    }

    async fn get_grant(&self, grant_id: &str, now: i64) -> StoreResult<Option<Grant>> {
        self.get_live(item::grant_key(grant_id), now).await
    }

    async fn rotate_refresh(
        &self,
        grant_id: &str,
        rotation: &Rotation,
        now: i64,
    ) -> StoreResult<RotateOutcome> {
        let rotate = Update::builder()
            .set_key(Some(item::key(item::grant_key(grant_id))))
            .update_expression(
                "SET refresh_digest = :new, refresh_expires_at = :rexp, expires_at = :rexp, retired = :retired",
            )
            .condition_expression(
                "attribute_exists(pk) AND refresh_digest = :presented AND revoked = :false \
                 AND refresh_expires_at > :now AND expires_at > :now",
            )
            .expression_attribute_values(":new", s(&rotation.new_digest))
            .expression_attribute_values(":presented", s(&rotation.presented_digest))
            // A list, not a set: sets have no order, and the oldest are dropped first.
            .expression_attribute_values(
                ":retired",
                AttributeValue::L(rotation.retired.iter().cloned().map(AttributeValue::S).collect()),
            )
            .expression_attribute_values(":rexp", n(rotation.new_refresh_expires_at))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now));
        for _ in 0..CONFLICT_RETRIES {
            let items = vec![
                self.update(rotate.clone())?,
                self.put((&rotation.access).into(), Some("attribute_not_exists(pk)"))?,
            ];
            let reasons = match self.transact(items).await? {
                Ok(()) => return Ok(RotateOutcome::Rotated),
                Err(reasons) => reasons,
            };
            let old = match reason(&reasons, 0) {
                Cancelled::Condition(old) => old,
                Cancelled::Conflict => self.get(item::grant_key(grant_id)).await?,
                Cancelled::Other(why) => {
                    return Err(StoreError::Backend(format!("rotation cancelled: {why}")));
                }
            };
            let Some(old) = old.filter(|o| item::is_live(o, now)) else {
                return Ok(RotateOutcome::Invalid);
            };
            match rotation_verdict(&Grant::try_from(&old)?, rotation, now) {
                Some(verdict) => return Ok(verdict),
                // Still current and valid: the cancellation was a conflict; try again.
                None => continue,
            }
        }
        Err(StoreError::Backend("rotation kept conflicting with concurrent writes".into()))
    }

    async fn revoke_grant(&self, grant_id: &str) -> StoreResult<()> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item::key(item::grant_key(grant_id))))
            .update_expression("SET revoked = :true")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn revoke_access_token(&self, digest: &str) -> StoreResult<()> {
        self.delete(item::access_key(digest)).await.map(|_| ())
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
        Err(StoreError::Backend("throttle counter kept conflicting with concurrent writes".into()))
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
