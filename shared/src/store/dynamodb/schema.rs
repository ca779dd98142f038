//! The table's schema, in one place: `zeroauth table create`, the tests and
//! the drift check against `infra/template.yaml` all read it from here.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};

use crate::store::{StoreError, StoreResult};

/// The partition key attribute (type S).
pub const PARTITION_KEY: &str = "pk";
/// The sort key attribute (type S).
pub const SORT_KEY: &str = "sk";
/// The TTL attribute: epoch seconds after which an item is dead.
pub const TTL_ATTRIBUTE: &str = "expires_at";

fn build_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Creates the table (pay per request) and, when `ttl` is true, turns on TTL
/// on [`TTL_ATTRIBUTE`]. Tests pass `ttl: false` so that the code's own
/// expiry checks — not DynamoDB Local's prompt deletions — are what they exercise.
/// An existing table is `Conflict`.
pub async fn create_table(client: &Client, table: &str, ttl: bool) -> StoreResult<()> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build_err)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(build_err)
    };
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PARTITION_KEY)?)
        .attribute_definitions(attr(SORT_KEY)?)
        .key_schema(key(PARTITION_KEY, KeyType::Hash)?)
        .key_schema(key(SORT_KEY, KeyType::Range)?)
        .send()
        .await;
    if let Err(e) = created {
        let in_use = e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception());
        return Err(if in_use { StoreError::Conflict(format!("table {table}")) } else { super::backend(e) });
    }
    wait_active(client, table).await?;
    if ttl {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(build_err)?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(super::backend)?;
    }
    Ok(())
}

async fn wait_active(client: &Client, table: &str) -> StoreResult<()> {
    for _ in 0..120 {
        let out = client.describe_table().table_name(table).send().await.map_err(super::backend)?;
        let status = out.table().and_then(|t| t.table_status()).map(|s| s.as_str().to_owned());
        if status.as_deref() == Some("ACTIVE") {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(StoreError::Backend(format!("table {table} did not become ACTIVE within a minute")))
}
