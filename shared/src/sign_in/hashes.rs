//! Password hashes people bring from another server (`zeroauth user
//! import`): bcrypt, argon2 (any variant), PBKDF2-SHA256 and scrypt, each in
//! the formats providers export, verified with RustCrypto's crates. A person
//! whose hash is not ZeroAuth's own argon2id is rehashed at their next
//! successful sign-in.
//!
//! | scheme | formats |
//! | --- | --- |
//! | bcrypt | `$2a$`, `$2b$`, `$2x$`, `$2y$` |
//! | argon2 | PHC `$argon2id$`, `$argon2i$`, `$argon2d$` |
//! | PBKDF2-SHA256 | Django `pbkdf2_sha256$N$salt$b64`, passlib `$pbkdf2-sha256$N$ab64$ab64`, Werkzeug `pbkdf2:sha256:N$salt$hex` |
//! | scrypt | passlib `$scrypt$ln=,r=,p=$b64$b64`, Werkzeug `scrypt:N:r:p$salt$hex` |

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use sha2::Sha256;

use crate::crypto;
use crate::secret::Password;

/// The most PBKDF2 iterations verified: more would make one sign-in a
/// denial of service.
const MAX_PBKDF2_ROUNDS: u32 = 5_000_000;
/// The most memory one scrypt verification may take (`128 · r · N · p`).
const MAX_SCRYPT_BYTES: u64 = 256 * 1024 * 1024;

/// A hash format ZeroAuth can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// ZeroAuth's own: argon2id with the current parameters.
    Argon2id,
    /// Any other argon2 variant or parameters.
    Argon2,
    /// bcrypt.
    Bcrypt,
    /// PBKDF2 with HMAC-SHA256.
    Pbkdf2Sha256,
    /// scrypt.
    Scrypt,
}

/// A parsed foreign hash: what to run and what to compare.
enum Parsed {
    Pbkdf2 { rounds: u32, salt: Vec<u8>, hash: Vec<u8> },
    Scrypt { log_n: u8, r: u32, p: u32, salt: Vec<u8>, hash: Vec<u8> },
}

/// The scheme of `hash`, or why it cannot be used (one line for `user import`).
pub fn scheme(hash: &str) -> Result<Scheme, String> {
    if hash.starts_with("$argon2") {
        let parsed = argon2::password_hash::phc::PasswordHash::new(hash)
            .map_err(|e| format!("the argon2 hash is malformed: {e}"))?;
        if parsed.hash.is_none() || parsed.salt.is_none() {
            return Err("the argon2 hash has no salt or no hash".into());
        }
        let ours = hash.starts_with(crypto::OWN_HASH_PREFIX);
        return Ok(if ours { Scheme::Argon2id } else { Scheme::Argon2 });
    }
    if is_bcrypt(hash) {
        return hash
            .parse::<bcrypt::HashParts>()
            .map(|_| Scheme::Bcrypt)
            .map_err(|e| format!("the bcrypt hash is malformed: {e}"));
    }
    match parse(hash)? {
        Parsed::Pbkdf2 { .. } => Ok(Scheme::Pbkdf2Sha256),
        Parsed::Scrypt { .. } => Ok(Scheme::Scrypt),
    }
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2x$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

/// Whether the person with this hash should be rehashed to argon2id once
/// their password is known.
pub fn needs_rehash(hash: &str) -> bool {
    !matches!(scheme(hash), Ok(Scheme::Argon2id))
}

/// Whether `password` matches a hash of any supported scheme. Unknown or
/// malformed hashes never match.
pub fn verify(password: &Password, hash: &str) -> bool {
    let pw = password.secret().as_bytes();
    if hash.starts_with("$argon2") {
        return crypto::verify_password(password, hash);
    }
    if is_bcrypt(hash) {
        return bcrypt::verify(pw, hash).unwrap_or(false);
    }
    match parse(hash) {
        Ok(Parsed::Pbkdf2 { rounds, salt, hash }) => {
            let mut out = vec![0u8; hash.len()];
            pbkdf2::pbkdf2_hmac::<Sha256>(pw, &salt, rounds, &mut out);
            crypto::ct_eq_bytes(&out, &hash)
        }
        Ok(Parsed::Scrypt { log_n, r, p, salt, hash }) => {
            let mut out = vec![0u8; hash.len()];
            let ok = scrypt::Params::new(log_n, r, p)
                .ok()
                .is_some_and(|params| scrypt::scrypt(pw, &salt, &params, &mut out).is_ok());
            ok && crypto::ct_eq_bytes(&out, &hash)
        }
        Err(_) => false,
    }
}

fn parse(hash: &str) -> Result<Parsed, String> {
    let unknown = || {
        "the hash is in no supported format (bcrypt, argon2, PBKDF2-SHA256 from Django, passlib or Werkzeug, \
         scrypt from passlib or Werkzeug)"
            .to_owned()
    };
    let parts: Vec<&str> = hash.split('$').collect();
    let pbkdf2 = |rounds: &str, salt: Vec<u8>, hash: Vec<u8>| -> Result<Parsed, String> {
        let rounds: u32 =
            rounds.parse().map_err(|_| "the PBKDF2 iteration count is not a number".to_owned())?;
        if !(1..=MAX_PBKDF2_ROUNDS).contains(&rounds) {
            return Err(format!("PBKDF2 iterations must be 1 to {MAX_PBKDF2_ROUNDS}"));
        }
        check_lengths(&salt, &hash)?;
        Ok(Parsed::Pbkdf2 { rounds, salt, hash })
    };
    match parts[..] {
        // Django: pbkdf2_sha256$N$salt$base64
        ["pbkdf2_sha256", rounds, salt, b64] => {
            pbkdf2(rounds, salt.as_bytes().to_vec(), b64_decode(b64.trim_end_matches('='))?)
        }
        // passlib: $pbkdf2-sha256$N$ab64salt$ab64hash
        ["", "pbkdf2-sha256", rounds, salt, h] => pbkdf2(rounds, b64_decode(salt)?, b64_decode(h)?),
        // Werkzeug: pbkdf2:sha256:N$salt$hex
        [method, salt, h] if method.starts_with("pbkdf2:sha256:") => {
            let rounds = method.trim_start_matches("pbkdf2:sha256:");
            pbkdf2(rounds, salt.as_bytes().to_vec(), hex_decode(h)?)
        }
        // passlib: $scrypt$ln=16,r=8,p=1$b64salt$b64hash
        ["", "scrypt", params, salt, h] => {
            let mut ln = None;
            let (mut r, mut p) = (None, None);
            for kv in params.split(',') {
                match kv.split_once('=') {
                    Some(("ln", v)) => ln = v.parse::<u8>().ok(),
                    Some(("r", v)) => r = v.parse::<u32>().ok(),
                    Some(("p", v)) => p = v.parse::<u32>().ok(),
                    _ => return Err(format!("unknown scrypt parameter {kv:?}")),
                }
            }
            let (Some(ln), Some(r), Some(p)) = (ln, r, p) else {
                return Err("the scrypt hash needs ln, r and p".into());
            };
            scrypt_parsed(ln, r, p, b64_decode(salt)?, b64_decode(h)?)
        }
        // Werkzeug: scrypt:N:r:p$salt$hex
        [method, salt, h] if method.starts_with("scrypt:") => {
            let nums: Vec<u64> = method
                .trim_start_matches("scrypt:")
                .split(':')
                .map(|n| n.parse::<u64>().map_err(|_| "the scrypt parameters are not numbers".to_owned()))
                .collect::<Result<_, _>>()?;
            let [n, r, p] = nums[..] else { return Err("Werkzeug scrypt needs N:r:p".into()) };
            if !n.is_power_of_two() || n < 2 {
                return Err("scrypt N must be a power of two".into());
            }
            let (Ok(r), Ok(p)) = (u32::try_from(r), u32::try_from(p)) else {
                return Err("scrypt r or p is too large".into());
            };
            let ln = u8::try_from(n.trailing_zeros()).map_err(|_| "scrypt N is too large".to_owned())?;
            scrypt_parsed(ln, r, p, salt.as_bytes().to_vec(), hex_decode(h)?)
        }
        _ => Err(unknown()),
    }
}

fn scrypt_parsed(log_n: u8, r: u32, p: u32, salt: Vec<u8>, hash: Vec<u8>) -> Result<Parsed, String> {
    let memory = 128u64
        .saturating_mul(u64::from(r))
        .saturating_mul(1u64 << log_n.min(63))
        .saturating_mul(u64::from(p));
    if log_n == 0 || log_n > 24 || r == 0 || p == 0 || memory > MAX_SCRYPT_BYTES {
        return Err(format!(
            "scrypt parameters must be sane and take at most {} MiB",
            MAX_SCRYPT_BYTES >> 20
        ));
    }
    scrypt::Params::new(log_n, r, p).map_err(|e| format!("scrypt parameters are invalid: {e}"))?;
    check_lengths(&salt, &hash)?;
    Ok(Parsed::Scrypt { log_n, r, p, salt, hash })
}

fn check_lengths(salt: &[u8], hash: &[u8]) -> Result<(), String> {
    if salt.is_empty() || salt.len() > 1024 || !(16..=128).contains(&hash.len()) {
        return Err("the salt or the hash has an impossible length".into());
    }
    Ok(())
}

/// Standard or passlib's "adapted" base64 (`.` for `+`), padding optional.
fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    STANDARD_NO_PAD
        .decode(s.trim_end_matches('=').replace('.', "+"))
        .map_err(|_| "a part of the hash is not base64".to_owned())
}

fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a part of the hash is not hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| "bad hex".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by other implementations: Python's bcrypt, passlib, argon2-cffi
    /// and hashlib (Werkzeug's formats), for the password "correct horse".
    const VECTORS: &[(&str, Scheme)] = &[
        ("$2b$04$VhtHsRCztwgfZ66qxMSLluuTSxUx93yRiVRcjEol1KkedTJeV/hnC", Scheme::Bcrypt),
        ("$2y$04$mxzGrVVvUvpVXJaL1ER5..o93fCl0wGW95Y0QbeANGUjRKEcLeNe.", Scheme::Bcrypt),
        (
            "$argon2i$v=19$m=1024,t=1,p=1$o//vh4EKAa1L5plV3dgpAA$PwNdbHY6j+PzF/d7JA70Im4MlS7R/sTKLt+9VSVsG4A",
            Scheme::Argon2,
        ),
        (
            "$argon2d$v=19$m=1024,t=1,p=1$gGnceNLXteT3S4Ym57A6Vg$VEjNSaWb4q5F+MSajQOExzBPpuNOjxfNQFKK2uyBWTg",
            Scheme::Argon2,
        ),
        (
            "$argon2id$v=19$m=1024,t=1,p=2$TxeCoYUhmR2jorR22GzQ8w$nji4sMsoT6T4TgFpdbiF1jMLGPv7DsByTxvJ3FhZ1Dw",
            Scheme::Argon2,
        ),
        (
            "$pbkdf2-sha256$1000$lbJ2jlGq9V6LUSolhLA2hg$eblszWq0Ae6tDAZM.04Ym6BNvtcAIBcNXNnHFXCgy7U",
            Scheme::Pbkdf2Sha256,
        ),
        (
            "pbkdf2_sha256$1000$8QYYzryloJow$E4f7OcOxGXLm8enRFOOPQUTJZa+gSEMgqwcV3VjItyA=",
            Scheme::Pbkdf2Sha256,
        ),
        (
            "pbkdf2:sha256:1000$Zk2pV3xQ$b0d3def5083200eb22f702a987aec271b23319b53489401f169e2081de4d10d5",
            Scheme::Pbkdf2Sha256,
        ),
        (
            "$scrypt$ln=10,r=8,p=1$+d87B4BwTgnhXKs1RoixFg$YAc2T4i+xtpM3aSXeAovkRn2PH4neR9DO8WOLocke7k",
            Scheme::Scrypt,
        ),
        (
            "scrypt:1024:8:1$Zk2pV3xQ$a1986107f18961607cd16b0975534e863e1066ad3aa83f552ff4951d22c54edb014e66fa4d25738298d0dc314db9a36ae32453de7d22ee5783d4f13faa68564d",
            Scheme::Scrypt,
        ),
    ];

    #[test]
    fn hashes_made_elsewhere_verify_the_right_password_only() {
        for (hash, want) in VECTORS {
            assert_eq!(scheme(hash), Ok(*want), "{hash}");
            assert!(verify(&Password::new("correct horse"), hash), "should verify {hash}");
            assert!(
                !verify(&Password::new("correct horsf"), hash),
                "should fail because the password is wrong: {hash}"
            );
            assert!(needs_rehash(hash), "{hash}");
        }
    }

    #[test]
    fn our_own_argon2id_needs_no_rehash() {
        let ours = crypto::hash_password(&Password::new("pw")).unwrap();
        assert_eq!(scheme(&ours), Ok(Scheme::Argon2id));
        assert!(!needs_rehash(&ours));
    }

    #[test]
    fn malformed_or_costly_hashes_are_refused_with_a_reason() {
        for (name, hash) in [
            ("should fail because the format is unknown", "md5$abc$def"),
            ("should fail because it is plain text", "hunter2"),
            (
                "should fail because the iterations are absurd",
                "pbkdf2_sha256$999999999$salt$E4f7OcOxGXLm8enRFOOPQUTJZa+gSEMgqwcV3VjItyA=",
            ),
            (
                "should fail because scrypt would take gigabytes",
                "$scrypt$ln=24,r=8,p=1$+d87B4BwTgnhXKs1RoixFg$YAc2T4i+xtpM3aSXeAovkRn2PH4neR9DO8WOLocke7k",
            ),
            (
                "should fail because N is not a power of two",
                "scrypt:1000:8:1$salt$a1986107f18961607cd16b0975534e86",
            ),
            ("should fail because the hex is odd", "pbkdf2:sha256:1000$salt$abc"),
            ("should fail because the hash is too short", "pbkdf2_sha256$1000$salt$AAAA"),
            (
                "should fail because the bcrypt cost is missing",
                "$2b$xx$VhtHsRCztwgfZ66qxMSLluuTSxUx93yRiVRcjEol1KkedTJeV/hnC",
            ),
            ("should fail because argon2 is truncated", "$argon2id$v=19$m=1024"),
        ] {
            assert!(scheme(hash).is_err(), "{name}");
            assert!(!verify(&Password::new("correct horse"), hash), "{name}");
        }
    }
}
