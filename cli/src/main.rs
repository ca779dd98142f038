//! `zeroauth`: the local all-in-one server and the operator commands.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::AdminError;
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::store::StoreError;
use zeroauth_shared::store::dynamodb::{DynamoStore, schema};

mod api_keys;
mod clients;
mod import;
mod keys;
mod providers;
mod resources;
mod routes;
mod serve;
mod store_arg;
mod users;

use clients::{ClientCommand, client};
use store_arg::StoreSpec;
use users::{UserCommand, user};

/// ZeroAuth: an OAuth 2.0 authorization server for AWS Lambda and DynamoDB.
#[derive(Parser)]
#[command(name = "zeroauth", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where state is kept: memory, file:PATH (SQLite, created on first use)
    /// or dynamodb. Default: memory for `serve`, dynamodb for the rest.
    #[arg(long, global = true, env = "ZEROAUTH_STORE", value_name = "memory|file:PATH|dynamodb")]
    store: Option<StoreSpec>,
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
    /// Manage the keys that sign ID tokens and JWT access tokens.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Manage protected resources (RFC 8707) that tokens can be bound to.
    #[command(subcommand)]
    Resource(resources::ResourceCommand),
    /// Manage API keys: long-lived, scoped, revocable keys for a client or a person.
    #[command(subcommand)]
    ApiKey(api_keys::ApiKeyCommand),
    /// Manage upstream identity providers people may sign in with (GitHub,
    /// Google, Microsoft Entra, any OpenID Connect or OAuth 2.0 provider).
    #[command(subcommand)]
    Provider(providers::ProviderCommand),
    /// List every method and path served and the function that answers it,
    /// with the deployment's route aliases.
    Routes(routes::RoutesArgs),
}

#[derive(Subcommand)]
enum TableCommand {
    /// Create the table (keys pk/sk, pay per request) and turn on TTL on `expires_at`.
    Create {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Move people an earlier release stored by username to the records
    /// this release keeps (by sub, with identifiers and credentials). Safe
    /// to run again or to stop midway: people also move as they sign in.
    Migrate {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct JsonFlag {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args, cli.store.unwrap_or(StoreSpec::Memory)).await,
        Command::Table(TableCommand::Create { json }) => table_create(json, operator_store(cli.store)).await,
        Command::Table(TableCommand::Migrate { json }) => {
            table_migrate(json, operator_store(cli.store)).await
        }
        Command::Client(cmd) => client(cmd, operator_store(cli.store)).await,
        Command::User(cmd) => user(cmd, operator_store(cli.store)).await,
        Command::Keys(cmd) => keys::keys(cmd).await,
        Command::Resource(cmd) => resources::resource(cmd, operator_store(cli.store)).await,
        Command::Routes(args) => routes::routes(args),
        Command::ApiKey(cmd) => api_keys::api_key(cmd, operator_store(cli.store)).await,
        Command::Provider(cmd) => providers::provider(cmd, operator_store(cli.store)).await,
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

/// The store an operator command works on: DynamoDB unless `--store` says otherwise.
fn operator_store(spec: Option<StoreSpec>) -> StoreSpec {
    let spec = spec.unwrap_or(StoreSpec::Dynamodb);
    if spec == StoreSpec::Memory {
        eprintln!(
            "zeroauth: note: the memory store lives only in this command's process; nothing it does is kept"
        );
    }
    spec
}

/// Opens the store an operator command names.
async fn open_store(spec: &StoreSpec) -> Result<std::sync::Arc<dyn zeroauth_shared::store::Store>, String> {
    spec.open(table_name()).await
}

/// A storage error in a sentence an operator can act on.
fn explain(e: &StoreError) -> String {
    let table = table_name();
    match e {
        StoreError::Backend(msg) | StoreError::Unavailable(msg) if msg.contains("ResourceNotFoundException") => {
            format!("table {table:?} does not exist; create it with `zeroauth table create` (ZEROAUTH_TABLE picks the name)")
        }
        StoreError::Backend(msg) | StoreError::Unavailable(msg) if msg.contains("dispatch failure") || msg.contains("onnection refused") => {
            let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| "AWS".into());
            format!("cannot reach DynamoDB ({endpoint}); is it running, and are AWS_REGION and credentials set?")
        }
        StoreError::Backend(msg) | StoreError::Unavailable(msg) if msg.contains("credentials") || msg.contains("Credentials") => {
            "no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values for DynamoDB Local)".into()
        }
        StoreError::Backend(msg) | StoreError::Unavailable(msg) if msg.contains("region") => {
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

async fn table_migrate(json_out: bool, spec: StoreSpec) -> Result<(), String> {
    let store = open_store(&spec).await?;
    if !json_out {
        eprintln!("Moving people kept by username to the new records…");
    }
    let moved = store.migrate_legacy().await.map_err(|e| explain(&e))?;
    if !json_out {
        eprintln!("Making people's email addresses find them…");
    }
    let emails = zeroauth_shared::admin::claim_emails(store.as_ref()).await.map_err(explain_admin)?;
    let value = json!({ "moved": moved, "emails_claimed": emails.claimed, "email_clashes": emails.clashes });
    print(json_out, value, || {
        let moved = match moved {
            0 => "Nothing to move: every person is kept by sub.".to_owned(),
            1 => "Moved 1 person.".to_owned(),
            n => format!("Moved {n} people."),
        };
        let mut text = format!("{moved} {} email addresses now find their person.", emails.claimed);
        for clash in &emails.clashes {
            text.push_str(&format!("\nNot claimed, another person has it: {clash}"));
        }
        text
    });
    Ok(())
}

async fn table_create(json_out: bool, spec: StoreSpec) -> Result<(), String> {
    if let StoreSpec::File(path) = &spec {
        open_store(&spec).await?;
        let shown = path.display().to_string();
        print(json_out, json!({ "file": shown, "created": true }), || {
            format!("The store file {shown} is ready.")
        });
        return Ok(());
    }
    if spec == StoreSpec::Memory {
        return Err("the memory store needs no table; use --store file:PATH or dynamodb".into());
    }
    let store = DynamoStore::from_env(table_name()).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_id_may_start_with_a_hyphen() {
        // Ids are base64url: about one in 64 starts with `-`.
        let cli = Cli::try_parse_from(["zeroauth", "api-key", "revoke", "-mAbc", "--json"]);
        assert!(cli.is_ok(), "{:?}", cli.err().map(|e| e.to_string()));
    }
}
