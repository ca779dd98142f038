//! The `cargo lambda watch` router in the workspace's Cargo.toml is a copy
//! of the route table in `shared::router`: this test keeps the two equal.

use std::collections::BTreeMap;

use zeroauth_shared::router::Endpoint;

#[test]
fn watch_router_routes_every_endpoint_to_its_function() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let manifest: toml::Value = toml::from_str(&text).unwrap_or_else(|e| panic!("parse {path}: {e}"));
    let router = ["workspace", "metadata", "lambda", "watch", "router"]
        .iter()
        .try_fold(&manifest, |v, k| v.get(k))
        .and_then(toml::Value::as_table)
        .unwrap_or_else(|| panic!("{path} has no [workspace.metadata.lambda.watch.router]"));
    let in_manifest: BTreeMap<String, String> = router
        .iter()
        .map(|(p, f)| {
            (p.clone(), f.as_str().unwrap_or_else(|| panic!("{p} must name one function")).to_owned())
        })
        .collect();
    let in_code: BTreeMap<String, String> =
        Endpoint::ALL.iter().map(|e| (e.path().to_owned(), e.function().package().to_owned())).collect();
    assert_eq!(in_manifest, in_code, "Cargo.toml's watch router and shared::router disagree");
}
