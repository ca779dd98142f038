//! The self-service pages, in the sign-in page's style. Everything echoed
//! is escaped by maud; every form posts to an absolute URL under the issuer.

use maud::{Markup, html};

use crate::sign_in::page::layout;

/// A message above a form: an error (`role=alert`) or a notice.
pub enum Note<'a> {
    /// Something to fix.
    Error(&'a str),
    /// Something that happened.
    Notice(&'a str),
}

fn note(n: Option<&Note<'_>>) -> Markup {
    html! {
        @match n {
            Some(Note::Error(e)) => p.error role="alert" { (e) },
            Some(Note::Notice(m)) => p.notice role="status" { (m) },
            None => {},
        }
    }
}

/// The sign-up form.
pub struct SignUpPage<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The sealed authorization request to return to, if any.
    pub request: Option<&'a str>,
    /// An invitation's link token, when the person follows one.
    pub invitation: Option<&'a str>,
    /// Ask for a username too.
    pub username: bool,
    /// What was typed before (never the password).
    pub email: Option<&'a str>,
    /// The name typed before.
    pub name: Option<&'a str>,
    /// The username typed before.
    pub chosen_username: Option<&'a str>,
    /// Terms of service.
    pub terms_url: Option<&'a str>,
    /// Privacy policy.
    pub privacy_url: Option<&'a str>,
    /// Above the form.
    pub note: Option<Note<'a>>,
    /// Back to the sign-in page (the authorization request), if any.
    pub sign_in_url: Option<&'a str>,
}

/// The sign-up page.
pub fn sign_up(p: &SignUpPage<'_>) -> String {
    let title = if p.invitation.is_some() { "Set up your account" } else { "Create an account" };
    layout(
        title,
        html! {
            h1 { (title) }
            (note(p.note.as_ref()))
            form method="post" action=(p.action) {
                @if let Some(r) = p.request { input type="hidden" name="request" value=(r); }
                @if let Some(t) = p.invitation {
                    input type="hidden" name="t" value=(t);
                } @else {
                    label for="email" { "Email address" }
                    input type="email" id="email" name="email" autocomplete="email" required maxlength="254"
                        value=[p.email] autofocus;
                }
                label for="name" { "Your name" }
                input type="text" id="name" name="name" autocomplete="name" maxlength="128" value=[p.name];
                @if p.username {
                    label for="username" { "Username" }
                    input type="text" id="username" name="username" autocomplete="username" maxlength="64"
                        value=[p.chosen_username] aria-describedby="username-hint";
                    p.hint id="username-hint" { "Optional: letters, digits and . _ - only." }
                }
                label for="password" { "Password" }
                input type="password" id="password" name="password" autocomplete="new-password" required
                    minlength="8" maxlength="256" aria-describedby="password-hint";
                p.hint id="password-hint" { "At least 8 characters. A phrase of a few unrelated words is strong and easy to remember." }
                @if p.terms_url.is_some() || p.privacy_url.is_some() {
                    p.hint {
                        "By creating an account you agree to the "
                        @if let Some(t) = p.terms_url { a href=(t) { "terms of service" } }
                        @if p.terms_url.is_some() && p.privacy_url.is_some() { " and the " }
                        @if let Some(u) = p.privacy_url { a href=(u) { "privacy policy" } }
                        "."
                    }
                }
                div.buttons { button.primary type="submit" { (title) } }
            }
            @if let Some(back) = p.sign_in_url {
                div.links { a href=(back) { "I already have an account" } }
            }
        },
    )
}

/// The page that asks for the mailed code.
pub struct CodePage<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The heading.
    pub title: &'a str,
    /// The address the mail went to (as typed).
    pub email: &'a str,
    /// Ask for a new password with the code (a reset).
    pub new_password: bool,
    /// Above the form.
    pub note: Option<Note<'a>>,
    /// The mail has a link too (otherwise the code only, for this browser).
    pub with_link: bool,
}

/// The "check your mail" page with the code form and a resend button.
pub fn code(p: &CodePage<'_>) -> String {
    layout(
        p.title,
        html! {
            h1 { (p.title) }
            (note(p.note.as_ref()))
            @if p.with_link {
                p { "If " strong { (p.email) } " can receive mail from us, we have sent it a 6-digit code and a link. \
                     Enter the code, or open the link on any device." }
            } @else {
                p { "We have sent a 6-digit code to " strong { (p.email) } ". Enter it here." }
            }
            form method="post" action=(p.action) {

                label for="code" { "Code" }
                input.code type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code"
                    pattern="[0-9 -]{6,9}" maxlength="9" required autofocus;
                @if p.new_password {
                    label for="password" { "New password" }
                    input type="password" id="password" name="password" autocomplete="new-password" required
                        minlength="8" maxlength="256";
                }
                div.buttons {
                    button.primary type="submit" name="step" value="code" { "Continue" }
                }
                div.links {
                    button.secondary type="submit" name="step" value="resend" formnovalidate { "Send a new code" }
                }
            }
        },
    )
}

/// The page a mailed link opens: one button that posts (mail scanners
/// only follow links, so nothing happens until a person presses it).
pub struct LinkPage<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The heading.
    pub title: &'a str,
    /// What pressing the button does.
    pub button: &'a str,
    /// The link token.
    pub token: &'a str,
    /// Ask for a new password (a reset).
    pub new_password: bool,
    /// Above the form.
    pub note: Option<Note<'a>>,
}

/// The link's confirmation page.
pub fn link(p: &LinkPage<'_>) -> String {
    layout(
        p.title,
        html! {
            h1 { (p.title) }
            (note(p.note.as_ref()))
            form method="post" action=(p.action) {
                input type="hidden" name="t" value=(p.token);
                @if p.new_password {
                    label for="password" { "New password" }
                    input type="password" id="password" name="password" autocomplete="new-password" required
                        minlength="8" maxlength="256" autofocus;
                }
                div.buttons { button.primary type="submit" name="step" value="link" { (p.button) } }
            }
        },
    )
}

/// The form that asks which address to send a reset code to.
pub fn reset_request(
    action: &str,
    request: Option<&str>,
    email: Option<&str>,
    n: Option<&Note<'_>>,
    back: Option<&str>,
) -> String {
    layout(
        "Reset your password",
        html! {
            h1 { "Reset your password" }
            (note(n))
            p { "Enter the email address of your account. We will send it a code and a link to choose a new password." }
            form method="post" action=(action) {
                @if let Some(r) = request { input type="hidden" name="request" value=(r); }
                label for="email" { "Email address" }
                input type="email" id="email" name="email" autocomplete="email" required maxlength="254"
                    value=[email] autofocus;
                div.buttons { button.primary type="submit" name="step" value="request" { "Send the code" } }
            }
            @if let Some(b) = back { div.links { a href=(b) { "Back to sign in" } } }
        },
    )
}

/// The form that starts an email change (for a signed-in person).
pub fn email_change(action: &str, csrf: &str, current: Option<&str>, n: Option<&Note<'_>>) -> String {
    layout(
        "Change your email address",
        html! {
            h1 { "Change your email address" }
            (note(n))
            @if let Some(c) = current { p { "Your address now is " strong { (c) } "." } }
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "New email address" }
                input type="email" id="email" name="email" autocomplete="email" required maxlength="254" autofocus;
                div.buttons { button.primary type="submit" name="step" value="request" { "Send a code to the new address" } }
            }
        },
    )
}

/// A page that says where the person stands, with an optional link on.
pub fn done(title: &str, message: &str, next: Option<(&str, &str)>) -> String {
    layout(
        title,
        html! {
            h1 { (title) }
            p.notice role="status" { (message) }
            @if let Some((href, label)) = next { div.links { a href=(href) { (label) } } }
        },
    )
}

/// A page for a request that cannot go on.
pub fn refused(title: &str, message: &str) -> String {
    layout(title, html! { h1 { (title) } p.error role="alert" { (message) } })
}

/// The 429 page.
pub fn too_many(minutes: i64) -> String {
    let when = if minutes <= 1 { "in a minute".to_owned() } else { format!("in {minutes} minutes") };
    refused("Too many mails", &format!("We have sent as many mails as we may for now. Try again {when}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_was_typed() {
        let page = code(&CodePage {
            action: "https://id.example/verify",
            title: "Check your email",
            email: "<b>x</b>@example.com",
            new_password: false,
            note: Some(Note::Error("<i>")),
            with_link: true,
        });
        assert!(!page.contains("<b>x</b>") && !page.contains("<i>"));
        assert!(page.contains(r#"autocomplete="one-time-code""#));
    }
}
