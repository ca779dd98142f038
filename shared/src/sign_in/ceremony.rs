//! WebAuthn ceremonies in progress: the `webauthn-rs` state is a table item
//! under the digest of a random handle, for at most 5 minutes, taken once
//! by one conditional delete; the browser holds only the handle, in an
//! HttpOnly cookie.

use serde::{Deserialize, Serialize};

use super::{cookie_attributes, cookie_name};
use crate::app::App;
use crate::crypto;
use crate::domain::{Ceremony, CeremonyKind};
use crate::error::OAuthError;
use crate::http::{Request, cookie};
use crate::oauth::tokens::rng;

/// Cookie holding the ceremony's handle (named through [`cookie_name`]).
pub const WEBAUTHN_COOKIE: &str = "za_webauthn";
/// How long a ceremony lasts: 5 minutes (WebAuthn's recommended timeout).
pub const CEREMONY_TTL: i64 = 300;
/// Length of a handle: 32 random bytes, base64url.
const HANDLE_LEN: usize = 43;

/// What a ceremony keeps.
#[derive(Clone, Serialize, Deserialize)]
pub struct Kept {
    /// The `webauthn-rs` state, as JSON.
    pub state: String,
    /// The WebAuthn user handle a registration made (a person's first
    /// passkey gets a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// Stores a ceremony of `kind` (the person's, when `sub` is given) and
/// returns the `Set-Cookie` value that hands its handle to the browser.
pub async fn start(
    app: &App,
    kind: CeremonyKind,
    sub: Option<&str>,
    kept: &Kept,
) -> Result<String, OAuthError> {
    let handle = rng(crypto::random_string(32))?;
    let now = app.now();
    let ceremony = Ceremony {
        handle: crypto::digest(&handle),
        kind,
        sub: sub.map(str::to_owned),
        data: serde_json::to_string(kept).map_err(OAuthError::server)?,
        expires_at: now + CEREMONY_TTL,
    };
    app.store.put_ceremony(&ceremony).await.map_err(OAuthError::store("starting the passkey ceremony"))?;
    let attrs = cookie_attributes(app, CEREMONY_TTL, "Strict");
    Ok(format!("{}={handle}; {attrs}", cookie_name(app, WEBAUTHN_COOKIE)))
}

/// Takes this browser's ceremony, if it is of `kind` and (for `sub`) the
/// person's: spent whatever the answer, so a response can be tried once.
pub async fn take(
    app: &App,
    req: &Request,
    kind: CeremonyKind,
    sub: Option<&str>,
) -> Result<Option<Kept>, OAuthError> {
    let Some(handle) =
        cookie(req.headers(), &cookie_name(app, WEBAUTHN_COOKIE)).filter(|h| h.len() == HANDLE_LEN)
    else {
        return Ok(None);
    };
    let taken = app.store.take_ceremony(&crypto::digest(handle), app.now()).await;
    let taken = taken.map_err(OAuthError::store("reading the passkey ceremony"))?;
    Ok(taken
        .filter(|c| c.kind == kind && c.sub.as_deref() == sub)
        .and_then(|c| serde_json::from_str(&c.data).ok()))
}

/// The `Set-Cookie` value that ends the ceremony cookie.
pub fn clear_cookie(app: &App) -> String {
    format!("{}=; {}", cookie_name(app, WEBAUTHN_COOKIE), cookie_attributes(app, 0, "Strict"))
}

/// Checks a passkey's answer to the ceremony `state` against the person's
/// passkeys `creds` as read now, and writes its new counter and last use
/// only as read (of two answers racing, one passes): the `amr` it earns, or
/// `None` when it is refused (the reason is logged, never the key).
pub async fn verify_passkey(
    app: &App,
    state: &str,
    credential: &str,
    creds: &[crate::domain::Credential],
    discoverable: bool,
) -> Result<Option<Vec<crate::domain::Amr>>, OAuthError> {
    use crate::factors::passkey;
    let verified =
        match passkey::finish_authentication(app, state, credential, creds, discoverable, app.now()) {
            Ok(v) => v,
            Err(e) => {
                tracing::info!(reason = %e, discoverable, "a passkey was refused");
                return Ok(None);
            }
        };
    if let Some(after) = &verified.after {
        let swapped = app.store.replace_credential(&verified.before, after).await;
        if !swapped.map_err(OAuthError::store("updating the passkey"))? {
            return Ok(None);
        }
    }
    Ok(Some(verified.amr))
}
