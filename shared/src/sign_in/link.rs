//! Linking an upstream identity to the existing account its verified
//! address belongs to, only once the person proves the account (SPEC.md
//! section 11): the offer — the identity as the provider vouched for it,
//! and the account — is sealed into the connect page's form, bound to the
//! browser's CSRF cookie and short-lived, so the page writes nothing; the
//! form's password goes through the password method like any sign-in
//! (throttled the same way), and only a sign-in as that very account links.
//! Where mail is on, a 6-digit code mailed to the account's address (typed
//! in this browser) proves it too.

use maud::html;
use serde::{Deserialize, Serialize};

use super::interaction::PendingRequest;
use super::page::layout;
use super::{endpoint_url, sealed};
use crate::app::App;
use crate::domain::{Provider, UpstreamProfile, User};

/// Signing purpose of a link offer.
pub const LINK_PURPOSE: &str = "link-offer";
/// Seconds a connect page may sit before it is posted.
pub const LINK_TTL: i64 = 600;
/// Where the connect page posts.
pub const LINK_PATH: &str = "/federation/link";

/// An identity waiting to be linked to `sub`'s account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkOffer {
    /// What the provider vouched for.
    pub profile: UpstreamProfile,
    /// The provider's display name.
    pub provider_name: String,
    /// The account the verified address belongs to.
    pub sub: String,
    /// Digest of the CSRF cookie the offer is bound to.
    pub csrf: String,
    /// Epoch seconds after which the offer is refused.
    pub exp: i64,
}

impl sealed::Expiring for LinkOffer {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// The offer to link `profile` to `person`, for the browser of `pending`.
pub fn offer(
    app: &App,
    provider: &Provider,
    profile: &UpstreamProfile,
    person: &User,
    pending: &PendingRequest,
) -> LinkOffer {
    LinkOffer {
        profile: profile.clone(),
        provider_name: provider.name.clone(),
        sub: person.sub.clone(),
        csrf: pending.csrf.clone(),
        exp: app.now() + LINK_TTL,
    }
}

/// What the connect page shows.
pub struct ConnectPage<'a> {
    /// The offer, sealed.
    pub offer: &'a str,
    /// Its contents.
    pub about: &'a LinkOffer,
    /// The sealed authorization request.
    pub request: &'a str,
    /// A message above the password field (a wrong password).
    pub error: Option<&'a str>,
    /// "Forgot your password?", when the deployment can mail a reset.
    pub reset_url: Option<&'a str>,
    /// Offer a mailed code instead of the password (mail is on).
    pub mail: bool,
}

/// The page asking the person to prove the account before the identity is linked.
pub fn connect(app: &App, p: &ConnectPage<'_>) -> String {
    let provider = &p.about.provider_name;
    let address = p.about.profile.email.as_deref().unwrap_or_default();
    let title = format!("Connect your {provider} account");
    layout(
        &title,
        html! {
            h1 { (title) }
            p { "An account with the address " strong { (address) } " already exists here. Enter its password to "
                "sign in to it with " (provider) " from now on." }
            form method="post" action=(endpoint_url(app, LINK_PATH)) {
                input type="hidden" name="request" value=(p.request);
                input type="hidden" name="offer" value=(p.offer);
                input type="hidden" name="username" value=(address) autocomplete="username";
                @if let Some(e) = p.error { p.error role="alert" { (e) } }
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="current-password" required autofocus;
                div.buttons {
                    button type="submit" name="decision" value="approve" { "Sign in and connect" }
                    button type="submit" name="decision" value="deny" formnovalidate { "Cancel" }
                }
            }
            @if p.mail {
                form method="post" action=(endpoint_url(app, LINK_PATH)) {
                    input type="hidden" name="request" value=(p.request);
                    input type="hidden" name="offer" value=(p.offer);
                    div.buttons {
                        button.secondary type="submit" name="step" value="mail" {
                            "Email a code to " (address) " instead"
                        }
                    }
                }
            }
            @if let Some(u) = p.reset_url { div.links { a href=(u) { "Forgot your password?" } } }
        },
    )
}
