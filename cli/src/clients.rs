//! `zeroauth client …`: registering and managing client applications.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zeroauth_shared::admin::{self, NewClient};
use zeroauth_shared::domain::Client;
use zeroauth_shared::store::Store;

use crate::store_arg::StoreSpec;
use crate::{JsonFlag, explain, explain_admin, now, open_store, print};

#[derive(Subcommand)]
pub(crate) enum ClientCommand {
    /// Register a client; prints its secret once.
    Create(ClientCreate),
    /// List clients.
    List(JsonFlag),
    /// Show one client.
    Show(ClientId),
    /// Replace a confidential client's secret; prints the new one once.
    RotateSecret(ClientId),
    /// Delete a client.
    Delete(ClientId),
}

#[derive(Args)]
pub(crate) struct ClientId {
    /// The client id.
    client_id: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Grant {
    #[value(alias = "authorization_code")]
    AuthorizationCode,
    #[value(alias = "refresh_token")]
    RefreshToken,
    #[value(alias = "client_credentials")]
    ClientCredentials,
}

#[derive(Args)]
pub(crate) struct ClientCreate {
    /// Name shown to people on the consent page.
    #[arg(long)]
    name: String,
    /// A redirect URI (repeatable): https, or http on localhost.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// A grant type (repeatable); default authorization-code and refresh-token.
    #[arg(long = "grant", value_enum)]
    grants: Vec<Grant>,
    /// Allowed scopes, space-separated (default "openid profile email").
    #[arg(long)]
    scope: Option<String>,
    /// A public client: no secret, PKCE required.
    #[arg(long)]
    public: bool,
    /// A first-party client: skips the consent step.
    #[arg(long)]
    trusted: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn client_json(c: &Client) -> serde_json::Value {
    json!({
        "client_id": c.client_id,
        "name": c.name,
        "public": c.is_public(),
        "trusted": c.trusted,
        "disabled": c.disabled,
        "redirect_uris": c.redirect_uris,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": c.scopes.to_string(),
        "created_at": c.created_at,
    })
}

fn client_text(c: &Client) -> String {
    format!(
        "{}  {}\n  type: {}{}\n  redirect URIs: {}\n  grants: {}\n  scope: {}",
        c.client_id,
        c.name,
        if c.is_public() { "public" } else { "confidential" },
        if c.trusted { ", trusted" } else { "" },
        if c.redirect_uris.is_empty() { "(none)".into() } else { c.redirect_uris.join(" ") },
        c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
        c.scopes,
    )
}

/// `client create`: registers the client and prints its secret once.
async fn create(store: &dyn Store, a: ClientCreate) -> Result<(), String> {
    let grants = a
        .grants
        .iter()
        .map(|g| match g {
            Grant::AuthorizationCode => "authorization_code",
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        })
        .map(str::to_owned)
        .collect();
    let new = NewClient {
        name: a.name,
        redirect_uris: a.redirect_uris,
        grants,
        scope: a.scope,
        public: a.public,
        trusted: a.trusted,
        client_id: None,
        client_secret: None,
    };
    let (c, secret) = admin::create_client(store, new, now()).await.map_err(explain_admin)?;
    let mut v = client_json(&c);
    if let Some(s) = &secret {
        v["client_secret"] = json!(s.secret());
    }
    print(a.json, v, || {
        let mut out = format!("Created client\n{}", client_text(&c));
        if let Some(s) = &secret {
            out.push_str(&format!(
                "\n  client secret: {}\nStore the secret now: it is not shown again.",
                s.secret()
            ));
        }
        out
    });
    Ok(())
}

pub(crate) async fn client(cmd: ClientCommand, spec: StoreSpec) -> Result<(), String> {
    let store = open_store(&spec).await?;
    let store: &dyn Store = store.as_ref();
    match cmd {
        ClientCommand::Create(a) => create(store, a).await?,
        ClientCommand::List(f) => {
            let clients = store.list_clients().await.map_err(|e| explain(&e))?;
            let v = json!({ "clients": clients.iter().map(client_json).collect::<Vec<_>>() });
            print(f.json, v, || {
                if clients.is_empty() {
                    "No clients yet. Register one with `zeroauth client create`.".into()
                } else {
                    clients.iter().map(client_text).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ClientCommand::Show(id) => {
            let c = store
                .get_client(&id.client_id)
                .await
                .map_err(|e| explain(&e))?
                .ok_or_else(|| format!("there is no client {:?}", id.client_id))?;
            print(id.json, client_json(&c), || client_text(&c));
        }
        ClientCommand::RotateSecret(id) => {
            let secret = admin::rotate_secret(store, &id.client_id).await.map_err(explain_admin)?;
            print(id.json, json!({ "client_id": id.client_id, "client_secret": secret.secret() }), || {
                format!(
                    "New secret for {}: {}\nThe old secret no longer works. Store this one now: it is not shown again.",
                    id.client_id,
                    secret.secret()
                )
            });
        }
        ClientCommand::Delete(id) => {
            if !store.delete_client(&id.client_id).await.map_err(|e| explain(&e))? {
                return Err(format!("there is no client {:?}", id.client_id));
            }
            print(id.json, json!({ "client_id": id.client_id, "deleted": true }), || {
                format!("Deleted client {}.", id.client_id)
            });
        }
    }
    Ok(())
}
