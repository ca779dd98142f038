//! `zeroauth`: the local all-in-one server and the operator commands.

use std::io::Read;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use zeroauth_shared::admin::{self, AdminError, NewClient, NewUser};
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::domain::{Client, User};
use zeroauth_shared::secret::Password;
use zeroauth_shared::store::dynamodb::{DynamoStore, schema};
use zeroauth_shared::store::{Store, StoreError};

mod serve;

/// ZeroAuth: an OAuth 2.0 authorization server for AWS Lambda and DynamoDB.
#[derive(Parser)]
#[command(name = "zeroauth", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every endpoint on one port (embedded store by default).
    Serve(serve::ServeArgs),
    /// Manage the DynamoDB table.
    #[command(subcommand)]
    Table(TableCommand),
    /// Manage client applications (in DynamoDB).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users (in DynamoDB).
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table (keys pk/sk, pay per request) and turn on TTL on `expires_at`.
    Create {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ClientCommand {
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

#[derive(Subcommand)]
enum UserCommand {
    /// Register a user; the password is read from standard input.
    Create(UserCreate),
    /// List users.
    List(JsonFlag),
    /// Set a user's password, read from standard input.
    SetPassword(UserPassword),
    /// Disable a user: they cannot sign in and their tokens stop working.
    Disable(Username),
    /// Delete a user.
    Delete(Username),
}

#[derive(Args)]
struct JsonFlag {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ClientId {
    /// The client id.
    client_id: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct Username {
    /// The username.
    username: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct UserPassword {
    /// The username.
    username: String,
    /// Read the password from standard input (required: never pass it as an argument).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

#[derive(Args)]
struct ClientCreate {
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

#[derive(Args)]
struct UserCreate {
    /// Sign-in name.
    #[arg(long)]
    username: String,
    /// Email address (the `email` claim).
    #[arg(long)]
    email: Option<String>,
    /// Display name (the `name` claim).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from standard input (required: never pass it as an argument).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Table(TableCommand::Create { json }) => table_create(json).await,
        Command::Client(cmd) => client(cmd).await,
        Command::User(cmd) => user(cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("zeroauth: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The table name operators act on.
fn table_name() -> String {
    std::env::var("ZEROAUTH_TABLE").unwrap_or_else(|_| "zeroauth".into())
}

async fn dynamo() -> DynamoStore {
    DynamoStore::from_env(table_name()).await
}

/// A storage error in a sentence an operator can act on.
fn explain(e: &StoreError) -> String {
    let table = table_name();
    match e {
        StoreError::Backend(msg) if msg.contains("ResourceNotFoundException") => {
            format!("table {table:?} does not exist; create it with `zeroauth table create` (ZEROAUTH_TABLE picks the name)")
        }
        StoreError::Backend(msg) if msg.contains("dispatch failure") || msg.contains("onnection refused") => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| "AWS".into());
            format!("cannot reach DynamoDB ({endpoint}); is it running, and are AWS_REGION and credentials set?")
        }
        StoreError::Backend(msg) if msg.contains("credentials") || msg.contains("Credentials") => {
            "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for DynamoDB Local)".into()
        }
        StoreError::Backend(msg) if msg.contains("region") => {
            "no AWS region is set; set AWS_REGION (any region for DynamoDB Local)".into()
        }
        other => other.to_string(),
    }
}

fn explain_admin(e: AdminError) -> String {
    match e {
        AdminError::Invalid(m) => m,
        AdminError::Store(StoreError::Conflict(what)) => format!("{what} already exists"),
        AdminError::Store(s) => explain(&s),
    }
}

fn now() -> i64 {
    SystemClock.now()
}

fn print(json_out: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
    if json_out {
        println!("{value}");
    } else {
        println!("{}", text());
    }
}

async fn table_create(json_out: bool) -> Result<(), String> {
    let store = dynamo().await;
    let table = store.table().to_owned();
    if !json_out {
        eprintln!("Creating table {table:?}…");
    }
    match schema::create_table(store.client(), &table, true).await {
        Ok(()) => {
            print(
                json_out,
                json!({ "table": table, "created": true, "ttl_attribute": schema::TTL_ATTRIBUTE }),
                || {
                    format!(
                        "Created table {table:?} (keys pk/sk, pay per request, TTL on {}).",
                        schema::TTL_ATTRIBUTE
                    )
                },
            );
            Ok(())
        }
        Err(StoreError::Conflict(_)) => Err(format!("table {table:?} already exists")),
        Err(e) => Err(explain(&e)),
    }
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

async fn client(cmd: ClientCommand) -> Result<(), String> {
    let store = dynamo().await;
    let store: &dyn Store = &store;
    match cmd {
        ClientCommand::Create(a) => {
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
        }
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

fn user_json(u: &User) -> serde_json::Value {
    json!({
        "username": u.username,
        "sub": u.sub,
        "email": u.email,
        "name": u.name,
        "disabled": u.disabled,
        "created_at": u.created_at,
    })
}

fn user_text(u: &User) -> String {
    format!(
        "{}  (sub {}){}{}{}",
        u.username,
        u.sub,
        u.email.as_deref().map(|e| format!("  <{e}>")).unwrap_or_default(),
        u.name.as_deref().map(|n| format!("  {n}")).unwrap_or_default(),
        if u.disabled { "  [disabled]" } else { "" }
    )
}

fn read_password() -> Result<Password, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    let p = s.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&s);
    if p.is_empty() {
        return Err(
            "no password on standard input; pipe it in, e.g. `printf %s \"$PW\" | zeroauth user create …`"
                .into(),
        );
    }
    Ok(Password::new(p))
}

async fn user(cmd: UserCommand) -> Result<(), String> {
    let store = dynamo().await;
    let store: &dyn Store = &store;
    match cmd {
        UserCommand::Create(a) => {
            let password = read_password()?;
            let new = NewUser {
                username: a.username,
                email: a.email,
                name: a.name,
                password: password.secret().into(),
            };
            let u = admin::create_user(store, new, now()).await.map_err(explain_admin)?;
            print(a.json, user_json(&u), || format!("Created user {}", user_text(&u)));
        }
        UserCommand::List(f) => {
            let users = store.list_users().await.map_err(|e| explain(&e))?;
            let v = json!({ "users": users.iter().map(user_json).collect::<Vec<_>>() });
            print(f.json, v, || {
                if users.is_empty() {
                    "No users yet. Register one with `zeroauth user create`.".into()
                } else {
                    users.iter().map(user_text).collect::<Vec<_>>().join("\n")
                }
            });
        }
        UserCommand::SetPassword(a) => {
            let password = read_password()?;
            admin::set_password(store, &a.username, password).await.map_err(explain_admin)?;
            print(a.json, json!({ "username": a.username, "password_set": true }), || {
                format!("Set the password of {}.", a.username)
            });
        }
        UserCommand::Disable(a) => {
            let name = admin::normalize_username(&a.username).map_err(explain_admin)?;
            let mut u = store
                .get_user(&name)
                .await
                .map_err(|e| explain(&e))?
                .ok_or_else(|| format!("there is no user {name:?}"))?;
            u.disabled = true;
            store.update_user(&u).await.map_err(|e| explain(&e))?;
            print(a.json, json!({ "username": name, "disabled": true }), || {
                format!("Disabled {name}: they cannot sign in and their tokens no longer work.")
            });
        }
        UserCommand::Delete(a) => {
            let name = admin::normalize_username(&a.username).map_err(explain_admin)?;
            if !store.delete_user(&name).await.map_err(|e| explain(&e))? {
                return Err(format!("there is no user {name:?}"));
            }
            print(a.json, json!({ "username": name, "deleted": true }), || format!("Deleted user {name}."));
        }
    }
    Ok(())
}
