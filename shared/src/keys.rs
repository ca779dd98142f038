//! The asymmetric keys that sign ID tokens and JWT access tokens, and the
//! published key set (`/jwks`) that verifies them.
//!
//! One RS256, one ES256 and one EdDSA key are *active* (signing) at a time.
//! Each has a *next* key, published before it signs anything so that
//! verifiers' caches hold it by the time it does, and *retired* keys stay
//! published until every token they signed has expired. [`KeySetDocument`]
//! is the private document (an SSM SecureString on AWS, a file for
//! `zeroauth serve`); its [`public`](KeySetDocument::public) part is the JWKS.
//! The JOSE work is `jsonwebtoken`'s, on aws-lc-rs.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType,
    Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, RSAKeyParameters,
    RSAKeyType,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
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

    fn jose(self) -> Algorithm {
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

fn err(what: impl std::fmt::Display) -> KeyError {
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

fn der(k: &StoredKey) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD.decode(&k.pkcs8).map_err(|_| err(format!("key {} is not base64url", k.kid)))
}

/// A PKCS#8 document in PEM armour (RFC 7468).
fn pkcs8_pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

fn public_jwk(k: &StoredKey) -> Result<Jwk, KeyError> {
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

/// The keys a function holds: the active signer per algorithm (functions
/// that sign only) and every published key to verify with.
pub struct Keys {
    signers: HashMap<Alg, (String, EncodingKey)>,
    verifiers: HashMap<String, (Alg, DecodingKey)>,
    jwks: String,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kids: Vec<&String> = self.verifiers.keys().collect();
        kids.sort();
        f.debug_struct("Keys").field("signs", &self.signers.len()).field("kids", &kids).finish()
    }
}

impl Keys {
    /// Signing and verifying keys from the private document.
    pub fn from_document(doc: &KeySetDocument) -> Result<Self, KeyError> {
        let mut signers = HashMap::new();
        for k in doc.keys.iter().filter(|k| k.state == KeyState::Active) {
            let der = der(k)?;
            let key = match k.alg {
                // jsonwebtoken signs RSA with an RSAPrivateKey: its PEM reader
                // takes that out of the PKCS#8 document.
                Alg::RS256 => EncodingKey::from_rsa_pem(pkcs8_pem(&der).as_bytes())
                    .map_err(|e| err(format!("key {}: {e}", k.kid)))?,
                Alg::ES256 => EncodingKey::from_ec_der(&der),
                Alg::EdDSA => EncodingKey::from_ed_der(&der),
            };
            signers.insert(k.alg, (k.kid.clone(), key));
        }
        let mut keys = Self::from_public(&doc.public()?)?;
        keys.signers = signers;
        Ok(keys)
    }

    /// No keys at all: nothing can be signed or verified.
    pub fn empty() -> Self {
        Self { signers: HashMap::new(), verifiers: HashMap::new(), jwks: r#"{"keys":[]}"#.into() }
    }

    /// Verifying keys only, from a published JWKS (JSON).
    pub fn from_jwks(json: &str) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(json).map_err(|e| err(format!("not a JWKS: {e}")))?;
        Self::from_public(&set)
    }

    fn from_public(set: &JwkSet) -> Result<Self, KeyError> {
        let mut verifiers = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().ok_or_else(|| err("a published key has no kid"))?;
            let alg = match jwk.common.key_algorithm {
                Some(KeyAlgorithm::RS256) => Alg::RS256,
                Some(KeyAlgorithm::ES256) => Alg::ES256,
                Some(KeyAlgorithm::EdDSA) => Alg::EdDSA,
                _ => return Err(err(format!("published key {kid} has no algorithm ZeroAuth uses"))),
            };
            let key = DecodingKey::from_jwk(jwk).map_err(|e| err(format!("published key {kid}: {e}")))?;
            verifiers.insert(kid, (alg, key));
        }
        let jwks = serde_json::to_string(set).map_err(err)?;
        Ok(Self { signers: HashMap::new(), verifiers, jwks })
    }

    /// A key set made now, held only in memory (tests and `zeroauth serve`
    /// without a key file), generated once per process.
    pub fn ephemeral() -> Result<Arc<Self>, KeyError> {
        static EPHEMERAL: OnceLock<Arc<Keys>> = OnceLock::new();
        if let Some(k) = EPHEMERAL.get() {
            return Ok(k.clone());
        }
        let keys = Arc::new(Self::from_document(&KeySetDocument::generate(crate::clock::Clock::now(
            &crate::clock::SystemClock,
        ))?)?);
        Ok(EPHEMERAL.get_or_init(|| keys).clone())
    }

    /// The published key set, as served at `/jwks`.
    pub fn jwks(&self) -> &str {
        &self.jwks
    }

    /// The algorithms this process can sign with.
    pub fn signing_algs(&self) -> Vec<Alg> {
        let mut algs: Vec<Alg> = self.signers.keys().copied().collect();
        algs.sort();
        algs
    }

    /// The algorithms of the published keys.
    pub fn published_algs(&self) -> Vec<Alg> {
        let mut algs: Vec<Alg> = self.verifiers.values().map(|(a, _)| *a).collect();
        algs.sort();
        algs.dedup();
        algs
    }

    /// Signs `claims` with the active `alg` key; `typ` goes in the header
    /// (`JWT` for ID tokens, `at+jwt` for access tokens, RFC 9068 2.1).
    pub fn sign<T: Serialize>(&self, alg: Alg, typ: &str, claims: &T) -> Result<String, KeyError> {
        let (kid, key) = self
            .signers
            .get(&alg)
            .ok_or_else(|| err(format!("this function holds no {} key", alg.as_str())))?;
        let mut header = Header::new(alg.jose());
        header.kid = Some(kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, key).map_err(err)
    }

    /// The claims of a token this key set signed, if its `kid` is published,
    /// its `alg` is that key's, its `typ` is `typ`, its signature verifies,
    /// its `iss` is `issuer` and its `exp` is after `now` (the server's
    /// clock; `None` accepts an expired token, as an `id_token_hint`).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        now: Option<i64>,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (alg, key) = self.verifiers.get(header.kid.as_deref()?)?;
        if header.alg != alg.jose() || !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
            return None;
        }
        let mut v = Validation::new(alg.jose());
        v.set_issuer(&[issuer]);
        v.validate_aud = false;
        v.leeway = 0;
        v.validate_exp = false;
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, &v).ok()?.claims;
        let exp = claims.get("exp").and_then(serde_json::Value::as_i64)?;
        if now.is_some_and(|now| exp <= now) {
            return None;
        }
        serde_json::from_value(claims).ok()
    }
}

/// Whether `token` has the shape of a JWS compact serialization (three
/// base64url parts), as opposed to ZeroAuth's opaque tokens.
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ")
        && token.split('.').count() == 3
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// The `at_hash` / `c_hash` of a value for tokens signed with `alg` (OpenID
/// Connect Core 3.1.3.6): the left half of its hash, base64url. EdDSA
/// (Ed25519) hashes with SHA-512.
pub fn half_hash(alg: Alg, value: &str) -> String {
    use sha2::Digest;
    let full: Vec<u8> = match alg {
        Alg::RS256 | Alg::ES256 => sha2::Sha256::digest(value.as_bytes()).to_vec(),
        Alg::EdDSA => sha2::Sha512::digest(value.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(full.get(..full.len() / 2).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Claims {
        iss: String,
        sub: String,
        exp: i64,
    }

    const NOW: i64 = 1_000_000;

    fn claims(exp: i64) -> Claims {
        Claims { iss: "https://as.example".into(), sub: "u1".into(), exp }
    }

    #[test]
    fn every_algorithm_signs_and_verifies_and_tampering_fails() {
        let doc = KeySetDocument::generate(0).unwrap();
        let keys = Keys::from_document(&doc).unwrap();
        let far = NOW + 600;
        for alg in Alg::ALL {
            let t = keys.sign(alg, "JWT", &claims(far)).unwrap();
            assert_eq!(
                keys.verify::<Claims>(&t, "JWT", "https://as.example", Some(NOW)),
                Some(claims(far)),
                "{alg:?}"
            );
            assert_eq!(
                keys.verify::<Claims>(&t, "at+jwt", "https://as.example", Some(NOW)),
                None,
                "wrong typ"
            );
            assert_eq!(
                keys.verify::<Claims>(&t, "JWT", "https://other.example", Some(NOW)),
                None,
                "wrong iss"
            );
            let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
            parts[1] =
                URL_SAFE_NO_PAD.encode(br#"{"iss":"https://as.example","sub":"admin","exp":9999999999}"#);
            assert_eq!(keys.verify::<Claims>(&parts.join("."), "JWT", "https://as.example", Some(NOW)), None);
        }
        let expired = keys.sign(Alg::ES256, "JWT", &claims(1)).unwrap();
        assert_eq!(keys.verify::<Claims>(&expired, "JWT", "https://as.example", Some(NOW)), None);
        assert!(keys.verify::<Claims>(&expired, "JWT", "https://as.example", None).is_some());
        let debug = format!("{:?} {:?}", doc, keys);
        assert!(!doc.keys.iter().any(|k| debug.contains(&k.pkcs8)), "no private key in Debug output");
    }

    #[test]
    fn rotation_publishes_before_signing_and_retires_before_dropping() {
        let mut doc = KeySetDocument::generate(0).unwrap();
        let before = Keys::from_document(&doc).unwrap();
        let old = before.sign(Alg::RS256, "JWT", &claims(i64::MAX / 2)).unwrap();
        let next_kid =
            doc.keys.iter().find(|k| k.alg == Alg::RS256 && k.state == KeyState::Next).unwrap().kid.clone();
        assert!(before.jwks().contains(&next_kid), "the next key is published before it signs");
        doc.rotate(100, 1000).unwrap();
        let after = Keys::from_document(&KeySetDocument::parse(&doc.to_json()).unwrap()).unwrap();
        assert!(
            after.verify::<Claims>(&old, "JWT", "https://as.example", Some(NOW)).is_some(),
            "retired still verifies"
        );
        let new = after.sign(Alg::RS256, "JWT", &claims(i64::MAX / 2)).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid, Some(next_kid), "the next key now signs");
        doc.rotate(1200, 1000).unwrap();
        let dropped = Keys::from_document(&doc).unwrap();
        assert!(
            dropped.verify::<Claims>(&old, "JWT", "https://as.example", Some(NOW)).is_none(),
            "dropped after its time"
        );
    }

    #[test]
    fn a_malformed_document_is_refused_with_a_sentence() {
        assert!(KeySetDocument::parse("{}").is_err());
        assert!(KeySetDocument::parse("not json").unwrap_err().0.contains("not a ZeroAuth key set"));
        let mut doc = KeySetDocument::generate(0).unwrap();
        doc.keys.retain(|k| k.alg != Alg::ES256 || k.state != KeyState::Active);
        assert!(KeySetDocument::parse(&doc.to_json()).unwrap_err().0.contains("0 active ES256"));
    }

    #[test]
    fn alg_none_and_unknown_kids_are_refused() {
        let keys = Keys::ephemeral().unwrap();
        let body = URL_SAFE_NO_PAD.encode(br#"{"iss":"https://as.example","sub":"u1","exp":9999999999}"#);
        let none = format!("{}.{body}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#));
        assert_eq!(keys.verify::<Claims>(&none, "JWT", "https://as.example", Some(NOW)), None);
        let unknown =
            format!("{}.{body}.c2ln", URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT","kid":"nope"}"#));
        assert_eq!(keys.verify::<Claims>(&unknown, "JWT", "https://as.example", Some(NOW)), None);
    }
}
