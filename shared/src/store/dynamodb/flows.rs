//! Self-service flows and challenges on DynamoDB: a flow is
//! `FLOW#<handle digest> / FLOW`, a person's challenge of a kind
//! `CHAL#<sub> / <kind>` (so a new one replaces the last), both with the
//! TTL attribute `expires_at`. A challenge is spent by one conditional
//! `DeleteItem` whose condition is the proof, so of concurrent attempts
//! exactly one gets the item back.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;

use super::item::{self, Builder, Item, Reader, malformed};
use super::{DynamoStore, backend, n, s};
use crate::domain::{Challenge, ChallengeKind, Flow, Proof};
use crate::store::{FlowStore, StoreError, StoreResult};

impl From<&Flow> for Item {
    fn from(f: &Flow) -> Self {
        Builder::new(item::flow_key(&f.handle))
            .s("kind", f.kind.as_str())
            .opt_s("sub", f.sub.as_deref())
            .s("email", &f.email)
            .opt_s("return_to", f.return_to.as_deref())
            .n("created_at", f.created_at)
            .n("expires_at", f.expires_at)
            .0
    }
}

fn kind(name: &str, attribute: &str) -> Result<ChallengeKind, StoreError> {
    ChallengeKind::parse(name).ok_or_else(|| malformed(attribute))
}

impl TryFrom<&Item> for Flow {
    type Error = StoreError;
    fn try_from(i: &Item) -> Result<Self, StoreError> {
        let r = Reader(i);
        let handle = r.s("pk")?.strip_prefix("FLOW#").map(str::to_owned).ok_or_else(|| malformed("pk"))?;
        Ok(Flow {
            handle,
            kind: kind(&r.s("kind")?, "kind")?,
            sub: r.opt_s("sub")?,
            email: r.s("email")?,
            return_to: r.opt_s("return_to")?,
            created_at: r.n("created_at")?,
            expires_at: r.n("expires_at")?,
        })
    }
}

impl From<&Challenge> for Item {
    fn from(c: &Challenge) -> Self {
        Builder::new(item::challenge_key(&c.sub, c.kind))
            .s("email", &c.email)
            .s("code_digest", &c.code_digest)
            .s("link_digest", &c.link_digest)
            .opt_s("flow", c.flow.as_deref())
            .n("created_at", c.created_at)
            .n("expires_at", c.expires_at)
            .0
    }
}

impl TryFrom<&Item> for Challenge {
    type Error = StoreError;
    fn try_from(i: &Item) -> Result<Self, StoreError> {
        let r = Reader(i);
        let sub = r.s("pk")?.strip_prefix("CHAL#").map(str::to_owned).ok_or_else(|| malformed("pk"))?;
        Ok(Challenge {
            sub,
            kind: kind(&r.sk()?, "sk")?,
            email: r.s("email")?,
            code_digest: r.s("code_digest")?,
            link_digest: r.s("link_digest")?,
            flow: r.opt_s("flow")?,
            created_at: r.n("created_at")?,
            expires_at: r.n("expires_at")?,
        })
    }
}

impl DynamoStore {
    /// Sends a conditional `DeleteItem` that returns the old item: the
    /// item it removed, or `None` when the condition failed (or there was none).
    pub(super) async fn delete_if<T>(&self, req: DeleteItemFluentBuilder) -> StoreResult<Option<T>>
    where
        T: for<'a> TryFrom<&'a Item, Error = StoreError>,
    {
        match req.return_values(ReturnValue::AllOld).send().await {
            Ok(out) => match out.attributes {
                Some(old) if !old.is_empty() => T::try_from(&old).map(Some),
                _ => Ok(None),
            },
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(backend(e)),
        }
    }
}

#[async_trait]
impl FlowStore for DynamoStore {
    async fn put_flow(&self, flow: &Flow) -> StoreResult<()> {
        self.put_any(flow.into()).await
    }

    async fn get_flow(&self, handle: &str, now: i64) -> StoreResult<Option<Flow>> {
        self.get_live(item::flow_key(handle), now).await
    }

    async fn delete_flow(&self, handle: &str) -> StoreResult<()> {
        self.delete(item::flow_key(handle)).await.map(|_| ())
    }

    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        self.put_any(challenge.into()).await
    }

    async fn consume_challenge(
        &self,
        sub: &str,
        kind: ChallengeKind,
        proof: &Proof<'_>,
        now: i64,
    ) -> StoreResult<Option<Challenge>> {
        // The condition is the proof: `Challenge::accepts` as an expression.
        let (condition, names, values) = match proof {
            Proof::Code { digest, flow } => (
                "#exp > :now AND (#code = :d AND #flow = :f)",
                [("#code", "code_digest"), ("#flow", "flow")].as_slice(),
                vec![(":d", s(digest)), (":f", s(flow))],
            ),
            Proof::Link { digest } => {
                ("#exp > :now AND #link = :d", [("#link", "link_digest")].as_slice(), vec![(":d", s(digest))])
            }
        };
        let mut req = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item::key(item::challenge_key(sub, kind))))
            .condition_expression(condition)
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":now", n(now))
            .return_values(ReturnValue::AllOld);
        for (name, attribute) in names {
            req = req.expression_attribute_names(*name, *attribute);
        }
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        self.delete_if(req).await
    }

    async fn delete_challenge(&self, sub: &str, kind: ChallengeKind) -> StoreResult<()> {
        self.delete(item::challenge_key(sub, kind)).await.map(|_| ())
    }
}
