//! Every message ZeroAuth mails, one function each.
//!
//! Each has a text and an HTML part saying the same; the HTML is a maud
//! template (everything passed in is escaped), with inline styles only: no
//! images, no remote resources, nothing that reports an opening. The product
//! name is in every subject and signature. A code or a link is in the body
//! only, never in the subject (which mail clients show in notifications and
//! lists). Every message says what to do if the person did not ask for it.

use maud::{DOCTYPE, Markup, html};

use super::{Mail, MailSettings};

/// The pieces of one message, in the order they are read.
struct Letter<'a> {
    subject: String,
    /// What happened and what the mail is for.
    intro: String,
    code: Option<&'a str>,
    /// The button's label and where it goes.
    link: Option<(&'a str, &'a str)>,
    /// How long the code or link works.
    validity: Option<String>,
    /// What to do if the person did not ask for this.
    not_you: &'static str,
}

/// The code and link that verify the address of a new account.
pub fn verify_address(settings: &MailSettings, to: &str, code: &str, link: &str, valid_minutes: u32) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Verify your email address for {product}"),
            intro: format!("Enter this code to verify your email address for {product}:"),
            code: Some(code),
            link: Some(("Verify my address", link)),
            validity: Some(format!("The code and the link work for {}.", minutes(valid_minutes))),
            not_you: "If you did not sign up, you can ignore this email.",
        },
    )
}

/// The code and link that reset a forgotten password.
pub fn reset_password(settings: &MailSettings, to: &str, code: &str, link: &str, valid_minutes: u32) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Reset your {product} password"),
            intro: format!(
                "Someone asked to reset the password of your {product} account. Enter this code to choose a new one:"
            ),
            code: Some(code),
            link: Some(("Choose a new password", link)),
            validity: Some(format!("The code and the link work for {}.", minutes(valid_minutes))),
            not_you: "If you did not ask for this, you can ignore this email: your password stays as it is.",
        },
    )
}

/// The code and link that confirm an address a person is moving their account to.
pub fn confirm_new_address(
    settings: &MailSettings,
    to: &str,
    code: &str,
    link: &str,
    valid_minutes: u32,
) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Confirm your new email address for {product}"),
            intro: format!("Enter this code to make this the email address of your {product} account:"),
            code: Some(code),
            link: Some(("Confirm this address", link)),
            validity: Some(format!("The code and the link work for {}.", minutes(valid_minutes))),
            not_you: "If you did not ask for this, you can ignore this email: the account keeps its current address.",
        },
    )
}

/// The code that proves an account before another way to sign in to it
/// (an upstream provider) is linked. A code only: it works in the browser
/// that asked for it.
pub fn link_account(settings: &MailSettings, to: &str, code: &str, valid_minutes: u32) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Connect a sign-in to your {product} account"),
            intro: format!(
                "Someone is connecting another way to sign in to your {product} account. If it is you, enter this code on the page that asked for it:"
            ),
            code: Some(code),
            link: None,
            validity: Some(format!("The code works for {}.", minutes(valid_minutes))),
            not_you: "If it is not you, do not share the code: nothing changes without it.",
        },
    )
}

/// An invitation to create an account.
pub fn invitation(settings: &MailSettings, to: &str, link: &str, valid_days: u32) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("You are invited to {product}"),
            intro: format!("You are invited to create an account on {product}. Open this link to set it up:"),
            code: None,
            link: Some(("Create my account", link)),
            validity: Some(format!("The invitation works for {}.", plural(valid_days, "day"))),
            not_you: "If you did not expect this invitation, you can ignore this email: nobody can sign in with it until the link is used.",
        },
    )
}

/// Someone tried to sign up with an address that already has an account:
/// told to the address, not to the page, so the page cannot be asked who
/// has an account.
pub fn account_exists(settings: &MailSettings, to: &str, reset_link: &str) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("You already have a {product} account"),
            intro: format!(
                "Someone tried to sign up for {product} with this email address, which already has an \
                 account. If that was you, sign in as usual, or reset your password if you forgot it:"
            ),
            code: None,
            link: Some(("Reset my password", reset_link)),
            validity: None,
            not_you: "If it was not you, you can ignore this email: nothing has changed.",
        },
    )
}

/// The password of an account was changed.
pub fn password_changed(settings: &MailSettings, to: &str) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Your {product} password was changed"),
            intro: format!(
                "The password of your {product} account was just changed, and every other session was signed out."
            ),
            code: None,
            link: None,
            validity: None,
            not_you: "If you did not change it, reset your password at once from the sign-in page, and tell \
                      your administrator.",
        },
    )
}

/// A change to how the person signs in (`what`: "A passkey was added to"),
/// after which every other session was signed out.
pub fn factor_changed(settings: &MailSettings, to: &str, what: &str) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("The sign-in settings of your {product} account changed"),
            intro: format!("{what} your {product} account, and every other session was signed out."),
            code: None,
            link: None,
            validity: None,
            not_you: "If you did not make this change, reset your password at once from the sign-in page, \
                      and tell your administrator.",
        },
    )
}

/// A recovery code was used to sign in; `left` remain.
pub fn recovery_code_used(settings: &MailSettings, to: &str, left: usize) -> Mail {
    let product = &settings.product;
    let remaining = match left {
        0 => "You have no recovery codes left: make new ones on your account's security page.".to_owned(),
        1 => "You have 1 recovery code left.".to_owned(),
        n => format!("You have {n} recovery codes left."),
    };
    write(
        settings,
        to,
        Letter {
            subject: format!("A recovery code was used for your {product} account"),
            intro: format!("A recovery code was just used to sign in to your {product} account. {remaining}"),
            code: None,
            link: None,
            validity: None,
            not_you: "If it was not you, reset your password at once from the sign-in page, and tell your \
                      administrator: someone has your password and a recovery code.",
        },
    )
}

/// A code that signs the person in (or confirms a sign-in as its second
/// step), typed in the browser that asked for it.
pub fn sign_in_code(settings: &MailSettings, to: &str, code: &str, valid_minutes: u32) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to,
        Letter {
            subject: format!("Your {product} sign-in code"),
            intro: format!("Enter this code on the {product} page that asked for it to sign in:"),
            code: Some(code),
            link: None,
            validity: Some(format!("The code works for {}.", minutes(valid_minutes))),
            not_you: "If you did not try to sign in, ignore this email and do not share the code: \
                      nobody can sign in with this code without your browser.",
        },
    )
}

/// Sent to the old address when an account moves to `new_address`.
pub fn address_changed(settings: &MailSettings, to_old: &str, new_address: &str) -> Mail {
    let product = &settings.product;
    write(
        settings,
        to_old,
        Letter {
            subject: format!("The email address of your {product} account was changed"),
            intro: format!(
                "The email address of your {product} account was changed to {new_address}. Mail for the \
                 account now goes there, not here."
            ),
            code: None,
            link: None,
            validity: None,
            not_you: "If you did not make this change, tell your administrator at once: someone else may \
                      have your password.",
        },
    )
}

fn write(settings: &MailSettings, to: &str, letter: Letter<'_>) -> Mail {
    Mail {
        to: to.to_owned(),
        text: text(settings, &letter),
        html: page(settings, &letter).into_string(),
        subject: letter.subject,
    }
}

fn text(settings: &MailSettings, l: &Letter<'_>) -> String {
    let mut out = format!("Hello,\n\n{}\n\n", l.intro);
    if let Some(code) = l.code {
        out += &format!("    {code}\n\n");
    }
    if let Some((_, url)) = l.link {
        out += if l.code.is_some() { "Or open this link:\n" } else { "" };
        out += &format!("{url}\n\n");
    }
    if let Some(v) = &l.validity {
        out += &format!("{v}\n\n");
    }
    out + &format!("{}\n\n— {}\n", l.not_you, settings.product)
}

fn page(settings: &MailSettings, l: &Letter<'_>) -> Markup {
    const TEXT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;\
                        font-size:16px;line-height:1.5;color:#1f2328";
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l.subject) }
            }
            body style="margin:0;padding:24px;background:#ffffff" {
                div style=(format!("max-width:560px;margin:0 auto;{TEXT}")) {
                    p { "Hello," }
                    p { (l.intro) }
                    @if let Some(code) = l.code {
                        p style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:28px;\
                                 letter-spacing:6px;font-weight:bold;margin:24px 0" { (code) }
                    }
                    @if let Some((label, url)) = l.link {
                        @if l.code.is_some() { p { "Or open this link:" } }
                        p {
                            a href=(url) style="display:inline-block;padding:10px 18px;background:#0b57d0;\
                                               color:#ffffff;text-decoration:none;border-radius:6px" { (label) }
                        }
                        p style="font-size:13px;color:#59636e;word-break:break-all" { (url) }
                    }
                    @if let Some(v) = &l.validity { p { (v) } }
                    p { (l.not_you) }
                    p style="color:#59636e" { "— " (settings.product) }
                }
            }
        }
    }
}

fn minutes(n: u32) -> String {
    plural(n, "minute")
}

fn plural(n: u32, unit: &str) -> String {
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> MailSettings {
        MailSettings { from: "Acme <no-reply@acme.example>".into(), product: "Acme <ID>".into() }
    }

    fn every_message() -> Vec<Mail> {
        let s = settings();
        let link = "https://id.acme.example/verify?t=abc&x=1";
        vec![
            verify_address(&s, "a@b.com", "123456", link, 60),
            reset_password(&s, "a@b.com", "654321", link, 30),
            confirm_new_address(&s, "a@b.com", "111222", link, 60),
            invitation(&s, "a@b.com", link, 7),
            account_exists(&s, "a@b.com", link),
            password_changed(&s, "a@b.com"),
            address_changed(&s, "a@b.com", "new@b.com"),
        ]
    }

    #[test]
    fn every_message_names_the_product_in_both_parts_and_escapes_it_in_html() {
        for m in every_message() {
            assert!(m.subject.contains("Acme <ID>"), "{}", m.subject);
            assert!(m.text.contains("— Acme <ID>"), "{}", m.subject);
            assert!(m.html.contains("Acme &lt;ID&gt;") && !m.html.contains("Acme <ID>"), "{}", m.subject);
            assert!(m.text.contains("If "), "{}: says what to do if not asked", m.subject);
        }
    }

    #[test]
    fn codes_and_links_are_in_the_body_never_the_subject() {
        for m in every_message() {
            for secret in ["123456", "654321", "111222", "https://", "t=abc"] {
                assert!(!m.subject.contains(secret), "{}", m.subject);
            }
        }
        let m = &every_message()[0];
        assert!(m.text.contains("    123456\n") && m.html.contains(">123456<"));
        assert!(m.text.contains("https://id.acme.example/verify?t=abc&x=1"));
        assert!(m.html.contains("href=\"https://id.acme.example/verify?t=abc&amp;x=1\""));
        assert!(m.text.contains("60 minutes"));
    }

    #[test]
    fn no_message_carries_images_or_remote_resources() {
        for m in every_message() {
            for tracker in ["<img", "src=", "url(", "<link", "<script", "background-image"] {
                assert!(!m.html.contains(tracker), "{}: {tracker}", m.subject);
            }
        }
    }

    #[test]
    fn a_single_unit_is_singular() {
        let m = invitation(&settings(), "a@b.com", "https://x.example/i", 1);
        assert!(m.text.contains("works for 1 day."), "{}", m.text);
    }
}
