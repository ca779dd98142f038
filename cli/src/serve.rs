//! `zeroauth serve`: every endpoint on one port, with the same handlers as
//! the Lambda functions.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use http::StatusCode;
use zeroauth_shared::admin::AdminError;
use zeroauth_shared::admin::{self, NewClient, NewUser, Seed};
use zeroauth_shared::clock::{Clock, SystemClock};
use zeroauth_shared::config::{Config, Registration, RegistrationPolicy};
use zeroauth_shared::domain::GrantType;
use zeroauth_shared::federation::StaticSecrets;
use zeroauth_shared::http::{Request, Response, html, query, with_query};
use zeroauth_shared::mail::Transport;
use zeroauth_shared::server::Limits;
use zeroauth_shared::sign_in::self_service::{SelfService, SignUp};
use zeroauth_shared::store::StoreError;
use zeroauth_shared::{App, crypto};

use crate::store_arg::StoreSpec;

/// Arguments of `zeroauth serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Load clients and users from a TOML or JSON file at start.
    #[arg(long, value_name = "FILE")]
    seed: Option<std::path::PathBuf>,
    /// Do not create the demo client and user.
    #[arg(long)]
    no_demo: bool,
    /// The key set that signs ID tokens and JWT access tokens, as
    /// `zeroauth keys generate --file FILE` makes it (or ZEROAUTH_KEYS_FILE);
    /// without one, an ephemeral set is made.
    #[arg(long, value_name = "FILE", env = "ZEROAUTH_KEYS_FILE")]
    keys: Option<std::path::PathBuf>,
    /// Route aliases, one `METHOD /path endpoint` per line, such as
    /// `POST /oauth2/token token` (or ZEROAUTH_ROUTE_ALIASES).
    #[arg(long, value_name = "FILE")]
    aliases: Option<std::path::PathBuf>,
    /// The upstream providers' client secrets, a JSON object by provider id,
    /// as `zeroauth provider create --secrets-file FILE` writes it (or
    /// ZEROAUTH_PROVIDER_SECRETS_FILE). A seed file's secrets are added.
    #[arg(long, value_name = "FILE", env = "ZEROAUTH_PROVIDER_SECRETS_FILE")]
    provider_secrets: Option<std::path::PathBuf>,
    /// Connections open at once; more wait until one closes. Keep it well
    /// under the file limit (`ulimit -n`).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    max_connections: u32,
    /// Seconds a connection may take to send a request's headers, and that an
    /// idle keep-alive connection is kept open.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
}

const DEMO_PATH: &str = "/demo/callback";

/// Runs the server until Ctrl-C.
pub async fn run(args: ServeArgs, spec: StoreSpec) -> Result<(), String> {
    zeroauth_shared::init_tracing(false);
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .map_err(|_| format!("--host {:?} is not an IP address", args.host))?;
    if std::env::var("ZEROAUTH_ISSUER").is_err() {
        let host = if addr.ip().is_loopback() { "localhost".to_owned() } else { addr.ip().to_string() };
        // SAFETY: set before any other thread starts reading the environment.
        unsafe { std::env::set_var("ZEROAUTH_ISSUER", format!("http://{host}:{}", args.port)) };
    }
    let (mut config, ephemeral) = Config::from_env_or_ephemeral_key().map_err(|e| e.to_string())?;
    if args.aliases.is_some() {
        config.route_aliases = crate::routes::load(args.aliases.as_deref())?;
    }
    // A laptop server lets clients register themselves unless told otherwise.
    config.registration = Registration::from_env(RegistrationPolicy::Open).map_err(|e| e.to_string())?;
    // And lets people sign up, with mails shown in this terminal.
    config.self_service = SelfService::from_env(SignUp::Open).map_err(|e| e.to_string())?;
    let (mailer, mail) = zeroauth_mail::from_env(Transport::Terminal).map_err(|e| e.to_string())?;
    config.keys = match &args.keys {
        Some(path) => crate::keys::load_file(path)?,
        None => {
            eprintln!(
                "zeroauth: no key set given (--keys), so this server made an ephemeral one: ID tokens and \
                 JWT access tokens it signs cannot be verified after it stops."
            );
            zeroauth_shared::keys::Keys::ephemeral().map_err(|e| format!("could not make a key set: {e}"))?
        }
    };
    if ephemeral {
        eprintln!(
            "zeroauth: ZEROAUTH_SIGNING_KEY is not set, so this server made an ephemeral signing key: \
             sign-in sessions end when it stops."
        );
    }
    let store = spec.open(config.table.clone()).await?;
    let issuer = config.issuer.clone();
    let sign_up = config.self_service.sign_up;
    let app = App::new(store, config).with_mailer(mailer, mail);
    let mut secrets = match &args.provider_secrets {
        Some(path) => StaticSecrets::from_file(path)?,
        None => StaticSecrets::default(),
    };
    if let Some(path) = &args.seed {
        load_seed(&app, path, &mut secrets).await?;
    }
    let providers =
        app.store.list_providers().await.map_err(|e| format!("cannot list the providers: {e}"))?;
    let app = app.with_secrets(std::sync::Arc::new(secrets));
    let demo = !args.no_demo && args.seed.is_none() && spec == StoreSpec::Memory;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        format!("cannot listen on {addr}: {e} (is another server on port {}? try --port)", args.port)
    })?;
    println!("ZeroAuth is listening on {issuer} (store: {})", spec.describe());
    println!(
        "Sign-up: {} · mail: {} (ZEROAUTH_SIGNUP, ZEROAUTH_MAIL)",
        sign_up.as_str(),
        app.mailer.transport()
    );
    if !app.config.route_aliases.is_empty() {
        println!("Route aliases: {}", app.config.route_aliases.to_text());
    }
    if !providers.is_empty() {
        let ids: Vec<&str> = providers.iter().map(|p| p.id.as_str()).collect();
        println!("Upstream providers: {} · register {issuer}/federation/callback at each", ids.join(", "));
    }
    if demo {
        print_demo(&app, &issuer).await?;
    }
    println!("Stop it with Ctrl-C.");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("zeroauth: stopping");
    };
    let app = with_granted_scopes(app).await?;
    let extra: Option<zeroauth_shared::server::Extra> = if demo { Some(demo_page) } else { None };
    let limits = Limits {
        max_connections: args.max_connections as usize,
        header_timeout: Duration::from_secs(args.header_timeout),
        body_timeout: Duration::from_secs(args.header_timeout),
    };
    zeroauth_shared::server::serve(app, listener, extra, limits, shutdown)
        .await
        .map_err(|e| format!("server failed: {e}"))
}

async fn load_seed(app: &App, path: &std::path::Path, secrets: &mut StaticSecrets) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let seed: Seed = if is_json {
        serde_json::from_str(&text)
            .map_err(|e| format!("seed file {} is not valid JSON: {e}", path.display()))?
    } else {
        toml::from_str(&text).map_err(|e| format!("seed file {} is not valid TOML: {e}", path.display()))?
    };
    let now = SystemClock.now();
    for c in seed.clients {
        let name = c.name.clone();
        match admin::create_client(app.store.as_ref(), c, now).await {
            // The seed file holds the secret already: it is never printed.
            Ok((client, _)) => println!("Seeded client {} ({name})", client.client_id),
            Err(AdminError::Store(StoreError::Conflict(what))) => {
                println!("Seed: {what} is already in the store")
            }
            Err(e) => return Err(format!("seed client {name:?}: {e}")),
        }
    }
    for u in seed.users {
        let name = u.username.clone();
        match admin::create_user(app.store.as_ref(), u, now).await {
            Ok(_) => println!("Seeded user {name}"),
            Err(AdminError::Store(StoreError::Conflict(what))) => {
                println!("Seed: {what} is already in the store")
            }
            Err(e) => return Err(format!("seed user {name:?}: {e}")),
        }
    }
    for r in seed.resources {
        let uri = r.uri.clone();
        match admin::create_resource(app.store.as_ref(), r, now).await {
            Ok(_) => println!("Seeded resource {uri}"),
            Err(AdminError::Store(StoreError::Conflict(what))) => {
                println!("Seed: {what} is already in the store")
            }
            Err(e) => return Err(format!("seed resource {uri:?}: {e}")),
        }
    }
    for p in seed.providers {
        let id = p.id.clone();
        if let Some(secret) = &p.client_secret {
            secrets.0.insert(id.clone(), secret.clone());
        }
        match admin::create_provider(app.store.as_ref(), &p, now).await {
            Ok(_) => println!("Seeded provider {id}"),
            Err(AdminError::Store(StoreError::Conflict(what))) => {
                println!("Seed: {what} is already in the store")
            }
            Err(e) => return Err(format!("seed provider {id:?}: {e}")),
        }
    }
    Ok(())
}

async fn print_demo(app: &App, issuer: &str) -> Result<(), String> {
    let now = SystemClock.now();
    let redirect = format!("{issuer}{DEMO_PATH}");
    let new = NewClient {
        name: "ZeroAuth demo app".into(),
        redirect_uris: vec![redirect.clone()],
        grants: [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials]
            .map(|g| g.as_str().to_owned())
            .into(),
        scope: Some("openid profile email".into()),
        public: false,
        trusted: false,
        client_id: Some("demo-client".into()),
        client_secret: None,
        ..Default::default()
    };
    let (client, secret) =
        admin::create_client(app.store.as_ref(), new, now).await.map_err(|e| e.to_string())?;
    let secret = secret.map(|s| s.secret().to_owned()).unwrap_or_default();
    let password = crypto::random_string(9).map_err(|e| e.to_string())?;
    let user = NewUser {
        username: "demo".into(),
        email: Some("demo@example.com".into()),
        name: Some("Demo User".into()),
        password: password.clone(),
    };
    admin::create_user(app.store.as_ref(), user, now).await.map_err(|e| e.to_string())?;
    let url = with_query(
        &format!("{issuer}/authorize"),
        &[
            ("client_id", &client.client_id),
            ("redirect_uri", &redirect),
            ("scope", "openid profile email"),
            ("state", "demo"),
        ],
    );
    println!();
    println!("Demo client: {}  secret: {secret}", client.client_id);
    println!("Demo user:   demo  password: {password}");
    println!();
    println!("Open this URL in a browser and sign in as the demo user:");
    println!("  {url}");
    println!();
    Ok(())
}

/// The demo client's landing page: shows the code and how to exchange it.
fn demo_page(app: &App, req: &Request) -> Option<Response> {
    if req.uri().path() != DEMO_PATH {
        return None;
    }
    let params = query(req).ok()?;
    let code = params.get("code").ok().flatten();
    let error = params.get("error").ok().flatten();
    let token_url = app.url("/token");
    let redirect = app.url(DEMO_PATH);
    let body = maud_page(code, error, &token_url, &redirect);
    Some(html(StatusCode::OK, body))
}

fn maud_page(code: Option<&str>, error: Option<&str>, token_url: &str, redirect: &str) -> String {
    use maud::{DOCTYPE, html};
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "ZeroAuth demo app" }
                style { "body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem}pre{background:#f3f4f6;padding:1rem;overflow-x:auto}" }
            }
            body {
                @if let Some(code) = code {
                    h1 { "The demo app got a code" }
                    p { "It is valid for 30 seconds. Exchange it for tokens with:" }
                    pre {
                        "curl -s -u demo-client:<demo secret> \\\n  -d grant_type=authorization_code \\\n  -d code=" (code)
                        " \\\n  -d redirect_uri=" (redirect) " \\\n  " (token_url)
                    }
                } @else if let Some(e) = error {
                    h1 { "The demo app got an error" }
                    p { code { (e) } }
                } @else {
                    h1 { "Nothing to show" }
                    p { "This page is where the demo app receives its code." }
                }
            }
        }
    }
    .into_string()
}

/// Discovery lists the scopes the registered clients may be granted (unless
/// ZEROAUTH_SCOPES_SUPPORTED says otherwise).
async fn with_granted_scopes(app: App) -> Result<App, String> {
    if app.config.scopes_supported.is_some() {
        return Ok(app);
    }
    let clients = app.store.list_clients().await.map_err(|e| format!("cannot list the clients: {e}"))?;
    let resources =
        app.store.list_resources().await.map_err(|e| format!("cannot list the resources: {e}"))?;
    let mut scopes: Vec<String> = clients
        .iter()
        .flat_map(|c| c.scopes.iter().map(str::to_owned))
        .chain(resources.iter().flat_map(|r| r.scopes.iter().map(str::to_owned)))
        .collect();
    scopes.sort();
    scopes.dedup();
    if scopes.is_empty() {
        return Ok(app);
    }
    let mut config = (*app.config).clone();
    config.scopes_supported = Some(scopes);
    Ok(App { config: std::sync::Arc::new(config), ..app })
}
