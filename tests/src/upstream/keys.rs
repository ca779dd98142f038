//! The keys of the test upstream provider ([`super`]) and the
//! JWTs it mints, signed by hand on aws-lc-rs so that the malformed ones
//! (`alg: none`, HS256 keyed with the public key) can be made too.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{CLIENT_ID, OTHER_TENANT, entra, merge};

/// What is wrong with the next ID token (attack tests;
/// [`Upstream::tamper_next`](crate::upstream::Upstream::tamper_next)).
#[derive(Clone, Debug, PartialEq)]
pub enum Tamper {
    /// `aud` is another client.
    WrongAud,
    /// `iss` is `https://attacker.example`.
    WrongIss,
    /// `nonce` is not the one sent.
    WrongNonce,
    /// No `nonce`, though one was sent.
    NoNonce,
    /// `exp` 5 minutes in the past, `iat` 10 minutes ago.
    Expired,
    /// `iat` an hour ahead.
    IssuedInFuture,
    /// Header `{"alg":"none"}`, empty signature.
    AlgNone,
    /// HS256 keyed with the RSA public key's PEM, `kid` `rsa-1`
    /// ([`Upstream::rsa_public_pem`](crate::upstream::Upstream::rsa_public_pem)).
    Hs256WithPublicKey,
    /// Signed by the published RSA key under a `kid` nobody published.
    UnknownKid,
    /// Signed by an RSA key that is not published, under `kid` `rsa-1`.
    SignedByOtherKey,
    /// The token answer has no `id_token`.
    NoIdToken,
    /// `aud` is `[client_id, "other"]` and there is no `azp`.
    MultipleAudNoAzp,
    /// Signed ES256 with `ec-1`: valid, must be accepted.
    Es256,
    /// Entra: `iss` names [`OTHER_TENANT`] while `tid` is the person's.
    WrongTenantIssuer,
    /// These claims merged in (a `null` removes the claim).
    Claims(Value),
}

/// Applies `t` to the ID token `claims` of the provider at `base`; how to
/// sign it, or `None` for no ID token at all.
pub fn tamper(t: Option<Tamper>, c: &mut Value, base: &str, now: i64) -> Option<Signer> {
    let mut signer = Signer::Rsa;
    match t {
        None => {}
        Some(Tamper::WrongAud) => c["aud"] = json!("someone-else"),
        Some(Tamper::WrongIss) => c["iss"] = json!("https://attacker.example"),
        Some(Tamper::WrongNonce) => c["nonce"] = json!("not-the-nonce"),
        Some(Tamper::NoNonce) => merge(c, &json!({"nonce": null})),
        Some(Tamper::Expired) => {
            merge(c, &json!({"iat": now - 600, "exp": now - 300, "auth_time": now - 600}))
        }
        Some(Tamper::IssuedInFuture) => merge(c, &json!({"iat": now + 3600, "exp": now + 3900})),
        Some(Tamper::AlgNone) => signer = Signer::None,
        Some(Tamper::Hs256WithPublicKey) => signer = Signer::Hs256PublicKey,
        Some(Tamper::UnknownKid) => signer = Signer::UnknownKid,
        Some(Tamper::SignedByOtherKey) => signer = Signer::OtherRsa,
        Some(Tamper::NoIdToken) => return None,
        Some(Tamper::MultipleAudNoAzp) => c["aud"] = json!([CLIENT_ID, "other"]),
        Some(Tamper::Es256) => signer = Signer::Ec,
        Some(Tamper::WrongTenantIssuer) => c["iss"] = json!(entra::issuer(base, OTHER_TENANT)),
        Some(Tamper::Claims(patch)) => merge(c, &patch),
    }
    Some(signer)
}

/// How a token is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// RS256 with the published RSA key (`kid` `rsa-1`).
    Rsa,
    /// ES256 with the published P-256 key (`kid` `ec-1`).
    Ec,
    /// RS256 with a key that is not published, under `kid` `rsa-1`.
    OtherRsa,
    /// RS256 with the published RSA key under a `kid` nobody published.
    UnknownKid,
    /// `{"alg":"none"}` and an empty signature.
    None,
    /// HS256 keyed with the PEM of the published RSA public key, `kid` `rsa-1`.
    Hs256PublicKey,
}

/// The provider's keys: what it publishes and one it does not.
pub struct UpstreamKeys {
    rsa: RsaKeyPair,
    ec: EcdsaKeyPair,
    other: RsaKeyPair,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl UpstreamKeys {
    /// Two RSA 2048 keys and a P-256 key, new for each provider.
    pub fn generate() -> Self {
        let rsa = || RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("a P-256 key");
        Self { rsa: rsa(), ec, other: rsa() }
    }

    /// The published key set (`rsa-1`, `ec-1`), as `/jwks` serves it.
    pub fn jwks(&self) -> Value {
        let public = self.rsa.public_key();
        let point = self.ec.public_key().as_ref();
        json!({"keys": [
            {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig",
             "n": b64(public.modulus().big_endian_without_leading_zero()),
             "e": b64(public.exponent().big_endian_without_leading_zero())},
            {"kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256",
             "x": b64(point.get(1..33).unwrap_or_default()), "y": b64(point.get(33..65).unwrap_or_default())},
        ]})
    }

    /// The published RSA public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn rsa_public_pem(&self) -> String {
        let der = self.rsa.public_key().as_der().expect("the public key's DER");
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> =
            body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
    }

    /// A compact JWS of `claims`, signed as `signer` says.
    pub fn sign(&self, signer: Signer, claims: &Value) -> String {
        let header = match signer {
            Signer::Rsa | Signer::OtherRsa => json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}),
            Signer::UnknownKid => json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-unknown"}),
            Signer::Ec => json!({"alg": "ES256", "typ": "JWT", "kid": "ec-1"}),
            Signer::None => json!({"alg": "none"}),
            Signer::Hs256PublicKey => json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}),
        };
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let rsa = |key: &RsaKeyPair| {
            let mut sig = vec![0u8; key.public_modulus_len()];
            key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig).expect("RS256");
            sig
        };
        let signature = match signer {
            Signer::Rsa | Signer::UnknownKid => rsa(&self.rsa),
            Signer::OtherRsa => rsa(&self.other),
            Signer::Ec => {
                self.ec.sign(&SystemRandom::new(), input.as_bytes()).expect("ES256").as_ref().to_vec()
            }
            Signer::None => Vec::new(),
            Signer::Hs256PublicKey => {
                let key = hmac::Key::new(hmac::HMAC_SHA256, self.rsa_public_pem().as_bytes());
                hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
            }
        };
        format!("{input}.{}", b64(&signature))
    }
}

/// The `at_hash` of an access token (OIDC Core 3.1.3.6): the left half of
/// its SHA-256, base64url.
pub fn at_hash(access_token: &str) -> String {
    b64(Sha256::digest(access_token.as_bytes()).get(..16).unwrap_or_default())
}

/// The S256 challenge of a PKCE verifier (RFC 7636 4.2).
pub fn s256(verifier: &str) -> String {
    b64(&Sha256::digest(verifier.as_bytes()))
}
