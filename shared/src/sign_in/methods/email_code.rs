//! Signing in with a code mailed to the person's verified address, for a
//! deployment that turns it on (`ZEROAUTH_EMAIL_CODE_SIGN_IN`): the form's
//! "Email me a sign-in code" button sends the typed address a code and
//! shows the code page (`POST /login/email`). An address
//! without an account, or not yet verified, gets the same page and no mail.

use async_trait::async_trait;
use maud::{Markup, html};

use super::{Attempt, Fields, MailCode, Method, Outcome};
use crate::domain::Identifier;
use crate::error::OAuthError;
use crate::http::Params;
use crate::mail::address;

/// The email-code method.
pub struct EmailCode;

/// The value of the form's `method` field that chooses it.
pub const NAME: &str = "email_code";

#[async_trait]
impl Method for EmailCode {
    fn name(&self) -> &'static str {
        NAME
    }

    fn chosen(&self, params: &Params) -> bool {
        params.get("method").ok().flatten() == Some(NAME)
    }

    async fn sign_in<'a>(&self, a: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError> {
        let typed = a.params.get("username")?.unwrap_or("");
        let Ok(addr) = address::parse(typed) else {
            return Ok(Outcome::Retry(super::Retry {
                status: http::StatusCode::BAD_REQUEST,
                message: "Type your email address to get a sign-in code.",
                prefill: Some(typed.trim().to_owned()),
            }));
        };
        let store = &a.app.store;
        let sub = store.find_identifier(&Identifier::email(&addr)).await;
        let sub = sub.map_err(OAuthError::store("finding the address"))?;
        let person = match sub {
            Some(sub) => {
                store.get_person(&sub, None).await.map_err(OAuthError::store("reading the person"))?
            }
            None => None,
        };
        // Only an active person's verified address gets the code.
        let sub = person.filter(|p| p.is_active() && p.email_verified && p.has_address(&addr)).map(|p| p.sub);
        Ok(Outcome::Mail(MailCode { sub, address: addr }))
    }

    /// Nothing inside the form: its button comes after the main ones
    /// ([`button`]), so Enter in the password field still signs in.
    fn fields(&self, _view: &Fields<'_>) -> Markup {
        html! {}
    }
}

/// The "Email me a sign-in code" button of the sign-in form: it posts the
/// typed address without asking for the password.
pub fn button() -> Markup {
    html! {
        div.links {
            button.secondary type="submit" name="method" value=(NAME) formnovalidate {
                "Email me a sign-in code instead"
            }
        }
    }
}
