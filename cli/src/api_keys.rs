//! `zeroauth api-key …`: long-lived, scoped, revocable keys for a client or
//! a person (SPEC.md section 9). A key is printed once; only its digest is kept.

use clap::{Args, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::{self, NewApiKey};
use zeroauth_shared::domain::ApiKey;
use zeroauth_shared::store::Store;

use crate::store_arg::StoreSpec;
use crate::{JsonFlag, explain, explain_admin, now, open_store, print};

#[derive(Subcommand)]
pub(crate) enum ApiKeyCommand {
    /// Issue a key; prints it once.
    Create(ApiKeyCreate),
    /// List live keys: id, owner, scope, last use and expiry (never the key).
    List(JsonFlag),
    /// Revoke a key: it stops working everywhere at once.
    Revoke(ApiKeyId),
}

#[derive(Args)]
pub(crate) struct ApiKeyCreate {
    /// The client the key acts as.
    #[arg(long = "client", value_name = "CLIENT_ID")]
    client_id: String,
    /// The person the key acts for (then /userinfo accepts it).
    #[arg(long = "user", value_name = "USERNAME")]
    username: Option<String>,
    /// Its scopes, space-separated (default: the client's).
    #[arg(long)]
    scope: Option<String>,
    /// How long it lives, in days or hours: 90d (default), 12h; at most 5 years.
    #[arg(long, value_name = "LIFETIME")]
    expires: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct ApiKeyId {
    /// The key's id, as `api-key list` shows it.
    #[arg(allow_hyphen_values = true)]
    id: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn key_json(k: &ApiKey) -> serde_json::Value {
    json!({
        "id": k.id,
        "client_id": k.client_id,
        "username": k.username,
        "sub": k.sub,
        "scope": k.scope.to_string(),
        "created_at": k.created_at,
        "expires_at": k.expires_at,
        "last_used_at": k.last_used_at,
    })
}

fn key_text(k: &ApiKey) -> String {
    format!(
        "{}  client {}{}  scope \"{}\"  last used {}  expires {}",
        k.id,
        k.client_id,
        k.username.as_deref().map(|u| format!(" for {u}")).unwrap_or_default(),
        k.scope,
        k.last_used_at.map_or_else(|| "never".to_owned(), |t| t.to_string()),
        k.expires_at,
    )
}

pub(crate) async fn api_key(cmd: ApiKeyCommand, spec: StoreSpec) -> Result<(), String> {
    let store = open_store(&spec).await?;
    let store: &dyn Store = store.as_ref();
    match cmd {
        ApiKeyCommand::Create(a) => {
            let new = NewApiKey {
                client_id: a.client_id,
                username: a.username,
                scope: a.scope,
                expires: a.expires,
            };
            let (key, record) = admin::create_api_key(store, new, now()).await.map_err(explain_admin)?;
            let mut v = key_json(&record);
            v["api_key"] = json!(key.secret());
            print(a.json, v, || {
                format!(
                    "Created API key\n{}\n  key: {}\nStore the key now: it is not shown again.",
                    key_text(&record),
                    key.secret()
                )
            });
        }
        ApiKeyCommand::List(f) => {
            let keys = store.list_api_keys(now()).await.map_err(|e| explain(&e))?;
            let v = json!({ "api_keys": keys.iter().map(key_json).collect::<Vec<_>>() });
            print(f.json, v, || {
                if keys.is_empty() {
                    "No API keys. Issue one with `zeroauth api-key create`.".into()
                } else {
                    keys.iter().map(key_text).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ApiKeyCommand::Revoke(id) => {
            if !store.delete_api_key(&id.id).await.map_err(|e| explain(&e))? {
                return Err(format!("there is no API key {:?}", id.id));
            }
            print(id.json, json!({ "id": id.id, "revoked": true }), || {
                format!("Revoked API key {}: it no longer works.", id.id)
            });
        }
    }
    Ok(())
}
