//! Mail through Amazon SES v2 (`SendEmail` with simple content: SES writes
//! the MIME message from a subject, a text and an HTML part).
//!
//! The client is built at the first send from the usual AWS configuration
//! (region, credentials), with `ZEROAUTH_SES_ENDPOINT` overriding the
//! endpoint (tests) and `ZEROAUTH_SES_CONFIGURATION_SET` naming a
//! configuration set (event publishing, a dedicated IP pool). IAM must allow
//! `ses:SendEmail` on the sender's verified identity, and on the
//! configuration set when one is named (`infra/template.yaml` grants both to
//! the callback function only).
//!
//! SES takes 7-bit addresses only: a domain in Unicode is sent as its
//! punycode, and an address with Unicode before the `@` is refused.

use std::time::Duration;

use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use base64::Engine;
use tokio::sync::OnceCell;

use zeroauth_shared::config::ConfigError;
use zeroauth_shared::mail::{Mail, MailError, Mailer, Sender, check, log_outcome};

/// Sends mail through SES v2.
#[derive(Debug)]
pub struct Ses {
    client: OnceCell<aws_sdk_sesv2::Client>,
    /// `FromEmailAddress`: the sender as a header, its name encoded.
    from: String,
    configuration_set: Option<String>,
    endpoint: Option<String>,
}

impl Ses {
    /// The mailer the `ZEROAUTH_SES_*` variables describe, sending as
    /// `sender`; its client is made at the first send (see [`Ses::with_sdk_config`]).
    pub fn from_vars(sender: &Sender, var: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let configuration_set = set("ZEROAUTH_SES_CONFIGURATION_SET");
        if let Some(name) = &configuration_set
            && !(name.len() <= 64 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            return Err(ConfigError(format!(
                "ZEROAUTH_SES_CONFIGURATION_SET must be a configuration set's name (letters, digits, - and _), got {name:?}"
            )));
        }
        let endpoint = set("ZEROAUTH_SES_ENDPOINT");
        if let Some(url) = &endpoint
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError(format!("ZEROAUTH_SES_ENDPOINT must be an http(s) URL, got {url:?}")));
        }
        let from = from_header(sender).map_err(ConfigError)?;
        Ok(Self { client: OnceCell::new(), from, configuration_set, endpoint })
    }

    /// Builds the client now from `sdk`, instead of from the environment at
    /// the first send (tests, and callers that already loaded the AWS configuration).
    pub fn with_sdk_config(self, sdk: &aws_config::SdkConfig) -> Self {
        let client = client(sdk, self.endpoint.as_deref());
        Self { client: OnceCell::new_with(Some(client)), ..self }
    }

    async fn client(&self) -> &aws_sdk_sesv2::Client {
        self.client
            .get_or_init(|| async {
                let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .timeout_config(timeouts())
                    .load()
                    .await;
                client(&sdk, self.endpoint.as_deref())
            })
            .await
    }
}

/// Bounded: a Lambda function has 10 s in all.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(6))
        .build()
}

/// An SES client on `sdk`, carrying the recorder of [`zeroauth_shared::aws_calls`]
/// when a test asks for one.
fn client(sdk: &aws_config::SdkConfig, endpoint: Option<&str>) -> aws_sdk_sesv2::Client {
    let mut builder = aws_sdk_sesv2::config::Builder::from(sdk);
    if sdk.timeout_config().is_none() {
        builder = builder.timeout_config(timeouts());
    }
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    #[cfg(feature = "aws-recording")]
    if let Some(recorder) = zeroauth_shared::aws_calls::Recorder::from_env(recording::checks) {
        builder = builder.interceptor(recorder);
    }
    aws_sdk_sesv2::Client::from_conf(builder.build())
}

/// `Name <address>` as SES wants it: a name outside printable ASCII as a
/// MIME encoded word (RFC 2047), one with specials quoted.
fn from_header(sender: &Sender) -> Result<String, String> {
    let address = ascii_address(&sender.address).map_err(|e| format!("ZEROAUTH_MAIL_FROM: {e}"))?;
    Ok(match &sender.name {
        None => address,
        Some(name) if !name.chars().all(|c| c.is_ascii_graphic() || c == ' ') => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(name);
            format!("=?UTF-8?B?{encoded}?= <{address}>")
        }
        Some(name) if name.contains(|c: char| "()<>[]:;@\\,.\"".contains(c)) => {
            format!("\"{name}\" <{address}>")
        }
        Some(name) => format!("{name} <{address}>"),
    })
}

/// The address with its domain in punycode; refused when the local part is
/// not ASCII (SES has no SMTPUTF8).
fn ascii_address(address: &str) -> Result<String, String> {
    let (local, domain) = address.rsplit_once('@').ok_or("not an address")?;
    if !local.is_ascii() {
        return Err("Amazon SES cannot send to or from an address with non-ASCII letters before the @".into());
    }
    let domain =
        idna::domain_to_ascii(domain).map_err(|_| "the domain is not a valid domain name".to_owned())?;
    Ok(format!("{local}@{domain}"))
}

fn content(data: &str) -> Result<Content, MailError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Invalid(e.to_string()))
}

/// What the caller may know of a refusal: SES's error code, never its
/// message (which names recipients).
fn failure(e: aws_sdk_sesv2::error::SdkError<SendEmailError>) -> MailError {
    use aws_sdk_sesv2::error::SdkError;
    let code = e.code().unwrap_or("unknown").to_owned();
    match e {
        SdkError::ServiceError(s) => match s.err() {
            SendEmailError::MessageRejected(_) => MailError::Failed(
                "SES rejected the mail (MessageRejected; in the SES sandbox only verified recipients get mail)".into(),
            ),
            SendEmailError::TooManyRequestsException(_) | SendEmailError::LimitExceededException(_) => {
                MailError::Unavailable(format!("SES is throttling this account ({code}); try again later"))
            }
            SendEmailError::SendingPausedException(_) | SendEmailError::AccountSuspendedException(_) => {
                MailError::Unavailable(format!("sending is paused for this SES account ({code})"))
            }
            _ => MailError::Failed(format!("SES refused the mail ({code})")),
        },
        SdkError::TimeoutError(_) => MailError::Unavailable("SES did not answer in time".into()),
        SdkError::DispatchFailure(_) => MailError::Unavailable("cannot reach SES".into()),
        other => MailError::Failed(format!("SES call failed: {}", aws_sdk_sesv2::error::DisplayErrorContext(other))),
    }
}

#[async_trait::async_trait]
impl Mailer for Ses {
    fn transport(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = check(mail)?;
        let destination = ascii_address(&to).map_err(MailError::Invalid)?;
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let outcome = self
            .client()
            .await
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(destination).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map(drop)
            .map_err(failure);
        log_outcome(self.transport(), &to, &outcome);
        outcome
    }
}

/// What IAM checks for an SES call, for the recorder of [`zeroauth_shared::aws_calls`].
#[cfg(feature = "aws-recording")]
mod recording {
    use aws_sdk_sesv2::operation::send_email::SendEmailInput;
    use aws_smithy_runtime_api::client::interceptors::context::Input;
    use aws_smithy_runtime_api::client::orchestrator::Metadata;

    use zeroauth_shared::aws_calls::Check;

    /// `SendEmail` is checked on the sending identity and on the
    /// configuration set it names. The identity is recorded as the
    /// sender's domain (`identity/example.com`), the identity a deployment
    /// verifies (a deployment that verified only the address would grant
    /// `identity/no-reply@example.com`, which the recording does not tell apart).
    pub(super) fn checks(meta: &Metadata, input: &Input) -> Vec<Check> {
        let Some(i) = input.downcast_ref::<SendEmailInput>() else {
            return vec![Check::new("ses", meta.name(), "*")];
        };
        let from = i.from_email_address().unwrap_or_default();
        let address = from.rsplit_once('<').map_or(from, |(_, a)| a.trim_end_matches('>'));
        let domain = address.rsplit_once('@').map_or("*", |(_, d)| d);
        let mut checks = vec![Check::new("ses", meta.name(), format!("identity/{domain}"))];
        if let Some(set) = i.configuration_set_name() {
            checks.push(Check::new("ses", meta.name(), format!("configuration-set/{set}")));
        }
        checks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(from: &str) -> String {
        from_header(&Sender::parse(from, false).unwrap()).unwrap()
    }

    #[test]
    fn the_sender_is_written_as_ses_takes_it() {
        assert_eq!(header("Acme <no-reply@acme.example>"), "Acme <no-reply@acme.example>");
        assert_eq!(
            header("\"Acme, Inc.\" <no-reply@acme.example>"),
            "\"Acme, Inc.\" <no-reply@acme.example>"
        );
        assert_eq!(header("Jörg <no-reply@bücher.de>"), "=?UTF-8?B?SsO2cmc=?= <no-reply@xn--bcher-kva.de>");
        assert_eq!(header("no-reply@acme.example"), "no-reply@acme.example");
        // A Unicode local part is refused before it gets here.
        assert!(Sender::parse("jörg@acme.example", false).is_err());
    }
}
