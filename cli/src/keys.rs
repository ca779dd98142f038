//! `zeroauth keys …`: the key set that signs ID tokens and JWT access tokens,
//! in an SSM SecureString parameter (with its public half beside it, for the
//! functions that only verify) or in a local file for `zeroauth serve`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;
use zeroauth_shared::keys::{KeySetDocument, KeyState, Keys, StoredKey};
use zeroauth_shared::oauth::jwt::MAX_ACCESS_TOKEN_TTL;

use crate::{now, print};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Make a new key set: an active and a next key for RS256, ES256 and EdDSA.
    Generate(Target),
    /// Next keys start signing, active ones retire, new next keys are
    /// published, and retired keys older than --keep-retired are dropped.
    Rotate {
        #[command(flatten)]
        target: Target,
        /// Seconds a retired key stays published: longer than any token it signed lives.
        #[arg(long, value_name = "SECONDS", default_value_t = MAX_ACCESS_TOKEN_TTL)]
        keep_retired: i64,
    },
    /// List the keys (never the private parts).
    List(Target),
}

/// Where the key set lives.
#[derive(Args)]
pub(crate) struct Target {
    /// A local file (for `zeroauth serve --keys FILE`), written with mode 0600.
    #[arg(long, value_name = "FILE", conflicts_with = "parameter")]
    file: Option<PathBuf>,
    /// The SSM SecureString parameter of the private key set (the template's KeysParameter).
    #[arg(long, value_name = "NAME", env = "ZEROAUTH_KEYS_PARAMETER")]
    parameter: Option<String>,
    /// The SSM String parameter of the published key set (the template's JwksParameter).
    #[arg(long, value_name = "NAME", env = "ZEROAUTH_JWKS_PARAMETER")]
    public_parameter: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

enum Place {
    File(PathBuf),
    Ssm { private: String, public: String, client: aws_sdk_ssm::Client },
}

impl Target {
    async fn place(&self) -> Result<Place, String> {
        match (&self.file, &self.parameter) {
            (Some(f), _) => Ok(Place::File(f.clone())),
            (None, Some(p)) => {
                let public = self.public_parameter.clone().ok_or_else(|| {
                    "name the published key set's parameter too: --public-parameter NAME \
                     (or ZEROAUTH_JWKS_PARAMETER)"
                        .to_owned()
                })?;
                let sdk = zeroauth_shared::store::dynamodb::sdk_config().await;
                Ok(Place::Ssm { private: p.clone(), public, client: aws_sdk_ssm::Client::new(&sdk) })
            }
            (None, None) => Err("say where the key set lives: --file FILE, or --parameter NAME \
                 --public-parameter NAME for SSM"
                .into()),
        }
    }
}

impl Place {
    fn describe(&self) -> String {
        match self {
            Self::File(f) => format!("file {}", f.display()),
            Self::Ssm { private, public, .. } => {
                format!("SSM parameters {private} (private) and {public} (public)")
            }
        }
    }

    async fn read(&self) -> Result<Option<KeySetDocument>, String> {
        let json = match self {
            Self::File(f) => match std::fs::read_to_string(f) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(format!("cannot read {}: {e}", f.display())),
            },
            Self::Ssm { private, client, .. } => {
                match client.get_parameter().name(private).with_decryption(true).send().await {
                    Ok(out) => out.parameter.and_then(|p| p.value).unwrap_or_default(),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_parameter_not_found()) => {
                        return Ok(None);
                    }
                    Err(e) => {
                        return Err(format!(
                            "cannot read parameter {private}: {}",
                            aws_sdk_ssm::error::DisplayErrorContext(e)
                        ));
                    }
                }
            }
        };
        KeySetDocument::parse(&json).map(Some).map_err(|e| format!("{}: {e}", self.describe()))
    }

    /// Writes the published half first, so no verifier ever lacks a key
    /// that signs, then the private document.
    async fn write(&self, doc: &KeySetDocument) -> Result<(), String> {
        let public =
            serde_json::to_string(&doc.public().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        match self {
            Self::File(f) => write_private_file(f, &doc.to_json()),
            Self::Ssm { private, public: public_name, client } => {
                let put = |name: &str, value: String, kind: aws_sdk_ssm::types::ParameterType| {
                    client.put_parameter().name(name).value(value).r#type(kind).overwrite(true).send()
                };
                put(public_name, public, aws_sdk_ssm::types::ParameterType::String).await.map_err(|e| {
                    format!(
                        "cannot write parameter {public_name}: {}",
                        aws_sdk_ssm::error::DisplayErrorContext(e)
                    )
                })?;
                put(private, doc.to_json(), aws_sdk_ssm::types::ParameterType::SecureString).await.map_err(
                    |e| {
                        format!(
                            "cannot write parameter {private}: {}",
                            aws_sdk_ssm::error::DisplayErrorContext(e)
                        )
                    },
                )?;
                Ok(())
            }
        }
    }
}

/// Writes `contents` to a new file beside `path` (mode 0600), then renames
/// it over `path`: a reader sees the old key set or the new, never half.
pub(crate) fn write_private_file(path: &Path, contents: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    f.write_all(contents.as_bytes()).and_then(|()| f.sync_all()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// The key set of a file written by `zeroauth keys generate --file`.
pub(crate) fn load_file(path: &Path) -> Result<Arc<Keys>, String> {
    let json = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the key set {}: {e}", path.display()))?;
    let doc = KeySetDocument::parse(&json).map_err(|e| format!("key set {}: {e}", path.display()))?;
    Keys::from_document(&doc).map(Arc::new).map_err(|e| format!("key set {}: {e}", path.display()))
}

fn key_json(k: &StoredKey) -> serde_json::Value {
    json!({ "kid": k.kid, "alg": k.alg.as_str(), "state": k.state, "created_at": k.created_at, "retired_at": k.retired_at })
}

fn keys_text(doc: &KeySetDocument) -> String {
    doc.keys
        .iter()
        .map(|k| {
            let retired = k.retired_at.map(|t| format!(", retired at {t}")).unwrap_or_default();
            let state = match k.state {
                KeyState::Next => "next (published, not yet signing)",
                KeyState::Active => "active (signing)",
                KeyState::Retired => "retired (published until its tokens expire)",
            };
            format!("  {}  {:<5}  {state}{retired}", k.kid, k.alg.as_str())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn keys(cmd: KeysCommand) -> Result<(), String> {
    let (target, action) = match &cmd {
        KeysCommand::Generate(t) => (t, "generate"),
        KeysCommand::Rotate { target, .. } => (target, "rotate"),
        KeysCommand::List(t) => (t, "list"),
    };
    let place = target.place().await?;
    let existing = place.read().await?;
    let doc = match (&cmd, existing) {
        (KeysCommand::Generate(_), Some(_)) => {
            return Err(format!("{} already holds a key set; use `zeroauth keys rotate`", place.describe()));
        }
        (KeysCommand::Generate(_), None) => {
            eprintln!("zeroauth: generating RS256, ES256 and EdDSA keys");
            let doc = KeySetDocument::generate(now()).map_err(|e| e.to_string())?;
            place.write(&doc).await?;
            doc
        }
        (_, None) => {
            return Err(format!(
                "{} holds no key set; make one with `zeroauth keys generate`",
                place.describe()
            ));
        }
        (KeysCommand::Rotate { keep_retired, .. }, Some(mut doc)) => {
            let keep_retired = *keep_retired;
            if keep_retired < MAX_ACCESS_TOKEN_TTL {
                return Err(format!(
                    "--keep-retired must be at least {MAX_ACCESS_TOKEN_TTL} s, the longest a signed token lives"
                ));
            }
            doc.rotate(now(), keep_retired).map_err(|e| e.to_string())?;
            place.write(&doc).await?;
            doc
        }
        (KeysCommand::List(_), Some(doc)) => doc,
    };
    let verb = match action {
        "generate" => "Generated a key set in",
        "rotate" => "Rotated the key set in",
        _ => "Key set in",
    };
    print(target.json, json!({ "keys": doc.keys.iter().map(key_json).collect::<Vec<_>>() }), || {
        format!("{verb} {}\n{}", place.describe(), keys_text(&doc))
    });
    Ok(())
}
