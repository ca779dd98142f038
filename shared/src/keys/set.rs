//! The keys a function holds at run time: the active signer per algorithm
//! and every published key, and the signing and verifying done with them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Alg, KeyError, KeySetDocument, KeyState, der, err, pkcs8_pem};

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
    use serde::Deserialize;

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
