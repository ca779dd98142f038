//! `zeroauth resource …`: the protected resources (RFC 8707) tokens can be
//! bound to, such as an API or an MCP server.

use clap::{Args, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::{self, NewResource};
use zeroauth_shared::domain::Resource;
use zeroauth_shared::store::Store;

use crate::store_arg::StoreSpec;
use crate::{JsonFlag, explain, explain_admin, now, open_store, print};

#[derive(Subcommand)]
pub(crate) enum ResourceCommand {
    /// Register a protected resource clients may ask tokens for (`resource=`).
    Create(ResourceCreate),
    /// List the protected resources.
    List(JsonFlag),
    /// Delete a protected resource: new requests for it get `invalid_target`.
    Delete(ResourceUri),
}

#[derive(Args)]
pub(crate) struct ResourceCreate {
    /// The canonical URI, e.g. https://mcp.example.com/mcp (absolute, no fragment).
    #[arg(long)]
    uri: String,
    /// The scopes it accepts, space-separated (e.g. "mcp:tools mcp:resources").
    #[arg(long)]
    scope: Option<String>,
    /// A confidential client the resource server authenticates as, allowed
    /// to introspect tokens for this resource (repeatable).
    #[arg(long = "client", value_name = "CLIENT_ID")]
    clients: Vec<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct ResourceUri {
    /// The resource's URI.
    uri: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn resource_json(r: &Resource) -> serde_json::Value {
    json!({
        "uri": r.uri,
        "scope": r.scopes.to_string(),
        "clients": r.clients,
        "created_at": r.created_at,
    })
}

fn resource_text(r: &Resource) -> String {
    let scope = if r.scopes.is_empty() { "no scopes".to_owned() } else { format!("scopes: {}", r.scopes) };
    let clients = if r.clients.is_empty() {
        String::new()
    } else {
        format!("; introspected by {}", r.clients.join(", "))
    };
    format!("{}  ({scope}{clients})", r.uri)
}

pub(crate) async fn resource(cmd: ResourceCommand, spec: StoreSpec) -> Result<(), String> {
    let store = open_store(&spec).await?;
    let store: &dyn Store = store.as_ref();
    match cmd {
        ResourceCommand::Create(a) => {
            let new = NewResource { uri: a.uri, scope: a.scope, clients: a.clients };
            let r = admin::create_resource(store, new, now()).await.map_err(explain_admin)?;
            print(a.json, resource_json(&r), || format!("Registered resource {}", resource_text(&r)));
        }
        ResourceCommand::List(f) => {
            let resources = store.list_resources().await.map_err(|e| explain(&e))?;
            let v = json!({ "resources": resources.iter().map(resource_json).collect::<Vec<_>>() });
            print(f.json, v, || {
                if resources.is_empty() {
                    "No resources yet. Register one with `zeroauth resource create --uri …`.".into()
                } else {
                    resources.iter().map(resource_text).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ResourceCommand::Delete(a) => {
            if !store.delete_resource(&a.uri).await.map_err(|e| explain(&e))? {
                return Err(format!("there is no resource {:?}", a.uri));
            }
            print(a.json, json!({ "uri": a.uri, "deleted": true }), || {
                format!("Deleted resource {}.", a.uri)
            });
        }
    }
    Ok(())
}
