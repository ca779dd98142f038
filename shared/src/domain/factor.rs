//! Second factors and how strong a sign-in was (SPEC.md section 11): what a
//! passkey and a TOTP credential hold, the ceremonies in progress, the
//! `acr` values ZeroAuth speaks, and the per-deployment and per-client
//! second-factor policy.

use serde::{Deserialize, Serialize};

use super::person::Amr;

/// What a passkey credential holds.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyData {
    /// The `webauthn-rs` passkey (public key, credential id, counter and
    /// backup flags), as its JSON.
    pub passkey: String,
    /// The name the person gave it.
    pub label: String,
    /// Whether the authenticator may sync it (WebAuthn BE): a synced
    /// passkey is a software key (`swk`), a device-bound one hardware (`hwk`).
    #[serde(default)]
    pub backup_eligible: bool,
    /// Epoch seconds of its last sign-in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for PasskeyData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyData")
            .field("label", &self.label)
            .field("backup_eligible", &self.backup_eligible)
            .field("last_used_at", &self.last_used_at)
            .finish_non_exhaustive()
    }
}

/// What a TOTP credential holds.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpData {
    /// The 160-bit secret, sealed under a key derived from the signing key.
    pub sealed_secret: String,
    /// The last time step a code was accepted for: a code of this step or
    /// an earlier one is refused.
    pub last_step: i64,
}

impl std::fmt::Debug for TotpData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpData").field("last_step", &self.last_step).finish_non_exhaustive()
    }
}

/// What a ceremony in progress is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CeremonyKind {
    /// Adding a passkey.
    PasskeyRegistration,
    /// Signing in with a passkey (first or second factor).
    PasskeyAuthentication,
    /// Setting up a TOTP app: active after the first correct code.
    TotpEnrollment,
}

impl CeremonyKind {
    /// The kind's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeyAuthentication => "passkey_authentication",
            Self::TotpEnrollment => "totp_enrollment",
        }
    }
}

/// A ceremony in progress: a table item under a digest of the random handle
/// the browser holds, consumed once ([`crate::store::FactorStore::take_ceremony`]).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceremony {
    /// Digest of the browser's handle: the item's key.
    pub handle: String,
    /// What it is for.
    pub kind: CeremonyKind,
    /// The person, when it is theirs (an enrolment, a second factor).
    pub sub: Option<String>,
    /// The ceremony's state (opaque here: `webauthn-rs` state as JSON, a
    /// sealed TOTP secret).
    pub data: String,
    /// Epoch seconds: gone after this (at most 5 minutes for WebAuthn).
    pub expires_at: i64,
}

impl std::fmt::Debug for Ceremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceremony")
            .field("kind", &self.kind)
            .field("sub", &self.sub)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// How strong a sign-in was: the `acr` values ZeroAuth speaks, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acr {
    /// One factor (a password, an upstream provider, a mailed code).
    #[serde(rename = "urn:zeroauth:acr:sfa")]
    Single,
    /// Two factors, or a user-verifying passkey.
    #[serde(rename = "urn:zeroauth:acr:mfa")]
    Multi,
    /// A user-verifying passkey: bound to this site's origin, so it cannot
    /// be phished (OpenID EAP ACR Values 1.0, `phr`).
    #[serde(rename = "phr")]
    PhishingResistant,
}

impl Acr {
    /// Every value, weakest first (discovery's `acr_values_supported`).
    pub const ALL: [Acr; 3] = [Self::Single, Self::Multi, Self::PhishingResistant];

    /// The `acr` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Single => "urn:zeroauth:acr:sfa",
            Self::Multi => "urn:zeroauth:acr:mfa",
            Self::PhishingResistant => "phr",
        }
    }

    /// The level an `acr` value names, if ZeroAuth has it.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// What a sign-in by `amr` achieved: a passkey (`hwk`/`swk` with
    /// `user`) is phishing-resistant, `mfa` multi-factor, anything else one
    /// factor.
    pub fn of(amr: &[Amr]) -> Self {
        let key = amr.iter().any(|a| matches!(a, Amr::Hwk | Amr::Swk));
        if key && amr.contains(&Amr::User) {
            Self::PhishingResistant
        } else if amr.contains(&Amr::Mfa) {
            Self::Multi
        } else {
            Self::Single
        }
    }

    /// The level an `acr_values` request asks for: the weakest value it
    /// lists that ZeroAuth knows (every listed value is acceptable to the
    /// client), or `None` when it names none (then it asks for nothing).
    pub fn requested(acr_values: &str) -> Option<Self> {
        acr_values.split(' ').filter_map(Self::parse).min()
    }
}

/// Whether people need a second factor: per deployment, and per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorPolicy {
    /// Second factors are not asked for (a person who has one is still
    /// asked when a client requests `acr_values`).
    Off,
    /// A person who set one up is asked for it at every sign-in.
    #[default]
    Optional,
    /// Everyone needs one: a person without one sets it up at their next
    /// sign-in.
    Required,
}

impl FactorPolicy {
    /// The policy's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }

    /// The policy a name names.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Off, Self::Optional, Self::Required].into_iter().find(|p| p.as_str() == value.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_level_of_a_sign_in_follows_its_amr() {
        assert_eq!(Acr::of(&[Amr::Pwd]), Acr::Single);
        assert_eq!(Acr::of(&[Amr::Fed]), Acr::Single);
        assert_eq!(Acr::of(&[Amr::Pwd, Amr::Otp, Amr::Mfa]), Acr::Multi);
        assert_eq!(Acr::of(&[Amr::Swk, Amr::User, Amr::Mfa]), Acr::PhishingResistant);
        assert_eq!(Acr::of(&[Amr::Pwd, Amr::Hwk, Amr::User, Amr::Mfa]), Acr::PhishingResistant);
        // A key without user verification is not a second factor by itself.
        assert_eq!(Acr::of(&[Amr::Hwk]), Acr::Single);
    }

    #[test]
    fn a_request_asks_for_the_weakest_level_it_lists() {
        assert_eq!(Acr::requested("phr urn:zeroauth:acr:mfa"), Some(Acr::Multi));
        assert_eq!(Acr::requested("phr"), Some(Acr::PhishingResistant));
        assert_eq!(Acr::requested("urn:other gold"), None);
        assert_eq!(Acr::requested(""), None);
        assert!(Acr::Single < Acr::Multi && Acr::Multi < Acr::PhishingResistant);
        for a in Acr::ALL {
            assert_eq!(serde_json::to_value(a).ok(), Some(serde_json::json!(a.as_str())));
        }
    }

    #[test]
    fn factor_secrets_never_show_in_debug() {
        let t = TotpData { sealed_secret: "sealed-secret".into(), last_step: 3 };
        assert!(!format!("{t:?}").contains("sealed-secret"));
        let p = PasskeyData {
            passkey: "{\"cred\":\"key-material\"}".into(),
            label: "Laptop".into(),
            backup_eligible: true,
            last_used_at: None,
        };
        assert!(!format!("{p:?}").contains("key-material"));
        assert_eq!(FactorPolicy::parse("required"), Some(FactorPolicy::Required));
        assert_eq!(FactorPolicy::parse("sometimes"), None);
    }
}
