//! Upstream providers and sign-in states through them on DynamoDB: a
//! provider is `PROVIDER / <id>` (one partition, so one query lists them),
//! its settings one JSON attribute; a state is `UPSTREAM#<state digest> /
//! UPSTREAM` with the TTL attribute `expires_at`, spent by one conditional
//! `DeleteItem` whose condition is this browser's binding, so of concurrent
//! attempts exactly one gets the item back and another browser gets none.

use async_trait::async_trait;

use super::item::{self, Builder, Item, Reader, malformed};
use super::{DynamoStore, n, s};
use crate::domain::{Provider, UpstreamState};
use crate::store::{FederationStore, StoreError, StoreResult};

impl From<&Provider> for Item {
    fn from(p: &Provider) -> Self {
        Builder::new(item::provider_key(&p.id))
            .s("data", &serde_json::to_string(p).unwrap_or_default())
            .n("created_at", p.created_at)
            .0
    }
}

impl TryFrom<&Item> for Provider {
    type Error = StoreError;
    fn try_from(i: &Item) -> Result<Self, StoreError> {
        serde_json::from_str(&Reader(i).s("data")?).map_err(|_| malformed("data"))
    }
}

impl From<&UpstreamState> for Item {
    fn from(u: &UpstreamState) -> Self {
        Builder::new(item::upstream_state_key(&u.state))
            .s("binding", &u.binding)
            .s("data", &serde_json::to_string(u).unwrap_or_default())
            .n("expires_at", u.expires_at)
            .0
    }
}

impl TryFrom<&Item> for UpstreamState {
    type Error = StoreError;
    fn try_from(i: &Item) -> Result<Self, StoreError> {
        serde_json::from_str(&Reader(i).s("data")?).map_err(|_| malformed("data"))
    }
}

#[async_trait]
impl FederationStore for DynamoStore {
    async fn create_provider(&self, provider: &Provider) -> StoreResult<()> {
        self.put_new(provider.into(), format!("provider {}", provider.id)).await
    }

    async fn get_provider(&self, id: &str) -> StoreResult<Option<Provider>> {
        self.get_live(item::provider_key(id), 0).await
    }

    async fn list_providers(&self) -> StoreResult<Vec<Provider>> {
        self.query_partition("PROVIDER").await?.iter().map(Provider::try_from).collect()
    }

    async fn update_provider(&self, provider: &Provider) -> StoreResult<()> {
        self.put_existing(provider.into(), format!("provider {}", provider.id)).await
    }

    async fn delete_provider(&self, id: &str) -> StoreResult<bool> {
        self.delete(item::provider_key(id)).await
    }

    async fn put_upstream_state(&self, state: &UpstreamState) -> StoreResult<()> {
        self.put_any(state.into()).await
    }

    async fn take_upstream_state(
        &self,
        state: &str,
        binding: &str,
        now: i64,
    ) -> StoreResult<Option<UpstreamState>> {
        let req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(item::upstream_state_key(state))))
            .condition_expression("#exp > :now AND #binding = :binding")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_names("#binding", "binding")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":binding", s(binding));
        self.delete_if(req).await
    }
}
