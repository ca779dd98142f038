//! Codes, grants and access tokens on DynamoDB: the two atomic
//! transactions (code redemption, refresh rotation) and revocation.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Update};

use super::impls::CONFLICT_RETRIES;
use super::item;
use super::{Cancelled, DynamoStore, backend, n, reason, s};
use crate::domain::{AccessTokenRecord, CodeRecord, Grant};
use crate::store::{
    CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, StoreError, StoreResult, TokenStore,
    redemption_verdict, rotation_verdict,
};

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
            let mut items = vec![
                self.update(redeem.clone())?,
                self.put((&issuance.grant).into(), Some("attribute_not_exists(pk)"))?,
            ];
            if let Some(access) = &issuance.access {
                items.push(self.put(access.into(), Some("attribute_not_exists(pk)"))?);
            }
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
        Err(StoreError::Unavailable("code redemption kept conflicting with concurrent writes".into()))
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
        let last = rotation.last.as_ref().and_then(|l| serde_json::to_string(l).ok());
        let mut set =
            "SET refresh_digest = :new, refresh_expires_at = :rexp, expires_at = :rexp, retired = :retired"
                .to_owned();
        let mut remove = Vec::new();
        match last {
            Some(_) => set.push_str(", last_rotation = :last"),
            None => remove.push("last_rotation"),
        }
        match rotation.upstream {
            Some(_) => set.push_str(", upstream = :up"),
            None => remove.push("upstream"),
        }
        let expression = if remove.is_empty() { set } else { format!("{set} REMOVE {}", remove.join(", ")) };
        let mut rotate = Update::builder()
            .set_key(Some(item::key(item::grant_key(grant_id))))
            .update_expression(expression)
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
        if let Some(last) = last {
            rotate = rotate.expression_attribute_values(":last", s(&last));
        }
        if let Some(up) = &rotation.upstream {
            rotate = rotate.expression_attribute_values(":up", s(up));
        }
        for _ in 0..CONFLICT_RETRIES {
            let mut items = vec![self.update(rotate.clone())?];
            if let Some(access) = &rotation.access {
                items.push(self.put(access.into(), Some("attribute_not_exists(pk)"))?);
            }
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
        Err(StoreError::Unavailable("rotation kept conflicting with concurrent writes".into()))
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
