//! Randomness, digests, HMAC-SHA256 signing with constant-time
//! verification, client-secret hashing, argon2id passwords and PKCE.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::{Password, SigningKey};

/// Bytes of randomness in every token and code (256 bits).
pub const TOKEN_BYTES: usize = 32;
/// Passwords longer than this are refused before hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The operating system's random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed: {0}")]
pub struct RandomError(String);

/// `n` bytes from the operating system's random source.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, RandomError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// `n` random bytes, base64url without padding.
pub fn random_string(n: usize) -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(n)?))
}

/// The storage digest of a token, code or client secret: SHA-256, base64url.
///
/// These values carry 256 bits of randomness, so a plain hash is enough: a
/// copy of the table yields no usable token.
pub fn digest(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
}

/// Encrypts `plaintext` (AES-256-GCM) under a key derived from `secret`, a
/// token only its holder knows: what is stored cannot be read without it.
pub fn seal_for(secret: &str, plaintext: &[u8]) -> Result<String, RandomError> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let nonce_bytes: [u8; 12] = random_bytes(12)?.try_into().map_err(|_| RandomError("nonce".into()))?;
    let key = derived_key(secret);
    let key = UnboundKey::new(&AES_256_GCM, &key).map_err(|e| RandomError(e.to_string()))?;
    let mut in_out = plaintext.to_vec();
    LessSafeKey::new(key)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce_bytes), Aad::empty(), &mut in_out)
        .map_err(|e| RandomError(e.to_string()))?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&in_out);
    Ok(URL_SAFE_NO_PAD.encode(out))
}

/// Decrypts what [`seal_for`] made with the same `secret`; `None` for
/// anything else.
pub fn open_for(secret: &str, sealed: &str) -> Option<Vec<u8>> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let (nonce, ciphertext) = (raw.get(..12)?, raw.get(12..)?);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &derived_key(secret)).ok()?);
    let mut in_out = ciphertext.to_vec();
    let plain = key.open_in_place(nonce, Aad::empty(), &mut in_out).ok()?;
    Some(plain.to_vec())
}

fn derived_key(secret: &str) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(b"zeroauth sealed for a token holder")
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(secret.as_bytes());
    m.finalize().into_bytes().into()
}

/// Constant-time comparison of two digests (or any two strings).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Whether two byte strings are equal, in constant time.
pub fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// HMAC-SHA256 of `data` under `key`, base64url.
pub fn sign(key: &SigningKey, data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, data).finalize().into_bytes())
}

/// Whether `tag` is the HMAC-SHA256 of `data` under `key`, compared in constant time.
pub fn verify(key: &SigningKey, data: &[u8], tag: &str) -> bool {
    match URL_SAFE_NO_PAD.decode(tag) {
        Ok(raw) => mac(key, data).verify_slice(&raw).is_ok(),
        Err(_) => false,
    }
}

fn mac(key: &SigningKey, data: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key.secret())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data);
    m
}

/// Password hashing failed (not a wrong password: the hasher itself).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// How every hash [`hash_password`] makes begins: argon2id with its
/// parameters. A stored hash that begins otherwise (an imported one, or one
/// made with other parameters) is rehashed at the next sign-in.
pub const OWN_HASH_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

/// An argon2id PHC string for `password` (OWASP parameters: 19 MiB, t=2, p=1).
pub fn hash_password(password: &Password) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `phc`. Oversized passwords never match.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    if password.secret().len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.secret().as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A fixed argon2id hash to verify against when the user does not exist, so
/// an unknown username costs the same time as a wrong password.
pub const DUMMY_PASSWORD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xd9fm+0b53GMRf9Lxp6J3W7rOk5t16MKXShd+YISZ5M";

/// The PKCE `S256` challenge of a verifier (RFC 7636 4.2).
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether a string is a valid PKCE verifier or challenge: 43 to 128
/// characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"` (RFC 7636 4.1).
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_for_a_token_opens_only_with_that_token() {
        let sealed = seal_for("za_rt_old", b"the pair").unwrap();
        assert_eq!(open_for("za_rt_old", &sealed).as_deref(), Some(&b"the pair"[..]));
        assert_eq!(open_for("za_rt_other", &sealed), None);
        assert_ne!(seal_for("za_rt_old", b"the pair").unwrap(), sealed, "a fresh nonce each time");
        let mut tampered = sealed.clone();
        tampered.replace_range(20..21, if &sealed[20..21] == "A" { "B" } else { "A" });
        assert_eq!(open_for("za_rt_old", &tampered), None);
        assert_eq!(open_for("za_rt_old", "short"), None);
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(pkce_s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(is_pkce_string(verifier));
        assert!(!is_pkce_string("short"));
    }

    #[test]
    fn hmac_verifies_only_its_own_data_and_key() {
        let key = SigningKey::new(vec![7; 32]);
        let tag = sign(&key, b"hello");
        assert!(verify(&key, b"hello", &tag));
        assert!(!verify(&key, b"hellO", &tag));
        assert!(!verify(&SigningKey::new(vec![8; 32]), b"hello", &tag));
        assert!(!verify(&key, b"hello", "not base64 !"));
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let key = SigningKey::new(b"Jefe".to_vec());
        let tag = URL_SAFE_NO_PAD.decode(sign(&key, b"what do ya want for nothing?")).unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn argon2id_accepts_the_password_and_refuses_others() {
        let hash = hash_password(&Password::new("correct horse")).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&Password::new("correct horse"), &hash));
        assert!(!verify_password(&Password::new("wrong horse"), &hash));
        assert!(!verify_password(&Password::new("x".repeat(MAX_PASSWORD_BYTES + 1)), &hash));
    }

    #[test]
    fn dummy_hash_parses_so_unknown_users_cost_a_full_verification() {
        assert!(PasswordHash::new(DUMMY_PASSWORD_HASH).is_ok());
        assert!(!verify_password(&Password::new("anything"), DUMMY_PASSWORD_HASH));
    }
}
