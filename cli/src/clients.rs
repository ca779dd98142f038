//! `zeroauth client …`: registering and managing client applications.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use zeroauth_shared::admin::{self, NewClient, TokenOptions};
use zeroauth_shared::domain::{AccessTokenFormat, Client, ClientSource, GrantType};
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
    /// Change a client's name, redirect URIs, scopes or token options.
    Update(ClientUpdate),
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

/// `--grant`: a grant type by either of its names in the catalogue, the
/// operator's (`client-credentials`) or the RFC's (`client_credentials`).
fn grant_parser() -> impl TypedValueParser<Value = GrantType> {
    let names = GrantType::ALL.map(|g| {
        let spec = g.spec();
        PossibleValue::new(spec.short).alias(spec.wire).help(spec.summary)
    });
    PossibleValuesParser::new(names)
        .try_map(|name| GrantType::from_name(&name).ok_or_else(|| format!("grant {name:?} is unknown")))
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
    #[arg(long = "grant", value_parser = grant_parser())]
    grants: Vec<GrantType>,
    /// Allowed scopes, space-separated (default "openid profile email").
    #[arg(long)]
    scope: Option<String>,
    /// A public client: no secret, PKCE required.
    #[arg(long)]
    public: bool,
    /// A first-party client: skips the consent step.
    #[arg(long)]
    trusted: bool,
    /// Keep the client id it had on another server (default: a new random one).
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Read the secret it had on another server from stdin (default: a new
    /// random one, printed once).
    #[arg(long)]
    client_secret_stdin: bool,
    #[command(flatten)]
    tokens: TokenFlags,
    #[command(flatten)]
    dialect: DialectFlags,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The names an app written against another server's documentation uses
/// (SPEC.md section 9).
#[derive(Args)]
pub(crate) struct DialectFlags {
    /// Also send the code on the redirect under this name (e.g. auth_code).
    #[arg(long, value_name = "NAME")]
    code_param: Option<String>,
    /// Also send the access token in the token response under this name (e.g. user_token).
    #[arg(long, value_name = "NAME")]
    access_token_field: Option<String>,
    /// Another id the client is known by (repeatable).
    #[arg(long = "client-id-alias", value_name = "ID")]
    client_id_aliases: Vec<String>,
}

#[derive(Args)]
pub(crate) struct ClientUpdate {
    /// The client id.
    client_id: String,
    /// A new name.
    #[arg(long)]
    name: Option<String>,
    /// Redirect URIs (repeatable), replacing the registered ones.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// New allowed scopes, space-separated.
    #[arg(long)]
    scope: Option<String>,
    #[command(flatten)]
    tokens: TokenFlags,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// Random, stored, checked at /introspect (the default).
    Opaque,
    /// Signed JWTs (RFC 9068), verified with /jwks; cannot be recalled before they expire.
    Jwt,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum SigningAlg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "ES256")]
    Es256,
    #[value(name = "EdDSA")]
    EdDsa,
}

impl SigningAlg {
    fn name(self) -> String {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
        .to_owned()
    }
}

/// How a client's tokens are made.
#[derive(Args)]
pub(crate) struct TokenFlags {
    /// Access-token format.
    #[arg(long, value_enum)]
    access_token_format: Option<Format>,
    /// Algorithm of JWT access tokens (default RS256).
    #[arg(long, value_enum)]
    access_token_alg: Option<SigningAlg>,
    /// Algorithm of ID tokens (default RS256).
    #[arg(long, value_enum)]
    id_token_alg: Option<SigningAlg>,
    /// Access-token lifetime in seconds: 60 to 86400 for JWTs, up to 25 years
    /// for opaque tokens (default 3600 opaque, 600 JWT).
    #[arg(long, value_name = "SECONDS")]
    access_token_ttl: Option<i64>,
    /// Refresh-token lifetime in seconds, 60 to 25 years (default 30 days).
    #[arg(long, value_name = "SECONDS")]
    refresh_token_ttl: Option<i64>,
    /// A URI /logout may send people back to (repeatable).
    #[arg(long = "post-logout-redirect-uri")]
    post_logout_redirect_uris: Vec<String>,
    /// Whether this client's people need a second factor: off, optional,
    /// required, or deployment (the deployment's ZEROAUTH_SECOND_FACTOR).
    #[arg(long, value_name = "POLICY")]
    second_factor: Option<String>,
}

impl TokenFlags {
    fn options(&self) -> TokenOptions {
        TokenOptions {
            access_token_format: self.access_token_format.map(|f| match f {
                Format::Opaque => "opaque".to_owned(),
                Format::Jwt => "jwt".to_owned(),
            }),
            access_token_signed_response_alg: self.access_token_alg.map(SigningAlg::name),
            id_token_signed_response_alg: self.id_token_alg.map(SigningAlg::name),
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            second_factor: self.second_factor.clone(),
        }
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
        "access_token_format": c.tokens.access_token_format,
        "access_token_signed_response_alg": c.tokens.access_token_alg.as_str(),
        "id_token_signed_response_alg": c.tokens.id_token_alg.as_str(),
        "access_token_ttl": c.tokens.access_token_ttl,
        "refresh_token_ttl": c.tokens.refresh_token_ttl,
        "code_param": c.dialect.code_param,
        "access_token_field": c.dialect.access_token_field,
        "client_id_aliases": c.dialect.client_id_aliases,
        "post_logout_redirect_uris": c.tokens.post_logout_redirect_uris,
        "second_factor": c.tokens.second_factor.map(|p| p.as_str()),
        "source": c.source.as_str(),
        "expires_at": c.expires_at,
    })
}

fn client_text(c: &Client) -> String {
    let t = &c.tokens;
    let access = match t.access_token_format {
        AccessTokenFormat::Opaque => "opaque".to_owned(),
        AccessTokenFormat::Jwt => format!("JWT ({})", t.access_token_alg.as_str()),
    };
    let ttl = t.access_token_ttl.map(|s| format!(", {s} s")).unwrap_or_default();
    let d = &c.dialect;
    let mut dialect = Vec::new();
    if let Some(ttl) = t.refresh_token_ttl {
        dialect.push(format!("refresh tokens live {ttl} s"));
    }
    if let Some(p) = &d.code_param {
        dialect.push(format!("code also sent as `{p}`"));
    }
    if let Some(f) = &d.access_token_field {
        dialect.push(format!("access token also sent as `{f}`"));
    }
    if !d.client_id_aliases.is_empty() {
        dialect.push(format!("also known as {}", d.client_id_aliases.join(", ")));
    }
    let dialect =
        if dialect.is_empty() { String::new() } else { format!("\n  dialect: {}", dialect.join("; ")) };
    format!(
        "{}  {}\n  type: {}{}\n  redirect URIs: {}\n  grants: {}\n  scope: {}\n  access tokens: {access}{ttl}; ID tokens: {}{dialect}",
        c.client_id,
        c.name,
        if c.is_public() { "public" } else { "confidential" },
        match (c.source, c.expires_at) {
            (ClientSource::Registration, Some(t)) =>
                format!(", registered itself (RFC 7591), expires at {t} unless used"),
            (ClientSource::MetadataDocument, Some(t)) =>
                format!(", from its metadata document, cached until {t}"),
            _ if c.trusted => ", trusted".to_owned(),
            _ => String::new(),
        },
        if c.redirect_uris.is_empty() { "(none)".into() } else { c.redirect_uris.join(" ") },
        c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
        c.scopes,
        t.id_token_alg.as_str(),
    )
}

/// `client create`: registers the client and prints its secret once.
async fn create(store: &dyn Store, a: ClientCreate) -> Result<(), String> {
    let grants = a.grants.iter().map(|g| g.as_str().to_owned()).collect();
    let new = NewClient {
        name: a.name,
        redirect_uris: a.redirect_uris,
        grants,
        scope: a.scope,
        public: a.public,
        trusted: a.trusted,
        client_id: a.client_id,
        client_secret: if a.client_secret_stdin {
            Some(crate::users::read_stdin_line("client secret")?)
        } else {
            None
        },
        code_param: a.dialect.code_param,
        access_token_field: a.dialect.access_token_field,
        client_id_aliases: a.dialect.client_id_aliases,
        ..Default::default()
    };
    let options = a.tokens.options();
    let new = NewClient {
        access_token_format: options.access_token_format,
        access_token_signed_response_alg: options.access_token_signed_response_alg,
        id_token_signed_response_alg: options.id_token_signed_response_alg,
        access_token_ttl: options.access_token_ttl,
        refresh_token_ttl: options.refresh_token_ttl,
        post_logout_redirect_uris: options.post_logout_redirect_uris,
        ..new
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
        ClientCommand::Update(a) => {
            let changes = admin::ClientChanges {
                name: a.name,
                redirect_uris: a.redirect_uris,
                scope: a.scope,
                tokens: a.tokens.options(),
            };
            let c = admin::update_client(store, &a.client_id, changes).await.map_err(explain_admin)?;
            print(a.json, client_json(&c), || format!("Updated client\n{}", client_text(&c)));
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
