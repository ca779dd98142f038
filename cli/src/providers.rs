//! `zeroauth provider …`: the upstream identity providers people may sign
//! in with (GitHub, Google, Microsoft Entra, any OpenID Connect or OAuth 2.0
//! provider). The client secret goes where the functions read it — an SSM
//! SecureString `<prefix><id>` on AWS, or a local JSON file for `serve` —
//! and never into the table.

use std::io::BufRead;
use std::path::PathBuf;

use clap::{ArgAction, Args, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::{self, AdminError, NewProvider};
use zeroauth_shared::domain::Provider;
use zeroauth_shared::store::{Store, StoreError};

use crate::store_arg::StoreSpec;
use crate::{explain, explain_admin, now, open_store, print};

#[derive(Subcommand)]
pub(crate) enum ProviderCommand {
    /// Add a provider; its client secret is read from standard input.
    Create(ProviderCreate),
    /// List the providers.
    List(Json),
    /// Show one provider.
    Show(ProviderId),
    /// Change a provider's settings (and, with --client-secret-stdin, its secret).
    Update(ProviderUpdate),
    /// Delete a provider (and its secret, where it is kept): its button goes
    /// away; people linked to it keep their accounts.
    Delete(ProviderDelete),
}

#[derive(Args)]
pub(crate) struct Json {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct ProviderId {
    /// The provider's id.
    id: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Where the client secret is kept.
#[derive(Args)]
pub(crate) struct SecretPlace {
    /// A JSON file of secrets by provider id, for `zeroauth serve --provider-secrets FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "secret_prefix")]
    secrets_file: Option<PathBuf>,
    /// The SSM parameter prefix the functions read (the template's ProviderSecretPrefix
    /// output, e.g. /zeroauth/prod/providers/): the secret is `<prefix><id>`.
    #[arg(long, value_name = "PREFIX", env = "ZEROAUTH_PROVIDER_SECRET_PREFIX")]
    secret_prefix: Option<String>,
}

/// Settings both `create` and `update` take.
#[derive(Args)]
pub(crate) struct Settings {
    /// The button's name ("Continue with NAME"); the presets have one.
    #[arg(long)]
    name: Option<String>,
    /// An https URL of an icon for the button.
    #[arg(long)]
    icon: Option<String>,
    /// The issuer (oidc, oauth2; the presets have theirs, Entra single-tenant overrides it).
    #[arg(long)]
    issuer: Option<String>,
    /// ZeroAuth's client id at the provider.
    #[arg(long)]
    client_id: Option<String>,
    /// The scopes to ask for, space-separated.
    #[arg(long)]
    scope: Option<String>,
    /// The authorization endpoint (oauth2; overrides discovery otherwise).
    #[arg(long)]
    authorization_endpoint: Option<String>,
    /// The token endpoint (likewise).
    #[arg(long)]
    token_endpoint: Option<String>,
    /// The user-info endpoint (likewise).
    #[arg(long)]
    userinfo_endpoint: Option<String>,
    /// oauth2: the user-info field with the stable id.
    #[arg(long)]
    subject_claim: Option<String>,
    /// oauth2: the field with the address.
    #[arg(long)]
    email_claim: Option<String>,
    /// oauth2: the field saying the address is verified.
    #[arg(long)]
    email_verified_claim: Option<String>,
    /// oauth2: the field with the name.
    #[arg(long)]
    name_claim: Option<String>,
    /// entra: a tenant (GUID) whose people may sign in (repeatable; none: any).
    #[arg(long = "tenant", value_name = "GUID")]
    tenants: Vec<String>,
    /// A client whose sign-in page offers it (repeatable; none: every client).
    #[arg(long = "client", value_name = "CLIENT_ID")]
    clients: Vec<String>,
    /// Whether a first sign-in may create an account (as far as ZEROAUTH_SIGNUP allows).
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    sign_up: Option<bool>,
    /// Whether the addresses it says are verified count as verified.
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    trust_email: Option<bool>,
    /// A protected resource (URI) whose own confidential client may get the
    /// person's upstream token by token exchange (repeatable).
    #[arg(long = "keep-tokens-for", value_name = "URI")]
    keep_tokens_for: Vec<String>,
    /// Read the client secret from the first line of standard input.
    #[arg(long, action = ArgAction::SetTrue)]
    client_secret_stdin: bool,
    #[command(flatten)]
    place: SecretPlace,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn on_off(v: &str) -> Result<bool, String> {
    match v {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("{other:?} is not on or off")),
    }
}

#[derive(Args)]
pub(crate) struct ProviderCreate {
    /// Its id (lower-case letters, digits, -), e.g. github.
    #[arg(long)]
    id: String,
    /// oidc, oauth2, github, google or entra.
    #[arg(long)]
    kind: String,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Args)]
pub(crate) struct ProviderUpdate {
    /// The provider's id.
    id: String,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Args)]
pub(crate) struct ProviderDelete {
    /// The provider's id.
    id: String,
    #[command(flatten)]
    place: SecretPlace,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn provider_json(p: &Provider, callback: &str) -> serde_json::Value {
    json!({
        "id": p.id, "kind": p.kind.as_str(), "name": p.name, "icon": p.icon, "issuer": p.issuer,
        "client_id": p.client_id, "scope": p.scope, "authorization_endpoint": p.authorization_endpoint,
        "token_endpoint": p.token_endpoint, "userinfo_endpoint": p.userinfo_endpoint,
        "tenants": p.tenants, "clients": p.clients, "sign_up": p.sign_up, "trust_email": p.trust_email, "keep_tokens_for": p.keep_tokens_for,
        "created_at": p.created_at, "redirect_uri": callback,
    })
}

fn provider_text(p: &Provider) -> String {
    let offered = if p.clients.is_empty() { "every client".to_owned() } else { p.clients.join(", ") };
    let sign_up = if p.sign_up { "may create accounts" } else { "signs in linked accounts only" };
    format!(
        "{}  {} \"{}\"  issuer {}  client id {}  ({offered}; {sign_up})",
        p.id,
        p.kind.as_str(),
        p.name,
        p.issuer,
        p.client_id
    )
}

/// Where to register ZeroAuth at the provider.
fn callback_url() -> String {
    match std::env::var("ZEROAUTH_ISSUER") {
        Ok(i) => format!("{}/federation/callback", i.trim_end_matches('/')),
        Err(_) => "<your issuer>/federation/callback".into(),
    }
}

impl Settings {
    fn apply(&self, n: &mut NewProvider) {
        let set = |slot: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                slot.clone_from(v);
            }
        };
        set(&mut n.name, &self.name);
        set(&mut n.icon, &self.icon);
        set(&mut n.issuer, &self.issuer);
        if let Some(c) = &self.client_id {
            n.client_id.clone_from(c);
        }
        set(&mut n.scope, &self.scope);
        set(&mut n.authorization_endpoint, &self.authorization_endpoint);
        set(&mut n.token_endpoint, &self.token_endpoint);
        set(&mut n.userinfo_endpoint, &self.userinfo_endpoint);
        set(&mut n.subject_claim, &self.subject_claim);
        set(&mut n.email_claim, &self.email_claim);
        set(&mut n.email_verified_claim, &self.email_verified_claim);
        set(&mut n.name_claim, &self.name_claim);
        if !self.tenants.is_empty() {
            n.tenants.clone_from(&self.tenants);
        }
        if !self.clients.is_empty() {
            n.clients.clone_from(&self.clients);
        }
        n.sign_up = self.sign_up.or(n.sign_up);
        n.trust_email = self.trust_email.or(n.trust_email);
        if !self.keep_tokens_for.is_empty() {
            n.keep_tokens_for.clone_from(&self.keep_tokens_for);
        }
    }
}

/// The secret from standard input's first line.
fn read_secret() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| format!("cannot read the secret: {e}"))?;
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        return Err("the client secret read from standard input is empty".into());
    }
    Ok(secret)
}

impl SecretPlace {
    fn describe(&self, id: &str) -> String {
        match (&self.secrets_file, &self.secret_prefix) {
            (Some(f), _) => format!("file {}", f.display()),
            (None, Some(p)) => format!("SSM parameter {p}{id}"),
            (None, None) => "nowhere".into(),
        }
    }

    /// Stores (`Some`) or removes (`None`) the secret of `id`.
    async fn write(&self, id: &str, secret: Option<&str>) -> Result<(), String> {
        if let Some(path) = &self.secrets_file {
            let mut all = zeroauth_shared::federation::StaticSecrets::from_file(path)?.0;
            match secret {
                Some(s) => all.insert(id.to_owned(), s.to_owned()),
                None => all.remove(id),
            };
            let text = serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?;
            return crate::keys::write_private_file(path, &text);
        }
        let Some(prefix) = &self.secret_prefix else {
            return Err("say where the client secret goes: --secrets-file FILE (for serve), or --secret-prefix PREFIX \
                 (SSM; or ZEROAUTH_PROVIDER_SECRET_PREFIX)"
                .into());
        };
        let sdk = zeroauth_shared::store::dynamodb::sdk_config().await;
        let client = aws_sdk_ssm::Client::new(&sdk);
        let name = format!("{prefix}{id}");
        let fail = |e: String| format!("cannot write parameter {name}: {e}");
        match secret {
            Some(s) => client
                .put_parameter()
                .name(&name)
                .value(s)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .overwrite(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string())),
            None => match client.delete_parameter().name(&name).send().await {
                Ok(_) => Ok(()),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => Ok(()),
                Err(e) => Err(fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string())),
            },
        }
    }

    fn given(&self) -> bool {
        self.secrets_file.is_some() || self.secret_prefix.is_some()
    }
}

pub(crate) async fn provider(cmd: ProviderCommand, spec: StoreSpec) -> Result<(), String> {
    let store = open_store(&spec).await?;
    let store: &dyn Store = store.as_ref();
    let callback = callback_url();
    match cmd {
        ProviderCommand::Create(a) => {
            let mut new = NewProvider { id: a.id.clone(), kind: a.kind.clone(), ..Default::default() };
            a.settings.apply(&mut new);
            // Checked before the secret is read or written: a create that
            // would fail must not replace a live provider's secret.
            let p = admin::new_provider(store, &new, now()).await.map_err(|e| match e {
                AdminError::Store(StoreError::Conflict(_)) => {
                    format!("provider {} already exists; change it with `zeroauth provider update`", a.id)
                }
                e => explain_admin(e),
            })?;
            if !a.settings.client_secret_stdin {
                return Err("give the client secret on standard input with --client-secret-stdin".into());
            }
            let secret = read_secret()?;
            a.settings.place.write(&a.id, Some(&secret)).await?;
            store.create_provider(&p).await.map_err(|e| explain(&e))?;
            let place = a.settings.place.describe(&p.id);
            print(a.settings.json, provider_json(&p, &callback), || {
                format!(
                    "Added provider {}\nIts client secret is in {place}.\nRegister this redirect URI at the provider: {callback}",
                    provider_text(&p)
                )
            });
        }
        ProviderCommand::Update(a) => {
            if a.settings.client_secret_stdin && !a.settings.place.given() {
                return Err(
                    "say where the client secret goes: --secrets-file FILE or --secret-prefix PREFIX".into(),
                );
            }
            // The settings are checked (and the provider found) before the secret is written.
            let p = admin::changed_provider(store, &a.id, |n| a.settings.apply(n))
                .await
                .map_err(explain_admin)?;
            if a.settings.client_secret_stdin {
                a.settings.place.write(&a.id, Some(&read_secret()?)).await?;
            }
            store.update_provider(&p).await.map_err(|e| explain(&e))?;
            print(a.settings.json, provider_json(&p, &callback), || {
                format!("Updated provider {}", provider_text(&p))
            });
        }
        ProviderCommand::List(f) => {
            let all = store.list_providers().await.map_err(|e| explain(&e))?;
            let v =
                json!({ "providers": all.iter().map(|p| provider_json(p, &callback)).collect::<Vec<_>>() });
            print(f.json, v, || {
                if all.is_empty() {
                    "No upstream providers. Add one with `zeroauth provider create`.".into()
                } else {
                    all.iter().map(provider_text).collect::<Vec<_>>().join("\n")
                }
            });
        }
        ProviderCommand::Show(a) => {
            let p = store.get_provider(&a.id).await.map_err(|e| explain(&e))?;
            let p = p.ok_or_else(|| format!("there is no provider {:?}", a.id))?;
            print(a.json, provider_json(&p, &callback), || {
                format!("{}\nRedirect URI to register at the provider: {callback}", provider_text(&p))
            });
        }
        ProviderCommand::Delete(a) => {
            let gone = store.delete_provider(&a.id).await.map_err(|e| explain(&e))?;
            if !gone {
                return Err(format!("there is no provider {:?}", a.id));
            }
            if a.place.given() {
                a.place.write(&a.id, None).await?;
            }
            print(a.json, json!({ "deleted": a.id }), || format!("Deleted provider {}", a.id));
        }
    }
    Ok(())
}
