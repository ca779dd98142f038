//! Sign-in methods: peers behind one trait. Each reads what it needs from
//! the posted form, decides, and either signs the person in or asks for the
//! page again; all of them finish the same way ([`super::finish`]). What a
//! method keeps to itself (throttle keys, device cookies, ceremonies, an
//! upstream provider's state) never
//! leaves its file.
//!
//! To add a method: a file here with a type implementing [`Method`], its
//! entry in [`ALL`], and in [`enabled`] the settings that allow it.

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use http::StatusCode;
use maud::Markup;

use super::interaction::PendingRequest;
use super::session::SignedIn;
use crate::app::App;
use crate::domain::Client;
use crate::error::OAuthError;
use crate::http::{Params, Request};

pub mod email_code;
pub mod passkey;
pub mod password;
pub mod upstream;

/// Work a method leaves to run while the code is issued (resetting a
/// failure counter, say). It is never fatal: it logs what fails.
pub type Cleanup<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One posted form, as a method sees it.
pub struct Attempt<'a> {
    /// The deployment.
    pub app: &'a App,
    /// The request (cookies, the client's address).
    pub req: &'a Request,
    /// The posted form.
    pub params: &'a Params,
    /// The interaction it belongs to.
    pub pending: &'a PendingRequest,
    /// Epoch seconds.
    pub now: i64,
}

/// A method signed the person in.
pub struct Success<'a> {
    /// Who, when and how.
    pub who: SignedIn,
    /// What to do while the code is issued.
    pub cleanup: Option<Cleanup<'a>>,
    /// `Set-Cookie` values for the response (the method's own cookies).
    pub cookies: Vec<String>,
}

/// The page again, with a message above the form.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// The status of the page.
    pub status: StatusCode,
    /// What the page says.
    pub message: &'static str,
    /// What to fill in again (the identifier typed).
    pub prefill: Option<String>,
}

/// How a method's attempt ended.
pub enum Outcome<'a> {
    /// Signed in.
    SignedIn(Success<'a>),
    /// Not signed in: show the page again.
    Retry(Retry),
    /// Not yet: the browser goes elsewhere first (to an upstream provider),
    /// and the sign-in finishes when it comes back.
    Elsewhere(crate::http::Response),
    /// Not yet: a code is to be mailed, and the sign-in finishes when it is
    /// typed (`POST /login/email`).
    Mail(MailCode),
}

/// A sign-in code to mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailCode {
    /// The person, when the address is an active person's verified one
    /// (`None`: the same page, and no mail).
    pub sub: Option<String>,
    /// The address typed.
    pub address: String,
}

/// What a method's part of the page is given.
pub struct Fields<'a> {
    /// The identifier to fill in (a `login_hint`, or what was typed before).
    pub prefill: Option<&'a str>,
}

/// A way to sign in.
#[async_trait]
pub trait Method: Send + Sync {
    /// The method's name, as a page's `method` field would say it.
    fn name(&self) -> &'static str;
    /// Whether the posted form chose this method.
    fn chosen(&self, params: &Params) -> bool;
    /// Runs the method on the posted form.
    async fn sign_in<'a>(&self, attempt: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError>;
    /// The method's part of the sign-in form.
    fn fields(&self, view: &Fields<'_>) -> Markup;
}

/// Every method ZeroAuth has.
pub const ALL: &[&dyn Method] =
    &[&password::Password, &passkey::Passkey, &email_code::EmailCode, &upstream::Upstream];

/// The methods this deployment and `client` allow, in the order the page
/// shows them: a mailed code only where the deployment turned it on and
/// can send mail.
pub fn enabled(app: &App, _client: &Client) -> Vec<&'static dyn Method> {
    let mail_codes = app.config.factors.email_code_sign_in && app.mail_enabled();
    ALL.iter().copied().filter(|m| m.name() != email_code::NAME || mail_codes).collect()
}

/// The method a posted form chose among `methods`, if any (none: the form
/// continues a session).
pub fn chosen<'m>(methods: &[&'m dyn Method], params: &Params) -> Option<&'m dyn Method> {
    methods.iter().copied().find(|m| m.chosen(params))
}
