//! Mail over SMTP (lettre, rustls on aws-lc-rs), for any provider.
//!
//! `ZEROAUTH_SMTP_URL` says where and how:
//!
//! - `smtp://host[:port]`: STARTTLS, required (port 587 by default); a server
//!   that does not offer it gets neither the credentials nor the mail;
//! - `smtps://host[:port]`: TLS from the first byte (port 465 by default);
//! - `smtp://host:port?tls=none`: plain text, only to a server on this
//!   machine (a test server such as `scripts/smtp-sink`).
//!
//! `ZEROAUTH_SMTP_USERNAME` and `ZEROAUTH_SMTP_PASSWORD` (or
//! `ZEROAUTH_SMTP_PASSWORD_FILE`) log in when the server asks for it.

use std::net::IpAddr;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use zeroauth_shared::config::ConfigError;
use zeroauth_shared::mail::{Mail, MailError, Mailer, Sender, check, log_outcome};

/// How long one SMTP command may take: a Lambda function has 10 s in all.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// STARTTLS, required.
    StartTls,
    /// Implicit TLS (SMTPS).
    Tls,
    /// None: loopback servers only.
    Plain,
}

/// Where `ZEROAUTH_SMTP_URL` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The host name or IP address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
}

impl Endpoint {
    /// Parses `smtp://host[:port][?tls=none]` or `smtps://host[:port]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            format!(
                "ZEROAUTH_SMTP_URL {why}: use smtp://host:587 (STARTTLS), smtps://host:465 (TLS), or \
                 smtp://127.0.0.1:PORT?tls=none for a test server on this machine; got {url:?}"
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("has no scheme"))?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains(['@', '/']) {
            return Err(bad(
                "must be only a host and a port (credentials go in ZEROAUTH_SMTP_USERNAME/PASSWORD)",
            ));
        }
        let security = match (scheme, query) {
            ("smtp", "") => Security::StartTls,
            ("smtps", "") => Security::Tls,
            ("smtp", "tls=none") => Security::Plain,
            ("smtp" | "smtps", _) => return Err(bad("has an unknown query; the only one is ?tls=none")),
            _ => return Err(bad("must start with smtp:// or smtps://")),
        };
        let (host, port) = split_host_port(authority).ok_or_else(|| bad("has no valid host and port"))?;
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| bad("has a bad port"))?,
            None if security == Security::Tls => 465,
            None => 587,
        };
        if security == Security::Plain && !is_loopback(host) {
            return Err(bad(
                "may use tls=none only for a server on this machine (127.0.0.1, ::1, localhost)",
            ));
        }
        Ok(Self { host: host.to_owned(), port, security })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_alphanumeric() || ".-:".contains(c));
    host_ok.then_some((host, port))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Sends mail through one SMTP server.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    endpoint: Endpoint,
    username: Option<String>,
}

/// Names the server and the user, never the password.
impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("endpoint", &self.endpoint)
            .field("from", &self.from.to_string())
            .field("username", &self.username)
            .field("password", &self.username.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Smtp {
    /// The mailer the `ZEROAUTH_SMTP_*` variables describe, sending as `sender`.
    pub fn from_vars(sender: &Sender, var: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let url = set("ZEROAUTH_SMTP_URL").ok_or_else(|| {
            ConfigError(
                "ZEROAUTH_MAIL=smtp needs ZEROAUTH_SMTP_URL, such as smtp://mail.example.com:587".into(),
            )
        })?;
        let endpoint = Endpoint::parse(url.trim()).map_err(ConfigError)?;
        let password = match (set("ZEROAUTH_SMTP_PASSWORD"), set("ZEROAUTH_SMTP_PASSWORD_FILE")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(
                    "set ZEROAUTH_SMTP_PASSWORD or ZEROAUTH_SMTP_PASSWORD_FILE, not both".into(),
                ));
            }
            (Some(p), None) => Some(p),
            (None, Some(path)) => Some(read_password(path.trim())?),
            (None, None) => None,
        };
        let username = set("ZEROAUTH_SMTP_USERNAME").map(|u| u.trim().to_owned());
        let credentials = match (username.clone(), password) {
            (Some(user), Some(password)) => Some(Credentials::new(user, password)),
            (None, None) => None,
            _ => {
                return Err(ConfigError(
                    "ZEROAUTH_SMTP_USERNAME and a password (ZEROAUTH_SMTP_PASSWORD or _FILE) go together"
                        .into(),
                ));
            }
        };
        let from = mailbox(sender).map_err(ConfigError)?;
        Self::new(endpoint, credentials, from, username)
    }

    fn new(
        endpoint: Endpoint,
        credentials: Option<Credentials>,
        from: Mailbox,
        username: Option<String>,
    ) -> Result<Self, ConfigError> {
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| ConfigError(format!("cannot set up TLS for the SMTP server {host}: {e}")))
        };
        let security = match endpoint.security {
            Security::StartTls => Tls::Required(tls(&endpoint.host)?),
            Security::Tls => Tls::Wrapper(tls(&endpoint.host)?),
            Security::Plain => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(endpoint.host.as_str())
            .port(endpoint.port)
            .tls(security)
            .timeout(Some(COMMAND_TIMEOUT));
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        Ok(Self { transport: builder.build(), from, endpoint, username })
    }

    /// The message as it goes on the wire: multipart/alternative, text then HTML.
    pub fn message(&self, to: &str, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox =
            to.parse().map_err(|_| MailError::Invalid("That email address is not valid.".into()))?;
        let id = zeroauth_shared::crypto::random_string(18).map_err(|e| MailError::Failed(e.to_string()))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.as_str())
            .message_id(Some(format!("<{id}@{}>", self.from.email.domain())))
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Invalid(format!("the mail cannot be written: {e}")))
    }
}

fn read_password(path: &str) -> Result<String, ConfigError> {
    let raw = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read ZEROAUTH_SMTP_PASSWORD_FILE {path:?}: {e}")))?;
    Ok(raw.trim_end_matches(['\r', '\n']).to_owned())
}

fn mailbox(sender: &Sender) -> Result<Mailbox, String> {
    let address = sender.address.parse().map_err(|e| format!("ZEROAUTH_MAIL_FROM's address: {e}"))?;
    Ok(Mailbox::new(sender.name.clone(), address))
}

/// What the caller may know of an SMTP failure: its kind and reply code,
/// never the server's text (which may quote the recipient).
fn failure(e: &lettre::transport::smtp::Error) -> MailError {
    let code = e.status().map(|c| c.to_string()).unwrap_or_default();
    if e.is_permanent() {
        MailError::Failed(format!("the SMTP server refused the mail ({code})"))
    } else if e.is_transient() {
        MailError::Unavailable(format!("the SMTP server deferred the mail ({code}); try again later"))
    } else if e.is_timeout() {
        MailError::Unavailable("the SMTP server did not answer in time".into())
    } else if e.is_tls() {
        MailError::Unavailable("the TLS connection to the SMTP server failed".into())
    } else {
        MailError::Unavailable(format!("cannot talk to the SMTP server: {e}"))
    }
}

#[async_trait::async_trait]
impl Mailer for Smtp {
    fn transport(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = check(mail)?;
        let message = self.message(&to, mail)?;
        let outcome = self.transport.send(message).await.map(drop).map_err(|e| failure(&e));
        log_outcome(self.transport(), &to, &outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_say_how_the_connection_is_protected() {
        let ok = |url: &str| Endpoint::parse(url).unwrap_or_else(|e| panic!("{e}"));
        let e = ok("smtp://mail.example.com");
        assert_eq!((e.host.as_str(), e.port, e.security), ("mail.example.com", 587, Security::StartTls));
        assert_eq!(ok("smtps://mail.example.com").port, 465);
        assert_eq!(ok("smtps://mail.example.com:2465/").security, Security::Tls);
        let e = ok("smtp://127.0.0.1:2525?tls=none");
        assert_eq!((e.host.as_str(), e.port, e.security), ("127.0.0.1", 2525, Security::Plain));
        assert_eq!(ok("smtp://[::1]:25?tls=none").host, "::1");
    }

    #[test]
    fn unsafe_or_malformed_urls_are_refused() {
        for url in [
            "mail.example.com:587",
            "http://mail.example.com",
            "smtp://mail.example.com:587?tls=none",
            "smtps://127.0.0.1:465?tls=none",
            "smtp://user:secret@mail.example.com",
            "smtp://mail.example.com:0",
            "smtp://mail.example.com:99999",
            "smtp://:587",
            "smtp://mail.example.com?tls=opportunistic",
        ] {
            assert!(Endpoint::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn the_password_never_shows_in_debug() {
        let vars = |name: &str| match name {
            "ZEROAUTH_SMTP_URL" => Some("smtp://127.0.0.1:2525?tls=none".to_owned()),
            "ZEROAUTH_SMTP_USERNAME" => Some("mailer".to_owned()),
            "ZEROAUTH_SMTP_PASSWORD" => Some("hunter2-very-secret".to_owned()),
            _ => None,
        };
        let sender = Sender::parse("Acme <no-reply@acme.example>", false).unwrap();
        let smtp = Smtp::from_vars(&sender, &vars).unwrap();
        let debug = format!("{smtp:?}");
        assert!(debug.contains("mailer") && debug.contains("[redacted]"), "{debug}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn a_username_without_a_password_is_refused() {
        let vars = |name: &str| match name {
            "ZEROAUTH_SMTP_URL" => Some("smtp://127.0.0.1:2525?tls=none".to_owned()),
            "ZEROAUTH_SMTP_USERNAME" => Some("mailer".to_owned()),
            _ => None,
        };
        let sender = Sender::parse("no-reply@acme.example", false).unwrap();
        assert!(Smtp::from_vars(&sender, &vars).is_err());
    }
}
