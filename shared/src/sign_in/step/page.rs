//! The factor page: the second step of a sign-in, offering the factors the
//! person has that reach the level needed — a passkey, a code from their
//! authenticator app, a recovery code, a code mailed to them — or, when
//! they have none, setting one up ([`super::enrol`]).

use http::StatusCode;
use maud::{Markup, html};

use super::{FactorStep, Factors, enrol};
use crate::app::App;
use crate::domain::{Acr, Client};
use crate::error::OAuthError;
use crate::http::Response;
use crate::sign_in::interaction::{LOGIN_PURPOSE, PendingRequest, set_csrf_cookie};
use crate::sign_in::page::{layout, script, with_script};
use crate::sign_in::{endpoint_url, sealed};

/// Where the factor forms post.
pub const FACTOR_PATH: &str = "/login/factor";
/// Where the passkey script asks for a ceremony's options.
pub const OPTIONS_PATH: &str = "/passkey/options";

/// The hidden fields every form of the step carries.
pub struct Hidden<'a> {
    /// The sealed interaction.
    pub request: &'a str,
    /// The sealed step.
    pub step: &'a str,
}

impl Hidden<'_> {
    /// The fields.
    pub fn fields(&self) -> Markup {
        html! {
            input type="hidden" name="request" value=(self.request);
            input type="hidden" name="step" value=(self.step);
        }
    }
}

/// The factor page for `step`, with `error` above the forms; `new_csrf` is
/// the CSRF secret to set when the request was bound to a new one.
pub fn ask(
    app: &App,
    new_csrf: Option<&str>,
    client: &Client,
    pending: &PendingRequest,
    step: &FactorStep,
    factors: &Factors,
    error: Option<&str>,
) -> Result<Response, OAuthError> {
    let request = sealed::seal(&app.config.signing_key, LOGIN_PURPOSE, pending);
    let step_sealed = step.seal(app);
    let hidden = Hidden { request: &request, step: &step_sealed };
    let action = endpoint_url(app, FACTOR_PATH);
    let body = if factors.can_reach(step.need) {
        choose(app, client, &hidden, &action, step, factors, error)
    } else {
        enrol::offer(app, client, &hidden, &action, step, error)?
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut res = with_script(crate::http::html(status, body));
    // The step's forms are bound to this browser's CSRF cookie (the request is).
    if let Some(csrf) = new_csrf {
        set_csrf_cookie(app, &mut res, csrf);
    }
    Ok(res)
}

/// The page's forms when the person has a factor that reaches the level.
fn choose(
    app: &App,
    client: &Client,
    hidden: &Hidden<'_>,
    action: &str,
    step: &FactorStep,
    f: &Factors,
    error: Option<&str>,
) -> String {
    let options = endpoint_url(app, OPTIONS_PATH);
    let passkey_only = step.need == Acr::PhishingResistant;
    layout(
        "Confirm it is you",
        html! {
            h1 { "Confirm it is you" }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p {
                @if passkey_only { strong { (client.name) } " asks you to sign in with a passkey." }
                @else { "One more step to sign in to " strong { (client.name) } "." }
            }
            @if !f.passkeys.is_empty() {
                form method="post" action=(action) data-passkey="get" data-options=(options) {
                    (hidden.fields())
                    input type="hidden" name="purpose" value="second_factor";
                    input type="hidden" name="factor" value="passkey";
                    input type="hidden" name="credential" value="";
                    p.error role="alert" data-passkey-error hidden {}
                    div.buttons { button.primary type="submit" { "Use a passkey" } }
                }
            }
            @if !passkey_only {
                @if f.totp.is_some() {
                    form method="post" action=(action) {
                        (hidden.fields())
                        input type="hidden" name="factor" value="totp";
                        label for="totp-code" { "Code from your authenticator app" }
                        (code_input("totp-code", f.passkeys.is_empty()))
                        div.buttons { button.primary type="submit" { "Continue" } }
                    }
                }
                @if f.recovery > 0 {
                    details {
                        summary { "Use a recovery code" }
                        form method="post" action=(action) {
                            (hidden.fields())
                            input type="hidden" name="factor" value="recovery";
                            label for="recovery-code" { "Recovery code" }
                            input type="text" id="recovery-code" name="code" autocomplete="off"
                                autocapitalize="none" spellcheck="false" required;
                            div.buttons { button.secondary type="submit" { "Use this code" } }
                        }
                    }
                }
                @if let Some(address) = &f.email {
                    form method="post" action=(action) {
                        (hidden.fields())
                        input type="hidden" name="factor" value="email";
                        div.buttons {
                            button.secondary type="submit" { "Email a code to " (masked(address)) }
                        }
                    }
                }
            }
            (cancel(app, hidden.request))
            (script())
        },
    )
}

/// A six-digit code field.
pub fn code_input(id: &str, autofocus: bool) -> Markup {
    html! {
        input.code type="text" id=(id) name="code" inputmode="numeric" autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}" maxlength="7" required autofocus[autofocus];
    }
}

/// "Cancel": the client gets `access_denied`.
pub fn cancel(app: &App, request: &str) -> Markup {
    html! {
        form method="post" action=(endpoint_url(app, "/callback")) {
            input type="hidden" name="request" value=(request);
            div.links { button.secondary type="submit" name="decision" value="deny" { "Cancel" } }
        }
    }
}

/// `alice@example.com` → `a•••@example.com`: enough for the person to know
/// which address, not enough to read it off a screen.
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "your address".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_masked_to_its_first_letter_and_domain() {
        assert_eq!(masked("alice@example.com"), "a•••@example.com");
        assert_eq!(masked("é@x.org"), "é•••@x.org");
        assert_eq!(masked("nonsense"), "your address");
    }
}
