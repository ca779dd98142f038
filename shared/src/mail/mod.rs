//! Mail: one small interface, [`Mailer`], and its transports.
//!
//! - Amazon SES v2 on AWS (`zeroauth_mail::ses`);
//! - SMTP for any other provider (`zeroauth_mail::smtp`);
//! - the terminal, the local outbox of `zeroauth serve` ([`terminal`]);
//! - [`Outbox`], which keeps mails in memory, for tests.
//!
//! [`compose`] writes every message ZeroAuth sends, each with a text and an
//! HTML part. Every transport checks a mail with [`check`] before it sends
//! anything, so a malformed address or a line break smuggled into a header
//! is refused with [`MailError::Invalid`] and nothing leaves.
//!
//! A mail's body carries codes and links that act for the person it is sent
//! to: nothing here logs a body, a code or a link; logs name the transport
//! and the recipient's domain only.

use std::sync::{Arc, Mutex, PoisonError};

use crate::config::ConfigError;

pub mod address;
pub mod compose;
pub mod terminal;

/// One message to one person.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line: never a code or a link.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

/// The body is a credential for its recipient: `Debug` shows only who and what.
impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &format_args!("[{} bytes]", self.text.len()))
            .field("html", &format_args!("[{} bytes]", self.html.len()))
            .finish()
    }
}

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail itself is unacceptable (its address, a header); nothing was
    /// sent, and sending it again will not help.
    #[error("{0}")]
    Invalid(String),
    /// No transport can take mail right now (off, unreachable, throttled);
    /// nothing was sent.
    #[error("mail is unavailable: {0}")]
    Unavailable(String),
    /// The transport refused the mail or failed while sending it.
    #[error("the mail was not sent: {0}")]
    Failed(String),
}

/// Sends mail.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// The transport's name (`ses`, `smtp`, `terminal`, `outbox`, `off`), for logs.
    fn transport(&self) -> &'static str;

    /// Sends `mail`, after [`check`]ing it.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// What every mail of a deployment says about its sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The `From` of every mail: `ZeroAuth <no-reply@example.com>` or a bare address.
    pub from: String,
    /// The product's name, in every subject and signature.
    pub product: String,
}

/// Which transport [`from_env`] builds (`ZEROAUTH_MAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Print mails to stdout (`zeroauth serve`).
    Terminal,
    /// An SMTP server (`ZEROAUTH_SMTP_URL`).
    Smtp,
    /// Amazon SES v2.
    Ses,
    /// No mail: every send fails with [`MailError::Unavailable`].
    Off,
}

/// The longest subject accepted: far beyond any ZeroAuth writes.
const MAX_SUBJECT_LEN: usize = 250;

/// The recipient of `mail`, parsed, if its headers are safe to send:
/// no line break or control character in the address or the subject, an
/// address [`address::parse`] accepts, a subject of sensible length.
pub fn check(mail: &Mail) -> Result<String, MailError> {
    if mail.to.contains(['\r', '\n']) {
        return Err(MailError::Invalid("the recipient's address contains a line break".into()));
    }
    let to = address::parse(&mail.to).map_err(|e| MailError::Invalid(e.to_string()))?;
    if mail.subject.chars().any(char::is_control) {
        return Err(MailError::Invalid("the subject contains a line break or a control character".into()));
    }
    if mail.subject.trim().is_empty() || mail.subject.len() > MAX_SUBJECT_LEN {
        return Err(MailError::Invalid(format!("the subject must be 1 to {MAX_SUBJECT_LEN} bytes")));
    }
    Ok(to)
}

/// The sender of [`MailSettings::from`]: an optional display name and an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The display name, without quotes.
    pub name: Option<String>,
    /// The address.
    pub address: String,
}

impl Sender {
    /// `Name <address>` or `address`; the name may be quoted. The address
    /// must be one [`address::parse`] accepts unless `local` (the terminal's
    /// `no-reply@localhost`).
    pub fn parse(from: &str, local: bool) -> Result<Self, String> {
        if from.chars().any(char::is_control) {
            return Err("ZEROAUTH_MAIL_FROM contains a line break or a control character".into());
        }
        let from = from.trim();
        let (name, address) = match from.strip_suffix('>').and_then(|f| f.rsplit_once('<')) {
            Some((name, address)) => {
                let name = name.trim();
                let name = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')).unwrap_or(name);
                ((!name.is_empty()).then(|| name.to_owned()), address.trim())
            }
            None => (None, from),
        };
        let valid = if local {
            matches!(address.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'))
                && !address.contains(char::is_whitespace)
        } else {
            address::parse(address).is_ok()
        };
        if !valid || name.as_deref().is_some_and(|n| n.contains(['"', '\\', '<', '>'])) {
            return Err(format!(
                "ZEROAUTH_MAIL_FROM must be an address or `Name <address>`, such as \
                 `Example <no-reply@example.com>`, got {from:?}"
            ));
        }
        Ok(Self { name, address: address.to_owned() })
    }
}

/// The mailer `ZEROAUTH_MAIL` asks for (`terminal`, `smtp`, `ses` or `off`;
/// `default` when unset) and the settings its mails are written with.
///
/// - `ZEROAUTH_MAIL_FROM`: the sender, required for `smtp` and `ses`
///   (`"<product> <no-reply@localhost>"` on the terminal);
/// - `ZEROAUTH_PRODUCT_NAME`: the product's name (default `ZeroAuth`);
/// - SMTP: `ZEROAUTH_SMTP_URL`, `ZEROAUTH_SMTP_USERNAME`,
///   `ZEROAUTH_SMTP_PASSWORD` or `ZEROAUTH_SMTP_PASSWORD_FILE` (`zeroauth_mail::smtp`);
/// - SES: `ZEROAUTH_SES_CONFIGURATION_SET`, `ZEROAUTH_SES_ENDPOINT` and the
///   usual AWS variables (`zeroauth_mail::ses`).
pub fn from_env(
    default: Transport,
    transports: Transports,
) -> Result<(Arc<dyn Mailer>, MailSettings), ConfigError> {
    from_vars(default, transports, &|name| std::env::var(name).ok())
}

/// [`from_env`] with the variables read through `var` (tests pass a map).
pub fn from_vars(
    default: Transport,
    transports: Transports,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(Arc<dyn Mailer>, MailSettings), ConfigError> {
    let set = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let transport = match set("ZEROAUTH_MAIL").as_deref() {
        None => default,
        Some("terminal") => Transport::Terminal,
        Some("smtp") => Transport::Smtp,
        Some("ses") => Transport::Ses,
        Some("off") => Transport::Off,
        Some(other) => {
            return Err(ConfigError(format!(
                "ZEROAUTH_MAIL must be terminal, smtp, ses or off, got {other:?}"
            )));
        }
    };
    let product = set("ZEROAUTH_PRODUCT_NAME").unwrap_or_else(|| "ZeroAuth".to_owned());
    if product.chars().any(char::is_control) || product.len() > 64 {
        return Err(ConfigError("ZEROAUTH_PRODUCT_NAME must be one line of at most 64 bytes".into()));
    }
    let from = match (set("ZEROAUTH_MAIL_FROM"), transport) {
        (Some(from), _) => from,
        (None, Transport::Terminal | Transport::Off) => format!("{product} <no-reply@localhost>"),
        (None, _) => {
            return Err(ConfigError(
                "ZEROAUTH_MAIL_FROM must name the sender, such as `Example <no-reply@example.com>`, \
                 when ZEROAUTH_MAIL is smtp or ses"
                    .into(),
            ));
        }
    };
    let local = matches!(transport, Transport::Terminal | Transport::Off);
    let sender = Sender::parse(&from, local).map_err(ConfigError)?;
    let settings = MailSettings { from, product };
    let mailer: Arc<dyn Mailer> = match transport {
        Transport::Terminal => Arc::new(terminal::Terminal),
        Transport::Off => Arc::new(Off),
        Transport::Smtp => transports.smtp.ok_or_else(|| missing("smtp"))?(&sender, var)?,
        Transport::Ses => transports.ses.ok_or_else(|| missing("ses"))?(&sender, var)?,
    };
    Ok((mailer, settings))
}

/// Makes a mailer for a remote transport from the sender and the
/// variables; the transports themselves live in the `zeroauth-mail` crate,
/// so that only the binaries that send mail link them.
pub type MakeMailer = fn(&Sender, &dyn Fn(&str) -> Option<String>) -> Result<Arc<dyn Mailer>, ConfigError>;

/// The remote transports a binary links.
#[derive(Clone, Copy, Default)]
pub struct Transports {
    /// `ZEROAUTH_MAIL=smtp`.
    pub smtp: Option<MakeMailer>,
    /// `ZEROAUTH_MAIL=ses`.
    pub ses: Option<MakeMailer>,
}

fn missing(name: &str) -> ConfigError {
    ConfigError(format!(
        "ZEROAUTH_MAIL={name}: this binary does not link the {name} transport (zeroauth-mail)"
    ))
}

/// `ZEROAUTH_MAIL=off`.
struct Off;

#[async_trait::async_trait]
impl Mailer for Off {
    fn transport(&self) -> &'static str {
        "off"
    }

    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        check(mail)?;
        Err(MailError::Unavailable("mail is off".into()))
    }
}

/// A mailer that keeps what it is given, for tests.
#[derive(Debug, Default)]
pub struct Outbox {
    mails: Mutex<Vec<Mail>>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mail sent so far, oldest first.
    pub fn sent(&self) -> Vec<Mail> {
        self.mails.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait::async_trait]
impl Mailer for Outbox {
    fn transport(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = check(mail)?;
        self.mails.lock().unwrap_or_else(PoisonError::into_inner).push(Mail { to, ..mail.clone() });
        Ok(())
    }
}

/// Logs a send's outcome: the transport and the recipient's domain, never more.
pub fn log_outcome(transport: &'static str, to: &str, outcome: &Result<(), MailError>) {
    let domain = address::domain(to);
    match outcome {
        Ok(()) => tracing::info!(transport, domain, "mail sent"),
        Err(e) => tracing::warn!(transport, domain, error = %e, "mail not sent"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn mail(to: &str, subject: &str) -> Mail {
        Mail { to: to.into(), subject: subject.into(), text: "t".into(), html: "<p>t</p>".into() }
    }

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn line_breaks_in_headers_are_refused_before_anything_is_sent() {
        for (to, subject) in [
            ("a@b.com\r\nBcc: x@y.com", "Hello"),
            ("a@b.com\n", "Hello"),
            ("a@b.com", "Hello\nBcc: x@y.com"),
            ("a@b.com", "Hello\r"),
        ] {
            assert!(matches!(check(&mail(to, subject)), Err(MailError::Invalid(_))), "{to:?} {subject:?}");
        }
        assert_eq!(check(&mail(" a@b.com ", "Hello")).ok().as_deref(), Some("a@b.com"));
    }

    #[tokio::test]
    async fn the_outbox_keeps_checked_mail_and_off_sends_none() {
        let outbox = Outbox::new();
        outbox.send(&mail("a@b.com", "Hi")).await.unwrap();
        assert!(outbox.send(&mail("nope", "Hi")).await.is_err());
        assert_eq!(outbox.sent().len(), 1);
        let err = Off.send(&mail("a@b.com", "Hi")).await.unwrap_err();
        assert!(matches!(err, MailError::Unavailable(ref m) if m == "mail is off"), "{err:?}");
    }

    #[test]
    fn the_transport_comes_from_zeroauth_mail_or_the_default() {
        let (m, s) = from_vars(Transport::Terminal, Transports::default(), &vars(&[])).unwrap();
        assert_eq!(
            (m.transport(), s.from.as_str(), s.product.as_str()),
            ("terminal", "ZeroAuth <no-reply@localhost>", "ZeroAuth")
        );
        let (m, s) = from_vars(
            Transport::Terminal,
            Transports::default(),
            &vars(&[("ZEROAUTH_MAIL", "off"), ("ZEROAUTH_PRODUCT_NAME", "Acme")]),
        )
        .unwrap();
        assert_eq!((m.transport(), s.from.as_str()), ("off", "Acme <no-reply@localhost>"));
        let bad =
            from_vars(Transport::Off, Transports::default(), &vars(&[("ZEROAUTH_MAIL", "carrier-pigeon")]));
        assert!(bad.err().unwrap().0.contains("terminal, smtp, ses or off"));
    }

    #[test]
    fn a_real_transport_needs_a_real_sender() {
        for transport in ["smtp", "ses"] {
            let err =
                from_vars(Transport::Off, Transports::default(), &vars(&[("ZEROAUTH_MAIL", transport)]))
                    .err()
                    .unwrap();
            assert!(err.0.contains("ZEROAUTH_MAIL_FROM"), "{err}");
            let local =
                vars(&[("ZEROAUTH_MAIL", transport), ("ZEROAUTH_MAIL_FROM", "x <no-reply@localhost>")]);
            assert!(from_vars(Transport::Off, Transports::default(), &local).is_err());
        }
        // A binary without the transports says so.
        let sender = vars(&[("ZEROAUTH_MAIL", "ses"), ("ZEROAUTH_MAIL_FROM", "x <no-reply@example.com>")]);
        let err = from_vars(Transport::Off, Transports::default(), &sender).err().unwrap();
        assert!(err.0.contains("does not link the ses transport"), "{err}");
        let injected = vars(&[("ZEROAUTH_MAIL_FROM", "Evil\r\nBcc: x@y.com <a@b.com>")]);
        assert!(from_vars(Transport::Terminal, Transports::default(), &injected).is_err());
    }

    #[test]
    fn senders_are_parsed_with_or_without_a_name() {
        let s = Sender::parse("Example Corp <no-reply@example.com>", false).unwrap();
        assert_eq!((s.name.as_deref(), s.address.as_str()), (Some("Example Corp"), "no-reply@example.com"));
        let s = Sender::parse("\"Example, Inc.\" <no-reply@example.com>", false).unwrap();
        assert_eq!(s.name.as_deref(), Some("Example, Inc."));
        let s = Sender::parse("no-reply@example.com", false).unwrap();
        assert_eq!((s.name, s.address.as_str()), (None, "no-reply@example.com"));
        assert!(Sender::parse("Example <no-reply@example.com", false).is_err());
        assert!(Sender::parse("Ex\"ample <no-reply@example.com>", false).is_err());
    }

    #[test]
    fn a_mail_s_debug_hides_its_body() {
        let m = Mail { text: "code 123456".into(), ..mail("a@b.com", "Hi") };
        assert!(!format!("{m:?}").contains("123456"));
    }
}
