//! Authenticator apps (RFC 6238), with the `totp-rs` crate: SHA-1, 6
//! digits, 30-second steps and one step of skew each way. The 160-bit
//! secret is stored encrypted under a key derived from the signing key
//! (which the functions read from SSM), so a copy of the table does not
//! hold it; a code is accepted only for a step later than the last one
//! accepted, and the caller records that step with a compare-and-swap.

use totp_rs::{Algorithm, Builder, Secret};

use crate::app::App;
use crate::crypto::{self, RandomError};
use crate::domain::{Credential, CredentialData, TotpData};

/// Seconds a code lasts.
pub const STEP: i64 = 30;
/// The id of a person's one TOTP credential.
pub const CREDENTIAL_ID: &str = "totp";

/// A TOTP secret: 20 random bytes. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    /// The secret of these bytes (for tests and known vectors).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

/// A new secret of 160 random bits.
pub fn new_secret() -> Result<TotpSecret, RandomError> {
    crypto::random_bytes(20).map(TotpSecret)
}

fn sealing_key(app: &App) -> String {
    crypto::sign(&app.config.signing_key, b"zeroauth totp secrets")
}

/// The secret encrypted (AES-256-GCM) for the table.
pub fn seal(app: &App, secret: &TotpSecret) -> Result<String, RandomError> {
    crypto::seal_for(&sealing_key(app), &secret.0)
}

/// The secret [`seal`] encrypted, if it opens under this deployment's key.
pub fn open(app: &App, sealed: &str) -> Option<TotpSecret> {
    crypto::open_for(&sealing_key(app), sealed).map(TotpSecret)
}

/// The secret in base32 (RFC 4648, no padding), in groups of four, for
/// typing into an app.
pub fn base32(secret: &TotpSecret) -> String {
    let plain = Secret::from(secret.0.clone()).to_base32();
    let chars: Vec<char> = plain.trim_end_matches('=').chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// The `otpauth://` URI an app scans (Key Uri Format).
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    let key = base32(secret).replace(' ', "");
    format!(
        "otpauth://totp/{}:{}?secret={key}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

/// The URI as an SVG QR code, rendered here: no script, no external
/// reference.
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build()
            // The XML declaration has no place inside a page.
            .split_once("?>")
            .map_or_else(String::new, |(_, svg)| svg.trim_start().to_owned()),
        // Only a URI longer than a QR code holds fails: the key is shown too.
        Err(_) => String::new(),
    }
}

/// The 6-digit code of `secret` for time step `step`.
fn code_of(secret: &TotpSecret, step: i64) -> Option<String> {
    let at = u64::try_from(step.checked_mul(STEP)?).ok()?;
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret.0.clone())
        .build_noncompliant();
    Some(totp.generate(at).to_string())
}

/// The time step a typed `code` is right for at `now`, if it is one of the
/// current step and one each side, and later than `last_step` (a code is
/// good once: the same one, or an older one, is refused). Spaces and dashes
/// are ignored; anything but 6 digits is refused.
pub fn check(secret: &TotpSecret, code: &str, now: i64, last_step: i64) -> Option<i64> {
    let typed: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if typed.len() != 6 || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let origin = now.div_euclid(STEP);
    // The current step first, then one late, then one early.
    [origin, origin - 1, origin + 1]
        .into_iter()
        .filter(|step| *step > last_step)
        .find(|step| code_of(secret, *step).is_some_and(|c| crypto::ct_eq(&c, &typed)))
}

/// The TOTP credential of `sub` with the sealed secret, its first code
/// accepted at `step`.
pub fn credential(sub: &str, sealed_secret: &str, step: i64, now: i64) -> Credential {
    Credential {
        sub: sub.to_owned(),
        id: CREDENTIAL_ID.to_owned(),
        data: CredentialData::Totp(TotpData { sealed_secret: sealed_secret.to_owned(), last_step: step }),
        created_at: now,
    }
}

/// `before` with `step` recorded as the last accepted: what the
/// compare-and-swap writes.
pub fn accepted(before: &Credential, step: i64) -> Credential {
    let mut after = before.clone();
    if let CredentialData::Totp(t) = &mut after.data {
        t.last_step = step;
    }
    after
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Config;
    use crate::secret::SigningKey;
    use crate::store::memory::MemoryStore;

    fn rfc() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    fn app(key: u8) -> App {
        App::new(
            Arc::new(MemoryStore::new()),
            Config::new("https://id.example", SigningKey::new(vec![key; 32])),
        )
    }

    #[test]
    fn codes_match_rfc_6238_appendix_b() {
        // The 8-digit SHA-1 codes of Appendix B, last 6 digits.
        for (t, want) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_of(&rfc(), t / STEP).as_deref(), Some(want), "at {t}");
            assert_eq!(check(&rfc(), want, t, 0), Some(t / STEP), "at {t}");
        }
    }

    #[test]
    fn one_step_of_skew_each_way_and_each_step_once() {
        let now = 1_111_111_111;
        let step = now / STEP;
        let code = |s| code_of(&rfc(), s).unwrap_or_default();
        assert_eq!(check(&rfc(), &code(step - 1), now, 0), Some(step - 1));
        assert_eq!(check(&rfc(), &code(step + 1), now, 0), Some(step + 1));
        assert_eq!(check(&rfc(), &code(step - 2), now, 0), None, "two steps late");
        assert_eq!(check(&rfc(), &code(step + 2), now, 0), None, "two steps early");
        assert_eq!(check(&rfc(), &code(step), now, step), None, "the same step again");
        assert_eq!(check(&rfc(), &code(step - 1), now, step), None, "an older step after a newer one");
        let spaced = format!("{} {}", &code(step)[..3], &code(step)[3..]);
        assert_eq!(check(&rfc(), &spaced, now, 0), Some(step));
        for bad in ["", "12345", "1234567", "12a456", "١٢٣٤٥٦"] {
            assert_eq!(check(&rfc(), bad, now, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn the_secret_opens_only_under_its_deployments_key_and_never_prints() {
        let secret = new_secret().unwrap_or_else(|_| rfc());
        let sealed = seal(&app(1), &secret).unwrap_or_default();
        assert_eq!(open(&app(1), &sealed), Some(secret.clone()));
        assert_eq!(open(&app(2), &sealed), None);
        assert!(!format!("{secret:?}").contains(&base32(&secret)));
        assert_eq!(base32(&rfc()), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        let uri = otpauth_uri(&rfc(), "Acme ID", "alice@example.com");
        assert!(uri.starts_with("otpauth://totp/Acme%20ID:alice%40example.com?secret=GEZDGNBV"), "{uri}");
        let svg = qr_svg(&uri);
        assert!(svg.starts_with("<svg") && !svg.contains("script") && !svg.contains("href"), "{svg}");
        let c = credential("s", &sealed, 7, 0);
        assert_eq!(c.key(), "totp:totp");
        assert!(matches!(accepted(&c, 9).data, CredentialData::Totp(TotpData { last_step: 9, .. })));
    }
}
