//! The asymmetric keys that sign ID tokens and JWT access tokens, and the
//! published key set (`/jwks`) that verifies them.
//!
//! One RS256, one ES256 and one EdDSA key are *active* (signing) at a time.
//! Each has a *next* key, published before it signs anything so that
//! verifiers' caches hold it by the time it does, and *retired* keys stay
//! published until every token they signed has expired. [`KeySetDocument`]
//! is the private document (an SSM SecureString on AWS, a file for
//! `zeroauth serve`); its [`public`](KeySetDocument::public) part is the JWKS.
//! The JOSE work is `jsonwebtoken`'s, on aws-lc-rs. What a function holds
//! at run time, and signs and verifies with, is [`Keys`] (in `set.rs`).

mod set;

pub use set::{Keys, half_hash, looks_like_jwt};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType,
    Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters,
    RSAKeyType,
};
use serde::{Deserialize, Serialize};

/// A signing algorithm ZeroAuth offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit keys: the OpenID Connect default.
    #[default]
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl Alg {
    /// Every algorithm, in the order they are published.
    pub const ALL: [Alg; 3] = [Alg::RS256, Alg::ES256, Alg::EdDSA];

    /// The JOSE name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm with this JOSE name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    pub(crate) fn jose(self) -> Algorithm {
        match self {
            Self::RS256 => Algorithm::RS256,
            Self::ES256 => Algorithm::ES256,
            Self::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signing (and published).
    Active,
    /// No longer signing; published until its tokens have expired.
    Retired,
}

/// One key of the private document.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// Key id, in every token's header.
    pub kid: String,
    /// Its algorithm.
    pub alg: Alg,
    /// Where it is in its life.
    pub state: KeyState,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds when it stopped signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<i64>,
    /// The private key, PKCS#8 DER in base64url. Never logged.
    pub pkcs8: String,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// The private key set document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeySetDocument {
    /// Every key, in every state.
    pub keys: Vec<StoredKey>,
}

/// A key set that cannot be made, read or used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

pub(crate) fn err(what: impl std::fmt::Display) -> KeyError {
    KeyError(what.to_string())
}

impl KeySetDocument {
    /// A new key set: for each algorithm an active key and its next.
    pub fn generate(now: i64) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for alg in Alg::ALL {
            keys.push(new_key(alg, KeyState::Active, now)?);
            keys.push(new_key(alg, KeyState::Next, now)?);
        }
        Ok(Self { keys })
    }

    /// Parses the document (JSON), checking every key.
    pub fn parse(json: &str) -> Result<Self, KeyError> {
        let doc: Self =
            serde_json::from_str(json).map_err(|e| err(format!("not a ZeroAuth key set: {e}")))?;
        for alg in Alg::ALL {
            let active = doc.keys.iter().filter(|k| k.alg == alg && k.state == KeyState::Active).count();
            if active != 1 {
                return Err(err(format!(
                    "the key set has {active} active {} keys; it needs one",
                    alg.as_str()
                )));
            }
        }
        for k in &doc.keys {
            public_jwk(k)?;
        }
        Ok(doc)
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Rotates every algorithm: the next key starts signing, the active one
    /// retires, a new next key is published, and retired keys that stopped
    /// signing more than `keep_retired` seconds ago (longer than any token
    /// they signed lives) are dropped.
    pub fn rotate(&mut self, now: i64, keep_retired: i64) -> Result<(), KeyError> {
        self.keys
            .retain(|k| k.state != KeyState::Retired || k.retired_at.is_none_or(|t| t + keep_retired > now));
        for alg in Alg::ALL {
            if !self.keys.iter().any(|k| k.alg == alg && k.state == KeyState::Next) {
                self.keys.push(new_key(alg, KeyState::Next, now)?);
            }
            for k in self.keys.iter_mut().filter(|k| k.alg == alg) {
                match k.state {
                    KeyState::Active => {
                        k.state = KeyState::Retired;
                        k.retired_at = Some(now);
                    }
                    KeyState::Next => k.state = KeyState::Active,
                    KeyState::Retired => {}
                }
            }
            self.keys.push(new_key(alg, KeyState::Next, now)?);
        }
        Ok(())
    }

    /// The public key set: every key's public half, with `kid`, `alg` and `use`.
    pub fn public(&self) -> Result<JwkSet, KeyError> {
        Ok(JwkSet { keys: self.keys.iter().map(public_jwk).collect::<Result<_, _>>()? })
    }
}

fn new_key(alg: Alg, state: KeyState, now: i64) -> Result<StoredKey, KeyError> {
    let der: Vec<u8> = match alg {
        Alg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| err("could not generate an RSA key"))?,
        Alg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| err("could not generate a P-256 key"))?,
        Alg::EdDSA => Ed25519KeyPair::generate()
            .and_then(|k| k.to_pkcs8v1())
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| err("could not generate an Ed25519 key"))?,
    };
    let kid = crate::crypto::random_string(12).map_err(err)?;
    Ok(StoredKey { kid, alg, state, created_at: now, retired_at: None, pkcs8: URL_SAFE_NO_PAD.encode(der) })
}

pub(crate) fn der(k: &StoredKey) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD.decode(&k.pkcs8).map_err(|_| err(format!("key {} is not base64url", k.kid)))
}

/// A PKCS#8 document in PEM armour (RFC 7468).
pub(crate) fn pkcs8_pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

pub(crate) fn public_jwk(k: &StoredKey) -> Result<Jwk, KeyError> {
    let der = der(k)?;
    let bad = || err(format!("key {} is not a valid {} private key", k.kid, k.alg.as_str()));
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let algorithm = match k.alg {
        Alg::RS256 => {
            let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| bad())?;
            let public = pair.public_key();
            AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: b64(public.modulus().big_endian_without_leading_zero()),
                e: b64(public.exponent().big_endian_without_leading_zero()),
            })
        }
        Alg::ES256 => {
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der).map_err(|_| bad())?;
            let point = pair.public_key().as_ref();
            let (x, y) = point.get(1..33).zip(point.get(33..65)).ok_or_else(bad)?;
            AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: b64(x),
                y: b64(y),
            })
        }
        Alg::EdDSA => {
            let pair = Ed25519KeyPair::from_pkcs8(&der).map_err(|_| bad())?;
            AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: b64(pair.public_key().as_ref()),
            })
        }
    };
    let key_algorithm = match k.alg {
        Alg::RS256 => KeyAlgorithm::RS256,
        Alg::ES256 => KeyAlgorithm::ES256,
        Alg::EdDSA => KeyAlgorithm::EdDSA,
    };
    Ok(Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(key_algorithm),
            key_id: Some(k.kid.clone()),
            ..Default::default()
        },
        algorithm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_document_is_refused_with_a_sentence() {
        assert!(KeySetDocument::parse("{}").is_err());
        assert!(KeySetDocument::parse("not json").unwrap_err().0.contains("not a ZeroAuth key set"));
        let mut doc = KeySetDocument::generate(0).unwrap();
        doc.keys.retain(|k| k.alg != Alg::ES256 || k.state != KeyState::Active);
        assert!(KeySetDocument::parse(&doc.to_json()).unwrap_err().0.contains("0 active ES256"));
    }
}
