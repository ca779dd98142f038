//! An SDK retry of a write that had in fact succeeded must not look like a
//! replay. An interceptor turns the first successful `TransactWriteItems`
//! answer into a retryable 500, so the SDK sends the same transaction again
//! after DynamoDB Local has already applied it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextMut;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;
use zeroauth_shared::domain::{AccessTokenRecord, CodeRecord, Grant};
use zeroauth_shared::oauth::Scope;
use zeroauth_shared::store::dynamodb::{DynamoStore, schema};
use zeroauth_shared::store::{CodeStore, ConsumeOutcome, Issuance, RotateOutcome, Rotation, TokenStore};
use zeroauth_shared::testing::{endpoint, local_client};

const T0: i64 = 1_800_000_000;

/// Replaces the first successful TransactWriteItems answer with a 500.
#[derive(Debug, Default)]
struct LoseFirstSuccess {
    lost: Arc<AtomicUsize>,
}

impl Intercept for LoseFirstSuccess {
    fn name(&self) -> &'static str {
        "LoseFirstSuccess"
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let is_transaction = cfg.load::<Metadata>().is_some_and(|m| m.name() == "TransactWriteItems");
        if is_transaction && ctx.response().status().as_u16() == 200 && self.lost.load(Ordering::SeqCst) == 0
        {
            self.lost.fetch_add(1, Ordering::SeqCst);
            let res = ctx.response_mut();
            *res.status_mut() = StatusCode::try_from(500)?;
            *res.body_mut() = SdkBody::from(
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected: the answer was lost"}"#,
            );
        }
        Ok(())
    }
}

async fn lossy_store() -> (DynamoStore, Arc<AtomicUsize>) {
    let plain = local_client(&endpoint());
    let table = format!("zeroauth-retry-{}", zeroauth_shared::crypto::random_string(9).unwrap());
    schema::create_table(&plain, &table, false).await.unwrap();
    let lost = Arc::new(AtomicUsize::new(0));
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zeroauth-tests"))
        .interceptor(LoseFirstSuccess { lost: lost.clone() })
        .build();
    (DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table), lost)
}

fn grant(id: &str, rt: &str) -> Grant {
    Grant {
        grant_id: id.into(),
        client_id: "c1".into(),
        username: Some("alice".into()),
        sub: "s".into(),
        scope: Scope::from_stored("openid"),
        refresh_digest: Some(rt.into()),
        retired_digests: vec![],
        refresh_expires_at: T0 + 1000,
        revoked: false,
        created_at: T0,
        expires_at: T0 + 1000,
        auth_time: 0,
        amr: vec![],
        idp: None,
        upstream: None,
        resource: None,
        last_rotation: None,
    }
}

fn access(digest: &str, gid: &str) -> AccessTokenRecord {
    AccessTokenRecord {
        digest: digest.into(),
        grant_id: Some(gid.into()),
        client_id: "c1".into(),
        username: Some("alice".into()),
        sub: Some("s".into()),
        scope: Scope::from_stored("openid"),
        issued_at: T0,
        expires_at: T0 + 100,
        audience: None,
        kind: Default::default(),
    }
}

fn code() -> CodeRecord {
    CodeRecord {
        digest: "d".into(),
        client_id: "c1".into(),
        redirect_uri: "https://a/cb".into(),
        redirect_uri_given: true,
        scope: Scope::from_stored("openid"),
        username: Some("alice".into()),
        sub: "s".into(),
        code_challenge: None,
        nonce: None,
        state: None,
        issued_at: T0,
        valid_until: T0 + 30,
        expires_at: T0 + 600,
        redeemed: None,
        auth_time: 0,
        amr: vec![],
        idp: None,
        upstream: None,
        resource: None,
    }
}

#[tokio::test]
async fn sdk_retry_of_a_code_redemption_that_succeeded_is_not_a_replay() {
    let (store, lost) = lossy_store().await;
    let code = code();
    store.put_code(&code).await.unwrap();
    let iss =
        Issuance { consume_id: "mine".into(), grant: grant("g1", "rt1"), access: Some(access("at1", "g1")) };
    assert_eq!(store.consume_code("d", &iss, T0 + 1).await.unwrap(), ConsumeOutcome::Consumed);
    assert_eq!(lost.load(Ordering::SeqCst), 1, "the first answer was lost and the SDK retried");
    assert!(!store.get_grant("g1", T0 + 1).await.unwrap().unwrap().revoked, "nothing was revoked");
    let other = Issuance {
        consume_id: "theirs".into(),
        grant: grant("g2", "rt2"),
        access: Some(access("at2", "g2")),
    };
    assert_eq!(
        store.consume_code("d", &other, T0 + 2).await.unwrap(),
        ConsumeOutcome::Replayed { grant_id: "g1".into() },
        "a real second redemption is still a replay"
    );
}

#[tokio::test]
async fn sdk_retry_of_a_rotation_that_succeeded_is_not_a_reuse() {
    let (store, lost) = lossy_store().await;
    let code = code();
    store.put_code(&code).await.unwrap();
    let iss =
        Issuance { consume_id: "mine".into(), grant: grant("g1", "rt1"), access: Some(access("at1", "g1")) };
    store.consume_code("d", &iss, T0).await.unwrap();
    assert_eq!(lost.load(Ordering::SeqCst), 1);
    lost.store(0, Ordering::SeqCst);
    let r = Rotation {
        retired: vec!["rt1".into()],
        presented_digest: "rt1".into(),
        new_digest: "rt2".into(),
        new_refresh_expires_at: T0 + 2000,
        access: Some(access("at2", "g1")),
        last: None,
        upstream: None,
    };
    assert_eq!(store.rotate_refresh("g1", &r, T0 + 5).await.unwrap(), RotateOutcome::Rotated);
    assert_eq!(lost.load(Ordering::SeqCst), 1, "the rotation's answer was lost and retried");
    let g = store.get_grant("g1", T0 + 5).await.unwrap().unwrap();
    assert!(!g.revoked);
    assert_eq!(g.refresh_digest.as_deref(), Some("rt2"));
}
