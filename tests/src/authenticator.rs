//! A software passkey authenticator and the browser around it, for tests
//! without a browser: it answers the options ZeroAuth sends
//! (`{"publicKey": {...}}`) with the credential JSON the page script posts
//! (`PublicKeyCredential.toJSON()`), from a P-256 key made on aws-lc-rs.
//!
//! Its knobs are public fields, so an attack test can play a browser on
//! another origin, an authenticator for another RP ID, a counter that went
//! backwards, or an authenticator that skipped user verification.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// WebAuthn authenticator data flags (WebAuthn Level 3 section 6.1).
const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// The DER prefix of a P-256 SubjectPublicKeyInfo, before the 65-byte point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// One passkey on a software authenticator, with the browser's knobs.
pub struct Authenticator {
    key: EcdsaKeyPair,
    /// The WebAuthn credential id.
    pub credential_id: Vec<u8>,
    /// The origin the "browser" writes into `clientDataJSON`.
    pub origin: String,
    /// The RP ID hashed into the authenticator data; `None`: the one the
    /// options name (as a browser does).
    pub rp_id: Option<String>,
    /// The signature counter the next answer carries.
    pub sign_count: u32,
    /// Whether the counter goes up by one before each assertion (a
    /// hardware key); a synced passkey usually keeps 0.
    pub count_up: bool,
    /// Whether the answers claim user verification (UV).
    pub user_verified: bool,
    /// Whether the passkey may be synced (BE, and BS: it is backed up).
    pub synced: bool,
    /// The user handle an assertion names: the creation options' `user.id`
    /// once created; `None` leaves it out.
    pub user_handle: Option<Vec<u8>>,
}

impl Authenticator {
    /// A device-bound passkey (counting from 0) for a browser on `origin`.
    pub fn new(origin: &str) -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key");
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).expect("random bytes");
        Self {
            key,
            credential_id,
            origin: origin.to_owned(),
            rp_id: None,
            sign_count: 0,
            count_up: true,
            user_verified: true,
            synced: false,
            user_handle: None,
        }
    }

    /// The same authenticator making a synced passkey (BE and BS set, the
    /// counter kept at 0).
    pub fn synced(mut self) -> Self {
        self.synced = true;
        self.count_up = false;
        self
    }

    /// Whether creation `options` exclude this passkey (a browser would
    /// refuse with `InvalidStateError`).
    pub fn excluded_by(&self, options: &Value) -> bool {
        let id = b64(&self.credential_id);
        ids(&options["publicKey"]["excludeCredentials"]).any(|i| i == id)
    }

    /// Whether request `options` list this passkey in `allowCredentials`
    /// (an empty list allows any passkey for the RP ID).
    pub fn allowed_by(&self, options: &Value) -> bool {
        let id = b64(&self.credential_id);
        let mut allowed = ids(&options["publicKey"]["allowCredentials"]).peekable();
        allowed.peek().is_none() || allowed.any(|i| i == id)
    }

    /// Answers creation `options` as `navigator.credentials.create` and
    /// `toJSON()` would: a `none` attestation of a new credential.
    pub fn create(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = self.rp_id.clone().unwrap_or_else(|| text(&pk["rp"]["id"]));
        self.user_handle = Some(unb64(&text(&pk["user"]["id"])));
        let client_data = self.client_data("webauthn.create", &text(&pk["challenge"]));
        let point = self.key.public_key().as_ref().to_vec();
        let mut auth_data = self.auth_data(&rp_id, AT);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        let id_len = u16::try_from(self.credential_id.len()).expect("a short credential id");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cose_p256(&point));
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        let spki: Vec<u8> = P256_SPKI_PREFIX.iter().chain(&point).copied().collect();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(client_data.as_bytes()),
                "attestationObject": b64(&attestation),
                "authenticatorData": b64(&auth_data),
                "transports": ["internal", "hybrid"],
                "publicKey": b64(&spki),
                "publicKeyAlgorithm": -7,
            },
            "clientExtensionResults": {"credProps": {"rk": true}},
        })
    }

    /// Answers request `options` as `navigator.credentials.get` and
    /// `toJSON()` would: an assertion signed over authenticator data and
    /// the SHA-256 of `clientDataJSON`. It answers even when
    /// `allowCredentials` does not list it ([`Self::allowed_by`]), as an
    /// attacker's script would.
    pub fn get(&mut self, options: &Value) -> Value {
        let pk = &options["publicKey"];
        let rp_id = self.rp_id.clone().unwrap_or_else(|| text(&pk["rpId"]));
        if self.count_up {
            self.sign_count += 1;
        }
        let client_data = self.client_data("webauthn.get", &text(&pk["challenge"]));
        let auth_data = self.auth_data(&rp_id, 0);
        let signed: Vec<u8> =
            auth_data.iter().copied().chain(Sha256::digest(client_data.as_bytes())).collect();
        let signature = self.key.sign(&SystemRandom::new(), &signed).expect("an ECDSA signature");
        let mut response = json!({
            "clientDataJSON": b64(client_data.as_bytes()),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_ref()),
        });
        if let Some(handle) = &self.user_handle {
            response["userHandle"] = json!(b64(handle));
        }
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": response,
            "clientExtensionResults": {},
        })
    }

    fn client_data(&self, kind: &str, challenge: &str) -> String {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false}).to_string()
    }

    /// rpIdHash, flags (UP, UV, BE, BS as set, plus `extra`), signCount.
    fn auth_data(&self, rp_id: &str, extra: u8) -> Vec<u8> {
        let mut flags = UP | extra;
        if self.user_verified {
            flags |= UV;
        }
        if self.synced {
            flags |= BE | BS;
        }
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.sign_count.to_be_bytes());
        data
    }
}

/// A credential JSON with the last byte of its signature changed (it stays
/// DER, so only the signature check can refuse it).
pub fn alter_signature(credential: &Value) -> Value {
    let mut altered = credential.clone();
    let mut signature = unb64(&text(&credential["response"]["signature"]));
    if let Some(last) = signature.last_mut() {
        *last ^= 0x01;
    }
    altered["response"]["signature"] = json!(b64(&signature));
    altered
}

/// The COSE_Key of a P-256 public key (`04 || x || y`): kty EC2, alg ES256,
/// crv P-256, x, y (RFC 9053 section 7.1).
fn cose_p256(point: &[u8]) -> Vec<u8> {
    let (x, y) = point.get(1..).expect("an uncompressed point").split_at(32);
    let mut key = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
    cbor_bytes(&mut key, x);
    key.push(0x22);
    cbor_bytes(&mut key, y);
    key
}

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    match len {
        0..=23 => out.push(major | len as u8),
        24..=255 => out.extend_from_slice(&[major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend_from_slice(&u16::try_from(len).expect("under 64 KiB").to_be_bytes());
        }
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 0x40, bytes.len());
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 0x60, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn ids(list: &Value) -> impl Iterator<Item = String> + '_ {
    list.as_array().into_iter().flatten().map(|c| text(&c["id"]))
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string in the options, got {v}")).to_owned()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap_or_else(|e| panic!("{s:?} is not base64url: {e}"))
}
