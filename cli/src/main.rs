//! `zeroauth`: the local all-in-one server and the operator commands.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::AdminError;
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::store::StoreError;
use zeroauth_shared::store::dynamodb::{DynamoStore, schema};

mod clients;
mod serve;
mod users;

use clients::{ClientCommand, client};
use users::{UserCommand, user};

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
