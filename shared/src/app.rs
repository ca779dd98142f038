//! What every handler is given: the store, the configuration and the clock.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::mail::{Mail, MailError, MailSettings, Mailer};
use crate::secret::providers::{NoSecrets, Secrets};
use crate::store::Store;

/// The application state shared by all handlers.
#[derive(Clone)]
pub struct App {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// Issuer, key and lifetimes.
    pub config: Arc<Config>,
    /// The current time.
    pub clock: Arc<dyn Clock>,
    /// Where the self-service mails go (none until set: [`App::with_mailer`]).
    pub mailer: Arc<dyn Mailer>,
    /// The sender and product name of those mails.
    pub mail: Arc<MailSettings>,
    /// The upstream providers' client secrets (none until set:
    /// [`App::with_secrets`]).
    pub secrets: Arc<dyn Secrets>,
}

/// The mailer of an app given none: every send fails, and the pages that
/// would mail are not offered.
struct NoMail;

#[async_trait::async_trait]
impl Mailer for NoMail {
    fn transport(&self) -> &'static str {
        "off"
    }
    async fn send(&self, _mail: &Mail) -> Result<(), MailError> {
        Err(MailError::Unavailable("mail is off".into()))
    }
}

impl App {
    /// An app on the system clock.
    pub fn new(store: Arc<dyn Store>, config: Config) -> Self {
        let mail = MailSettings { from: "ZeroAuth <no-reply@localhost>".into(), product: "ZeroAuth".into() };
        Self {
            store,
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            mailer: Arc::new(NoMail),
            mail: Arc::new(mail),
            secrets: Arc::new(NoSecrets),
        }
    }

    /// The same app reading the providers' client secrets from `secrets`.
    pub fn with_secrets(mut self, secrets: Arc<dyn Secrets>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The same app sending its mails through `mailer`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>, settings: MailSettings) -> Self {
        self.mailer = mailer;
        self.mail = Arc::new(settings);
        self
    }

    /// Whether mail can be sent: the flows that need it are offered only then.
    pub fn mail_enabled(&self) -> bool {
        self.mailer.transport() != "off"
    }

    /// The same app on another clock (tests move time this way).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Epoch seconds now.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The absolute URL of an endpoint path such as `/token`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.issuer)
    }
}
