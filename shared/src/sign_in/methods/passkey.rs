//! Signing in with a passkey alone: the page's script asks for a
//! discoverable ceremony (`POST /passkey/options`), the browser offers the
//! person's passkeys (in the username field's autofill, or on "Sign in with
//! a passkey"), and the signed answer comes back in the form. The passkey's
//! user handle finds the person; no password hash is computed. A
//! user-verifying passkey is two factors in one (`mfa`).

use async_trait::async_trait;
use http::StatusCode;
use maud::{Markup, html};

use super::{Attempt, Fields, Method, Outcome, Retry, Success};
use crate::domain::{CeremonyKind, CredentialKind, Identifier};
use crate::error::OAuthError;
use crate::factors::passkey;
use crate::http::Params;
use crate::sign_in::ceremony;
use crate::sign_in::session::SignedIn;

/// What the page says when a passkey does not sign the person in.
pub const PASSKEY_REFUSED: &str = "That passkey did not sign you in. Try again, or sign in another way.";

/// The passkey method.
pub struct Passkey;

/// The value of the form's `method` field that chooses it.
pub const NAME: &str = "passkey";

#[async_trait]
impl Method for Passkey {
    fn name(&self) -> &'static str {
        NAME
    }

    fn chosen(&self, params: &Params) -> bool {
        params.get("method").ok().flatten() == Some(NAME)
    }

    async fn sign_in<'a>(&self, a: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError> {
        let refused = || {
            Outcome::Retry(Retry {
                status: StatusCode::UNAUTHORIZED,
                message: PASSKEY_REFUSED,
                prefill: None,
            })
        };
        let credential = a.params.get("credential")?.unwrap_or("");
        // The ceremony is spent whatever follows: an answer is tried once.
        let Some(kept) = ceremony::take(a.app, a.req, CeremonyKind::PasskeyAuthentication, None).await?
        else {
            return Ok(refused());
        };
        let Some(handle) = passkey::identify(credential) else { return Ok(refused()) };
        let store = &a.app.store;
        let sub = store.find_identifier(&Identifier::Passkey(handle)).await;
        let Some(sub) = sub.map_err(OAuthError::store("finding the passkey's person"))? else {
            return Ok(refused());
        };
        let (person, creds) =
            tokio::join!(store.get_person(&sub, None), store.get_credentials(&sub, CredentialKind::Passkey));
        let person = person.map_err(OAuthError::store("reading the person"))?;
        let creds = creds.map_err(OAuthError::store("reading the passkeys"))?;
        let Some(user) = person.filter(|p| p.is_active()) else { return Ok(refused()) };
        let Some(amr) = ceremony::verify_passkey(a.app, &kept.state, credential, &creds, true).await? else {
            return Ok(refused());
        };
        let who = SignedIn { user, auth_time: a.now, amr, idp: None };
        Ok(Outcome::SignedIn(Success { who, cleanup: None, cookies: vec![ceremony::clear_cookie(a.app)] }))
    }

    /// Nothing inside the form: the passkey has a form of its own
    /// ([`form`]), and the username field offers passkeys in its autofill.
    fn fields(&self, _view: &Fields<'_>) -> Markup {
        html! {}
    }
}

/// The "Sign in with a passkey" form of the sign-in page, which also asks
/// the browser to offer passkeys in the username field's autofill.
pub fn form(action: &str, options: &str, request: &str) -> Markup {
    html! {
        form.passkey method="post" action=(action) data-passkey="get" data-passkey-autofill data-options=(options) {
            input type="hidden" name="request" value=(request);
            input type="hidden" name="purpose" value="sign_in";
            input type="hidden" name="method" value=(NAME);
            input type="hidden" name="decision" value="approve";
            input type="hidden" name="credential" value="";
            p.error role="alert" data-passkey-error hidden {}
            div.buttons { button.secondary type="submit" { "Sign in with a passkey" } }
        }
    }
}
