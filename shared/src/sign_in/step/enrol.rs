//! Setting up a factor: a TOTP app (a QR code rendered here as SVG, and the
//! secret to type; active only once its first code is right) and a passkey
//! (the browser's ceremony). Shown in the sign-in when the person needs a
//! factor they do not have yet, and on the security page.

use maud::{Markup, PreEscaped, html};
use serde::{Deserialize, Serialize};

use super::FactorStep;
use super::page::{Hidden, OPTIONS_PATH, cancel, code_input};
use crate::app::App;
use crate::domain::{Acr, Client, Credential, User};
use crate::error::OAuthError;
use crate::factors::{recovery, totp};
use crate::sign_in::page::{layout, script};
use crate::sign_in::{endpoint_url, sealed};

/// Signing purpose of a TOTP set-up in progress.
pub const TOTP_SETUP_PURPOSE: &str = "totp-setup";
/// How long a set-up page stays good: 10 minutes.
pub const SETUP_TTL: i64 = 600;

/// A TOTP secret being set up, sealed into its page: whose, the secret
/// (itself encrypted under the key derived from the signing key), and until
/// when. It becomes a credential only when a code made from it is typed.
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpSetup {
    /// The person.
    pub sub: String,
    /// The secret, encrypted ([`totp::seal`]).
    pub secret: String,
    /// Epoch seconds after which the set-up is refused.
    pub exp: i64,
}

impl sealed::Expiring for TotpSetup {
    fn exp(&self) -> i64 {
        self.exp
    }
}

/// A fresh TOTP set-up for `user`: the sealed set-up and the page's section
/// (QR code, the secret to type, and the code field).
pub fn totp_section(app: &App, user: &User, now: i64) -> Result<(String, Markup), OAuthError> {
    let secret = totp::new_secret().map_err(OAuthError::server)?;
    let encrypted = totp::seal(app, &secret).map_err(OAuthError::server)?;
    let setup = TotpSetup { sub: user.sub.clone(), secret: encrypted, exp: now + SETUP_TTL };
    let sealed_setup = sealed::seal(&app.config.signing_key, TOTP_SETUP_PURPOSE, &setup);
    let issuer = app.config.factors.rp_name.clone().unwrap_or_else(|| app.mail.product.clone());
    let uri = totp::otpauth_uri(&secret, &issuer, user.display_name());
    let svg = totp::qr_svg(&uri);
    let section = html! {
        ol.hint {
            li { "Open your authenticator app (1Password, Google Authenticator, Microsoft Authenticator, …) and add an account." }
            li { "Scan this code, or type the key below." }
            li { "Enter the 6-digit code the app shows." }
        }
        div.qr role="img" aria-label="QR code for your authenticator app" { (PreEscaped(svg)) }
        p { "Key: " code.secret { (totp::base32(&secret)) } }
    };
    Ok((sealed_setup, section))
}

/// The TOTP credential a set-up and its first code make, if the code is
/// right for the set-up's secret and the set-up is `sub`'s and unexpired.
pub fn confirm_totp(app: &App, sealed_setup: &str, code: &str, sub: &str, now: i64) -> Option<Credential> {
    let setup: TotpSetup = sealed::open(&app.config.signing_key, TOTP_SETUP_PURPOSE, sealed_setup, now)?;
    if setup.sub != sub {
        return None;
    }
    let secret = totp::open(app, &setup.secret)?;
    let step = totp::check(&secret, code, now, 0)?;
    Some(totp::credential(sub, &setup.secret, step, now))
}

/// The page that sets a factor up inside a sign-in: a passkey, and (unless
/// only a passkey will do) an authenticator app.
pub fn offer(
    app: &App,
    client: &Client,
    hidden: &Hidden<'_>,
    action: &str,
    step: &FactorStep,
    error: Option<&str>,
) -> Result<String, OAuthError> {
    let passkey_only = step.need == Acr::PhishingResistant;
    let user = User {
        sub: step.sub.clone(),
        username: None,
        email: None,
        email_verified: false,
        name: None,
        disabled: false,
        created_at: 0,
        epoch: step.epoch,
        tokens_revoked_at: 0,
        upstream: vec![],
        passkey_user: None,
    };
    let totp = if passkey_only { None } else { Some(totp_section(app, &user, app.now())?) };
    let options = endpoint_url(app, OPTIONS_PATH);
    Ok(layout(
        "Set up a second factor",
        html! {
            h1 { @if passkey_only { "Add a passkey" } @else { "Set up a second factor" } }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            p {
                strong { (client.name) } " needs "
                @if passkey_only { "a passkey" } @else { "a second way to confirm it is you" }
                " before you continue. Set one up now: you will use it at every sign-in."
            }
            h2 { "A passkey" }
            p.hint { "Your device unlocks it with your fingerprint, face or screen lock. It cannot be phished." }
            form method="post" action=(action) data-passkey="create" data-options=(options) {
                (hidden.fields())
                input type="hidden" name="purpose" value="register";
                input type="hidden" name="factor" value="passkey_setup";
                input type="hidden" name="credential" value="";
                label for="passkey-label" { "Name for this passkey" }
                input type="text" id="passkey-label" name="label" maxlength="64" value="My passkey" autocomplete="off";
                p.error role="alert" data-passkey-error hidden {}
                div.buttons { button.primary type="submit" { "Create a passkey" } }
            }
            @if let Some((setup, section)) = &totp {
                h2 { "An authenticator app" }
                form method="post" action=(action) {
                    (hidden.fields())
                    input type="hidden" name="factor" value="totp_setup";
                    input type="hidden" name="setup" value=(setup);
                    (section)
                    label for="totp-code" { "Code from the app" }
                    (code_input("totp-code", false))
                    div.buttons { button.primary type="submit" { "Turn on" } }
                }
            }
            (cancel(app, hidden.request))
            (script())
        },
    ))
}

/// Ten new recovery codes for `sub`: the credentials to store and the codes
/// to show once.
pub fn new_recovery_codes(sub: &str, now: i64) -> Result<(Vec<Credential>, Vec<String>), OAuthError> {
    let codes = recovery::generate().map_err(OAuthError::server)?;
    let shown = codes.iter().map(|c| c.display().to_owned()).collect();
    Ok((recovery::credentials(sub, &codes, now), shown))
}

/// The recovery codes, shown once, with what to do with them.
pub fn recovery_list(codes: &[String]) -> Markup {
    html! {
        p {
            "Keep these recovery codes somewhere safe (a password manager, or printed). Each works once, "
            "if you lose your device. They are shown only now."
        }
        ul.codes { @for c in codes { li { code { (c) } } } }
    }
}

/// After a factor was set up in a sign-in: the recovery codes (when new
/// ones were made) and a button to go on.
pub fn done_page(app: &App, hidden: &Hidden<'_>, codes: &[String]) -> String {
    let action = endpoint_url(app, super::page::FACTOR_PATH);
    layout(
        "Second factor on",
        html! {
            h1 { "Your second factor is on" }
            p.notice role="status" { "From now on you confirm your sign-ins with it." }
            @if !codes.is_empty() { (recovery_list(codes)) }
            form method="post" action=(action) {
                (hidden.fields())
                input type="hidden" name="factor" value="done";
                div.buttons { button.primary type="submit" { "Continue" } }
            }
        },
    )
}
