//! Second factors on DynamoDB. A credential (`CRED#<sub> / <kind>:<id>`,
//! mapped in `person_items.rs`) is replaced by one `PutItem` conditioned on
//! its stored `data` and `created_at` being those read, and spent by one
//! `DeleteItem` conditioned on its existence, so of concurrent attempts
//! exactly one succeeds. A factor change is one transaction: the person's
//! record put at the epoch read, the credentials put, those removed
//! conditioned on their existence, and the passkey identifier pointed at
//! the person. A ceremony is `CEREMONY#<handle digest> / CEREMONY` with
//! the TTL attribute `expires_at`, taken by one conditional `DeleteItem`
//! that returns it only while it is live.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};

use super::item::{self, Builder, Item, Reader, malformed};
use super::people::build_err;
use super::{DynamoStore, backend, n, s};
use crate::domain::{Ceremony, Credential, User};
use crate::store::factors::{passkey_identifier, same_credential, well_formed_change};
use crate::store::{FactorStore, StoreError, StoreResult};

impl From<&Ceremony> for Item {
    fn from(c: &Ceremony) -> Self {
        Builder::new(item::ceremony_key(&c.handle))
            .s("kind", c.kind.as_str())
            .opt_s("sub", c.sub.as_deref())
            .s("data", &serde_json::to_string(c).unwrap_or_default())
            .n("expires_at", c.expires_at)
            .0
    }
}

impl TryFrom<&Item> for Ceremony {
    type Error = StoreError;
    fn try_from(i: &Item) -> Result<Self, StoreError> {
        serde_json::from_str(&Reader(i).s("data")?).map_err(|_| malformed("data"))
    }
}

impl DynamoStore {
    /// A removal of the person's credential `key` that holds only if it exists.
    fn remove_existing(&self, sub: &str, key: &str) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(item::key((item::credentials_pk(sub), key.to_owned()))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[async_trait]
impl FactorStore for DynamoStore {
    async fn replace_credential(&self, before: &Credential, after: &Credential) -> StoreResult<bool> {
        same_credential(before, after)?;
        // The item's `data` is this serialisation of the credential's data,
        // which is deterministic: equal data, equal strings.
        let data = serde_json::to_string(&before.data).map_err(build_err)?;
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(after.into()))
            .condition_expression("#data = :data AND #created = :created")
            .expression_attribute_names("#data", "data")
            .expression_attribute_names("#created", "created_at")
            .expression_attribute_values(":data", s(&data))
            .expression_attribute_values(":created", n(before.created_at))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(e.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete_credential(&self, sub: &str, key: &str) -> StoreResult<bool> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key((item::credentials_pk(sub), key.to_owned()))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn change_factors(
        &self,
        person: &User,
        read_epoch: i64,
        put: &[Credential],
        delete: &[String],
    ) -> StoreResult<()> {
        well_formed_change(person, put, delete)?;
        let what = format!("person {}", person.sub);
        let mut writes = vec![(self.put_at_epoch(person, read_epoch)?, what.clone())];
        if let Some(id) = passkey_identifier(person) {
            writes.extend(self.claim(&person.sub, &id, true)?);
        }
        for c in put {
            writes.push((self.put(c.into(), None)?, c.key()));
        }
        for key in delete {
            writes.push((self.remove_existing(&person.sub, key)?, format!("credential {key} is gone")));
        }
        match self.transact_labelled(writes, "changing the factors").await {
            // The record's condition failed: it moved on, or there is none.
            Err(StoreError::Conflict(label)) if label == what => {
                match self.get(item::person_key(&person.sub)).await? {
                    Some(_) => Err(StoreError::Conflict(format!("{what} changed"))),
                    None => Err(StoreError::NotFound(what)),
                }
            }
            other => other,
        }
    }

    async fn put_ceremony(&self, ceremony: &Ceremony) -> StoreResult<()> {
        self.put_any(ceremony.into()).await
    }

    async fn take_ceremony(&self, handle: &str, now: i64) -> StoreResult<Option<Ceremony>> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(item::ceremony_key(handle))))
            .condition_expression("attribute_exists(pk) AND #exp > :now")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":now", n(now));
        self.delete_if(req).await
    }
}
