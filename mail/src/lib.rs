//! ZeroAuth's remote mail transports: SMTP ([`smtp`], the `lettre` crate)
//! and Amazon SES v2 ([`ses`]). The interface, the composed messages, the
//! terminal outbox and the settings are in `zeroauth_shared::mail`; these
//! transports are a crate of their own so that only the binaries that send
//! mail (the `callback` function, `zeroauth`) link them, however the
//! workspace is built.

use std::sync::Arc;

use zeroauth_shared::config::ConfigError;
use zeroauth_shared::mail::{MailSettings, Mailer, Transport, Transports};

pub mod ses;
pub mod smtp;

/// Both transports.
pub const TRANSPORTS: Transports = Transports {
    smtp: Some(|sender, var| Ok(Arc::new(smtp::Smtp::from_vars(sender, var)?))),
    ses: Some(|sender, var| Ok(Arc::new(ses::Ses::from_vars(sender, var)?))),
};

/// The mailer `ZEROAUTH_MAIL` asks for, any transport
/// (`zeroauth_shared::mail::from_env` with [`TRANSPORTS`]).
pub fn from_env(default: Transport) -> Result<(Arc<dyn Mailer>, MailSettings), ConfigError> {
    zeroauth_shared::mail::from_env(default, TRANSPORTS)
}

/// [`from_env`] with the variables read through `var` (tests pass a map).
pub fn from_vars(
    default: Transport,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<(Arc<dyn Mailer>, MailSettings), ConfigError> {
    zeroauth_shared::mail::from_vars(default, TRANSPORTS, var)
}
