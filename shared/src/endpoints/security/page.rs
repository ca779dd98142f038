//! The security page's markup: passkeys, the authenticator app and the
//! recovery codes, each with what can be done about it. Changes need a
//! sign-in within the last 10 minutes; until then the page only shows.

use maud::{Markup, html};

use crate::domain::{Credential, CredentialData};
use crate::sign_in::page::{layout, script};
use crate::sign_in::step::enrol;

/// What the page shows.
pub struct View<'a> {
    /// Where its forms post.
    pub action: &'a str,
    /// Where the passkey script asks for options.
    pub options: &'a str,
    /// The CSRF token (the digest of this browser's CSRF cookie).
    pub csrf: &'a str,
    /// Who is signed in.
    pub name: &'a str,
    /// Their passkeys.
    pub passkeys: &'a [Credential],
    /// Whether an authenticator app is on.
    pub totp: bool,
    /// How many recovery codes are left.
    pub recovery: usize,
    /// Whether changes are allowed now (a recent sign-in).
    pub fresh: bool,
    /// A TOTP set-up to offer: the sealed set-up and its section.
    pub totp_setup: Option<(String, Markup)>,
    /// Recovery codes just made, shown once.
    pub new_codes: &'a [String],
    /// What just happened, or what went wrong.
    pub note: Option<Note<'a>>,
}

/// A message above the page.
pub enum Note<'a> {
    /// Something that happened.
    Done(&'a str),
    /// Something that went wrong.
    Error(&'a str),
}

/// The page.
pub fn render(v: &View<'_>) -> String {
    layout(
        "Security",
        html! {
            h1 { "Sign-in security" }
            p { "Signed in as " strong { (v.name) } "." }
            @match &v.note {
                Some(Note::Done(m)) => p.notice role="status" { (m) },
                Some(Note::Error(m)) => p.error role="alert" { (m) },
                None => {},
            }
            @if !v.new_codes.is_empty() { section { h2 { "Your new recovery codes" } (enrol::recovery_list(v.new_codes)) } }
            @if !v.fresh {
                p.notice role="status" {
                    "To change these settings, sign in again (within the last 10 minutes), then come back to this page."
                }
            }
            section aria-labelledby="passkeys" {
                h2 #passkeys { "Passkeys" }
                @if v.passkeys.is_empty() { p.hint { "No passkeys yet." } }
                ul.items {
                    @for p in v.passkeys { li { (passkey_row(v, p)) } }
                }
                @if v.fresh {
                    form method="post" action=(v.action) data-passkey="create" data-options=(v.options) {
                        (hidden(v, "add_passkey"))
                        input type="hidden" name="purpose" value="register";
                        input type="hidden" name="credential" value="";
                        label for="passkey-label" { "Name for a new passkey" }
                        input type="text" id="passkey-label" name="label" maxlength="64" value="My passkey" autocomplete="off";
                        p.error role="alert" data-passkey-error hidden {}
                        div.buttons { button.primary type="submit" { "Add a passkey" } }
                    }
                }
            }
            section aria-labelledby="totp" {
                h2 #totp { "Authenticator app" }
                @if v.totp {
                    p { "On: sign-ins ask for a code from your app." }
                    @if v.fresh { (remove(v, "remove_totp", None, "Turn off the authenticator app")) }
                } @else if let Some((setup, section)) = &v.totp_setup {
                    form method="post" action=(v.action) {
                        (hidden(v, "add_totp"))
                        input type="hidden" name="setup" value=(setup);
                        (section)
                        label for="totp-code" { "Code from the app" }
                        (crate::sign_in::step::page::code_input("totp-code", false))
                        div.buttons { button.primary type="submit" { "Turn on" } }
                    }
                } @else {
                    p.hint { "Off." }
                }
            }
            section aria-labelledby="recovery" {
                h2 #recovery { "Recovery codes" }
                p { (count(v.recovery)) }
                @if v.fresh {
                    form method="post" action=(v.action) {
                        (hidden(v, "recovery"))
                        div.buttons {
                            button.secondary type="submit" {
                                @if v.recovery > 0 { "Make new codes (the old ones stop working)" } @else { "Make recovery codes" }
                            }
                        }
                    }
                }
            }
            (script())
        },
    )
}

fn count(n: usize) -> String {
    match n {
        0 => "You have no recovery codes.".into(),
        1 => "You have 1 recovery code left.".into(),
        n => format!("You have {n} recovery codes left."),
    }
}

fn hidden(v: &View<'_>, action: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(v.csrf);
        input type="hidden" name="action" value=(action);
    }
}

fn remove(v: &View<'_>, action: &str, id: Option<&str>, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(v.action) {
            (hidden(v, action))
            @if let Some(id) = id { input type="hidden" name="id" value=(id); }
            button.secondary type="submit" { (label) }
        }
    }
}

fn passkey_row(v: &View<'_>, c: &Credential) -> Markup {
    let CredentialData::Passkey(p) = &c.data else { return html! {} };
    html! {
        strong { (p.label) }
        span.hint {
            " added " (date(c.created_at))
            @if let Some(t) = p.last_used_at { ", last used " (date(t)) }
            @if p.backup_eligible { ", synced" } @else { ", on one device" }
        }
        @if v.fresh { (remove(v, "remove_passkey", Some(&c.id), &format!("Remove {}", p.label))) }
    }
}

/// Epoch seconds as `YYYY-MM-DD` (UTC).
pub fn date(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(1_796_169_600), "2026-12-02");
    }
}
