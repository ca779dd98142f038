//! The DynamoDB store: one table, keys `pk`/`sk`, TTL attribute `expires_at`.
//!
//! Reads that must see the latest write (codes, grants, tokens) are strongly
//! consistent. Every read checks `expires_at` itself. Writes that touch more
//! than one item are transactions carrying a `ClientRequestToken`, so an SDK
//! retry of a transaction that had already succeeded is idempotent.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::store::{StoreError, StoreResult};

mod factors;
mod federation;
mod flows;
mod impls;
pub mod item;
mod people;
mod person_items;
#[cfg(feature = "aws-recording")]
mod recorder;
mod records;
pub mod schema;
mod tokens;

use item::Item;

/// A [`Store`](crate::store::Store) on one DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// A store configured from the environment (`AWS_REGION`,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, credentials) on `table`.
    pub async fn from_env(table: impl Into<String>) -> Self {
        Self::new(client(&sdk_config().await), table)
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Makes one cheap call (a `GetItem` of a key that never exists, an
    /// action every function is allowed) so that the connection — DNS, TCP,
    /// TLS — is set up before the first request needs it; used during Lambda init.
    pub async fn warm_up(&self) -> StoreResult<()> {
        self.get(("WARMUP".into(), "WARMUP".into())).await.map(|_| ())
    }

    async fn get(&self, key: (String, String)) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(item::key(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        Ok(out.item)
    }

    fn put(&self, item: Item, condition: Option<&str>) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn update(
        &self,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
    ) -> StoreResult<TransactWriteItem> {
        let update: Update = update
            .table_name(&self.table)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a transaction. A cancellation comes back as its reasons so the
    /// caller can read the old item of a failed condition.
    ///
    /// Each call carries a fresh `ClientRequestToken`, which the SDK reuses
    /// for its own retries of this call: a retry of an attempt that had in fact
    /// succeeded returns success instead of failing its conditions. (The token
    /// is account-wide for ten minutes, so it cannot be a reused logical id.)
    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> StoreResult<Result<(), Vec<CancellationReason>>> {
        let token = crate::crypto::random_string(24).map_err(|e| StoreError::Backend(e.to_string()))?;
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .client_request_token(token)
            .send()
            .await;
        match res {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(se)) if se.err().is_transaction_canceled_exception() => {
                match se.into_err() {
                    TransactWriteItemsError::TransactionCanceledException(e) => {
                        Ok(Err(e.cancellation_reasons.unwrap_or_default()))
                    }
                    other => Err(StoreError::Backend(DisplayErrorContext(other).to_string())),
                }
            }
            Err(e) => Err(backend(e)),
        }
    }

    async fn update_returning(
        &self,
        key: (String, String),
        expression: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> StoreResult<Result<Item, Option<Item>>> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(item::key(key)))
            .update_expression(expression)
            .condition_expression(condition)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(out) => Ok(Ok(out.attributes.unwrap_or_default())),
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                let old = match se.into_err() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(e) => {
                        e.item
                    }
                    _ => None,
                };
                Ok(Err(old))
            }
            Err(e) => Err(backend(e)),
        }
    }
}

/// How long one attempt may take, connection included, before the SDK gives
/// up on it and (for a retryable call) tries again.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a whole call may take, retries and backoff included: well inside
/// the functions' 10-second Lambda timeout, so a request never hangs toward it.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(4);
/// Attempts per call (the first and two retries), for throttling, timeouts,
/// dropped connections and 5xx answers.
pub const MAX_ATTEMPTS: u32 = 3;

/// The AWS configuration from the environment (`AWS_REGION`,
/// `AWS_ENDPOINT_URL_*`, credentials) with ZeroAuth's [`timeouts`] and
/// [`retries`], for the functions and the operator commands alike.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await
}

/// A DynamoDB client on `sdk` (see [`recorded`]).
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::from_conf(recorded(sdk.into()).build())
}

/// The client configuration `builder`, carrying the recorder of
/// [`crate::aws_calls`] when a test asks for one (feature `aws-recording`
/// and `ZEROAUTH_AWS_RECORDING` set); otherwise unchanged. Every DynamoDB
/// client a function or the end-to-end tests use is built through this.
pub fn recorded(builder: aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder {
    #[cfg(feature = "aws-recording")]
    if let Some(recorder) = crate::aws_calls::Recorder::from_env(recorder::checks) {
        return builder.interceptor(recorder);
    }
    builder
}

/// Bounded timeouts: a connection in 1 s, an attempt in [`ATTEMPT_TIMEOUT`],
/// the whole call in [`OPERATION_TIMEOUT`].
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The SDK's standard retries (throttling, timeouts, dropped connections,
/// 5xx), [`MAX_ATTEMPTS`] attempts with short backoff: a person is waiting.
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(500))
}

/// Error codes DynamoDB answers when it is briefly over capacity or failing.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Turns an SDK error into a store error with its full context:
/// [`StoreError::Unavailable`] for what a later retry may fix (throttling, a
/// timeout, a dropped connection, a 5xx), [`StoreError::Backend`] otherwise.
pub(crate) fn backend<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(se) => {
            se.raw().status().as_u16() >= 500 || se.err().code().is_some_and(|c| TRANSIENT_CODES.contains(&c))
        }
        _ => false,
    };
    let context = DisplayErrorContext(e).to_string();
    if transient { StoreError::Unavailable(context) } else { StoreError::Backend(context) }
}

/// Why a transaction was cancelled, per item: the condition failed (with the
/// old item when asked for), another transaction conflicted, or something else.
enum Cancelled {
    Condition(Option<Item>),
    Conflict,
    Other(String),
}

fn reason(reasons: &[CancellationReason], index: usize) -> Cancelled {
    match reasons.get(index) {
        Some(r) if r.code() == Some("ConditionalCheckFailed") => Cancelled::Condition(r.item().cloned()),
        Some(r) if r.code() == Some("TransactionConflict") => Cancelled::Conflict,
        Some(r) => Cancelled::Other(format!("{:?}: {:?}", r.code(), r.message())),
        None => Cancelled::Other("no cancellation reason".into()),
    }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}
