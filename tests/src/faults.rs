//! Faults injected on the real SDK path in front of DynamoDB Local: an SDK
//! interceptor that, for a named operation and a number of attempts, makes
//! DynamoDB refuse the call as throttled (nothing written), drops the
//! connection, sends it where nothing answers, or lets the write happen and
//! loses the answer. The store runs with ZeroAuth's own timeouts and retries,
//! so the SDK's retries and the server's answers are the ones deployed.

use std::sync::{Arc, Mutex, PoisonError};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use zeroauth_shared::store::dynamodb::{self, DynamoStore, schema};
use zeroauth_shared::testing::{endpoint, local_client};

/// What happens to a faulted attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// DynamoDB never sees the call and the SDK reads a throttling error
    /// (`ProvisionedThroughputExceededException`): nothing is written.
    Throttle,
    /// The connection is refused: nothing is written.
    Drop,
    /// The call goes to a listener that accepts and never answers.
    Hang,
    /// The call reaches DynamoDB and is carried out, but its answer is lost
    /// and the SDK reads a 500 instead.
    LoseAnswer,
}

#[derive(Debug, Clone)]
struct Injected(Option<Fault>);

impl Storable for Injected {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Default)]
struct Plan {
    operation: &'static str,
    fault: Option<Fault>,
    attempts: usize,
}

/// The switch a test holds: which operation fails, how, for how many attempts.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
    hang: Arc<Mutex<Option<String>>>,
}

impl Faults {
    /// The next `attempts` attempts of `operation` (an SDK operation name
    /// such as `TransactWriteItems`) meet `fault`; every other call is untouched.
    pub fn inject(&self, operation: &'static str, fault: Fault, attempts: usize) {
        *self.plan.lock().unwrap_or_else(PoisonError::into_inner) =
            Plan { operation, fault: Some(fault), attempts };
    }

    /// Faulted attempts not yet met.
    pub fn left(&self) -> usize {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner).attempts
    }

    fn take(&self, operation: &str) -> Option<Fault> {
        let mut plan = self.plan.lock().unwrap_or_else(PoisonError::into_inner);
        if plan.operation != operation || plan.attempts == 0 {
            return None;
        }
        plan.attempts -= 1;
        plan.fault
    }
}

impl Intercept for Faults {
    fn name(&self) -> &'static str {
        "ZeroAuthTestFaults"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        let fault = self.take(&operation);
        let request = ctx.request_mut();
        match fault {
            // An operation DynamoDB does not have: refused, nothing written.
            Some(Fault::Throttle) => {
                request.headers_mut().insert("x-amz-target", "DynamoDB_20120810.InjectedFault");
            }
            Some(Fault::Drop) => request.set_uri("http://127.0.0.1:1/")?,
            Some(Fault::Hang) => {
                let addr = self.hang.lock().unwrap_or_else(PoisonError::into_inner).clone();
                request.set_uri(format!("http://{}/", addr.ok_or("no hanging listener")?))?;
            }
            Some(Fault::LoseAnswer) | None => {}
        }
        cfg.interceptor_state().store_put(Injected(fault));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (status, kind) = match cfg.load::<Injected>() {
            Some(Injected(Some(Fault::Throttle))) => (400, "ProvisionedThroughputExceededException"),
            Some(Injected(Some(Fault::LoseAnswer))) => (500, "InternalServerError"),
            _ => return Ok(()),
        };
        let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected"}}"#);
        let mut res = HttpResponse::new(StatusCode::try_from(status)?, SdkBody::from(body));
        res.headers_mut().insert("content-type", "application/x-amz-json-1.0");
        *ctx.response_mut() = res;
        Ok(())
    }
}

/// A store on a fresh DynamoDB Local table whose SDK client carries the
/// fault switch, with ZeroAuth's deployed timeouts and retries.
pub async fn faulty_store() -> (DynamoStore, Faults) {
    let table = format!("zeroauth-faults-{}", zeroauth_shared::crypto::random_string(9).expect("randomness"));
    schema::create_table(&local_client(&endpoint()), &table, false).await.expect("a table in DynamoDB Local");
    let faults = Faults::default();
    let hang = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    *faults.hang.lock().unwrap_or_else(PoisonError::into_inner) =
        Some(hang.local_addr().expect("local address").to_string());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hang.accept().await {
            held.push(socket);
        }
    });
    let builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zeroauth-tests"))
        .timeout_config(dynamodb::timeouts())
        .retry_config(dynamodb::retries())
        .interceptor(faults.clone());
    let conf = dynamodb::recorded(builder).build();
    (DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table), faults)
}
