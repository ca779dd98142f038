//! Finding 13: a replayed code or a reused refresh token whose revocation
//! write failed answered 500 and left the family alive. Faults are injected
//! on the real SDK path against DynamoDB Local: an interceptor turns the
//! next revocations into requests DynamoDB refuses (so nothing is written).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use zeroauth_e2e::Server;
use zeroauth_shared::store::dynamodb::{DynamoStore, schema};
use zeroauth_shared::testing::{endpoint, local_client};

/// Once armed, the next `left` `UpdateItem` calls (the revocations) name an
/// operation DynamoDB does not have: it refuses them and writes nothing.
#[derive(Debug)]
struct FailRevocations {
    armed: Arc<AtomicBool>,
    left: Arc<AtomicUsize>,
}

impl Intercept for FailRevocations {
    fn name(&self) -> &'static str {
        "FailRevocations"
    }

    fn modify_before_transmit(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let update = cfg.load::<Metadata>().is_some_and(|m| m.name() == "UpdateItem");
        let fail = update
            && self.armed.load(Ordering::SeqCst)
            && self.left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if fail {
            ctx.request_mut().headers_mut().insert("x-amz-target", "DynamoDB_20120810.InjectedFault");
        }
        Ok(())
    }
}

/// A server whose store fails the next two revocations once `armed` is set.
async fn server_with_failing_revocations() -> (Server, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let plain = local_client(&endpoint());
    let table = format!("zeroauth-faults-{}", zeroauth_shared::crypto::random_string(9).expect("randomness"));
    schema::create_table(&plain, &table, false).await.expect("a table in DynamoDB Local");
    let (armed, left) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(2)));
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zeroauth-tests"))
        .interceptor(FailRevocations { armed: armed.clone(), left: left.clone() })
        .build();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table);
    (Server::on_store(Arc::new(store)).await, armed, left)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_revokes_its_family_even_when_the_first_writes_fail() {
    let (s, armed, left) = server_with_failing_revocations().await;
    let c = s.confidential_client().await;
    s.user("alice").await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let access = s.exchange(&c, &code, &[]).await.field("access_token");
    armed.store(true, Ordering::SeqCst);
    let replay = s.exchange(&c, &code, &[]).await;
    assert_eq!((replay.status, replay.field("error")), (400, "invalid_grant".into()), "{replay:?}");
    assert_eq!(left.load(Ordering::SeqCst), 0, "both injected faults were met");
    assert_eq!(s.userinfo(&access).await.status, 401, "the family did not outlive the replay");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reused_refresh_token_revokes_its_family_even_when_the_first_writes_fail() {
    let (s, armed, left) = server_with_failing_revocations().await;
    let c = s.confidential_client().await;
    s.user("alice").await;
    let code = s.browser().code_for(&c, "alice", &[]).await;
    let first = s.exchange(&c, &code, &[]).await.field("refresh_token");
    let refresh = |rt: String| {
        let s = &s;
        let c = &c;
        async move {
            s.post_form("/token", Some(c), &[("grant_type", "refresh_token"), ("refresh_token", &rt)]).await
        }
    };
    let second = refresh(first.clone()).await.field("refresh_token");
    armed.store(true, Ordering::SeqCst);
    let reuse = refresh(first).await;
    assert_eq!((reuse.status, reuse.field("error")), (400, "invalid_grant".into()), "{reuse:?}");
    assert_eq!(left.load(Ordering::SeqCst), 0, "both injected faults were met");
    let after = refresh(second).await;
    assert_eq!((after.status, after.field("error")), (400, "invalid_grant".into()), "the family is revoked");
}
