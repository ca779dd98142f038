//! `zeroauth user …`: registering and managing the people who sign in.

use std::io::Read;

use clap::{Args, Subcommand};
use serde_json::json;
use zeroauth_shared::admin::{self, NewUser};
use zeroauth_shared::domain::User;
use zeroauth_shared::secret::Password;
use zeroauth_shared::store::Store;

use crate::store_arg::StoreSpec;
use crate::{JsonFlag, explain, explain_admin, now, open_store, print};

#[derive(Subcommand)]
pub(crate) enum UserCommand {
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
    /// Rename a user: their subject identifier, tokens and sessions stay.
    Rename(UserRename),
    /// Invite someone by email: they get a link to set up their account
    /// (name and password). Mail goes through ZEROAUTH_MAIL (the terminal
    /// by default); the link points at ZEROAUTH_ISSUER.
    Invite(UserInvite),
    /// Import people from another server: one JSON object per line with
    /// username, email, name, password_hash (bcrypt, argon2, PBKDF2-SHA256 or
    /// scrypt) and optionally sub. Re-running skips who is already there.
    Import(UserImport),
}

#[derive(Args)]
pub(crate) struct UserInvite {
    /// The address to invite.
    #[arg(long)]
    email: String,
    /// Their name, if known (they can change it when they accept).
    #[arg(long)]
    name: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct UserImport {
    /// The JSON-lines file (`-` for standard input).
    file: std::path::PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct Username {
    /// The username.
    username: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct UserRename {
    /// The current username.
    username: String,
    /// The new username.
    new_username: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct UserPassword {
    /// The username.
    username: String,
    /// Read the password from standard input (required: never pass it as an argument).
    #[arg(long, required = true)]
    password_stdin: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub(crate) struct UserCreate {
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
        u.username.as_deref().unwrap_or("(no username)"),
        u.sub,
        u.email.as_deref().map(|e| format!("  <{e}>")).unwrap_or_default(),
        u.name.as_deref().map(|n| format!("  {n}")).unwrap_or_default(),
        if u.disabled { "  [disabled]" } else { "" }
    )
}

/// `zeroauth user invite`: the link is mailed (or, with the terminal
/// transport, printed) and never shown otherwise.
async fn invite(store: std::sync::Arc<dyn Store>, a: UserInvite) -> Result<(), String> {
    use zeroauth_shared::sign_in::self_service::{SelfService, SignUp, account};
    let (mut config, _) =
        zeroauth_shared::config::Config::from_env_or_ephemeral_key().map_err(|e| e.to_string())?;
    config.self_service = SelfService::from_env(SignUp::Invite).map_err(|e| e.to_string())?;
    let (mailer, settings) =
        zeroauth_mail::from_env(zeroauth_shared::mail::Transport::Terminal).map_err(|e| e.to_string())?;
    let transport = mailer.transport();
    let app = zeroauth_shared::App::new(store, config).with_mailer(mailer, settings);
    eprintln!("Inviting {} (mail: {transport}) …", a.email.trim());
    let u = account::invite(&app, &a.email, a.name).await.map_err(|e| format!("cannot invite: {e}"))?;
    let days = app.config.self_service.invite_ttl / 86_400;
    print(a.json, json!({ "sub": u.sub, "email": u.email, "invited": true }), || {
        format!(
            "Invited {}: the link in the mail is good for {days} days.",
            u.email.as_deref().unwrap_or_default()
        )
    });
    Ok(())
}

fn read_password() -> Result<Password, String> {
    read_stdin_line("password").map(Password::new)
}

/// A secret piped to standard input, without its final line break.
pub(crate) fn read_stdin_line(what: &str) -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| format!("could not read the {what} from standard input: {e}"))?;
    let p = s.strip_suffix('\n').map(|p| p.strip_suffix('\r').unwrap_or(p)).unwrap_or(&s);
    if p.is_empty() {
        return Err(format!(
            "no {what} on standard input; pipe it in, e.g. `printf %s \"$SECRET\" | zeroauth …`"
        ));
    }
    Ok(p.to_owned())
}

pub(crate) async fn user(cmd: UserCommand, spec: StoreSpec) -> Result<(), String> {
    let shared = open_store(&spec).await?;
    let store: &dyn Store = shared.as_ref();
    match cmd {
        UserCommand::Invite(a) => invite(shared.clone(), a).await?,
        UserCommand::Import(a) => crate::import::import(store, a.file, a.json).await?,
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
            let mut users = store.list_people().await.map_err(|e| explain(&e))?;
            users.sort_by(|a, b| (&a.username, &a.sub).cmp(&(&b.username, &b.sub)));
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
            admin::set_password(store, &a.username, password, now()).await.map_err(explain_admin)?;
            print(a.json, json!({ "username": a.username, "password_set": true }), || {
                format!("Set the password of {}.", a.username)
            });
        }
        UserCommand::Disable(a) => {
            let name = admin::normalize_username(&a.username).map_err(explain_admin)?;
            admin::set_disabled(store, &name, true).await.map_err(explain_admin)?;
            print(a.json, json!({ "username": name, "disabled": true }), || {
                format!("Disabled {name}: they cannot sign in and their tokens no longer work.")
            });
        }
        UserCommand::Delete(a) => {
            let name = admin::normalize_username(&a.username).map_err(explain_admin)?;
            if !admin::delete_user(store, &name).await.map_err(explain_admin)? {
                return Err(format!("there is no user {name:?}"));
            }
            print(a.json, json!({ "username": name, "deleted": true }), || format!("Deleted user {name}."));
        }
        UserCommand::Rename(a) => {
            let u = admin::rename_user(store, &a.username, &a.new_username).await.map_err(explain_admin)?;
            print(a.json, user_json(&u), || {
                format!(
                    "Renamed {} to {}; their sub, tokens and sessions stay.",
                    a.username.trim(),
                    u.display_name()
                )
            });
        }
    }
    Ok(())
}
