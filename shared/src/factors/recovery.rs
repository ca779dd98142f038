//! Recovery codes: ten single-use codes of 80 random bits each, shown once
//! and kept as SHA-256 digests (at 80 bits a fast digest is enough: nobody
//! can search that space, unlike a password's). Each is a credential of its
//! own, spent by one conditional delete, so a code used twice is refused.

use crate::crypto::{self, RandomError};
use crate::domain::{Credential, CredentialData, CredentialKind};

/// How many codes a set has.
pub const COUNT: usize = 10;
/// The alphabet: Crockford's base32 in lower case (no `i l o u`, so no
/// letter passes for a digit), 32 symbols, 5 bits each.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Symbols per code: 16 × 5 = 80 bits.
const LEN: usize = 16;

/// One recovery code. Never printed but on its page.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// The code as shown once: `xxxx-xxxx-xxxx-xxxx`.
    pub fn display(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
    }
}

/// A new set of [`COUNT`] codes.
pub fn generate() -> Result<Vec<RecoveryCode>, RandomError> {
    (0..COUNT)
        .map(|_| {
            let bytes = crypto::random_bytes(LEN)?;
            // 256 is a multiple of 32: taking the low 5 bits is unbiased.
            Ok(RecoveryCode(bytes.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect()))
        })
        .collect()
}

/// A typed code as kept: case, spaces and dashes ignored; `None` unless it
/// has the length and alphabet of a code.
pub fn normalise(typed: &str) -> Option<String> {
    let code: String =
        typed.chars().filter(|c| !matches!(c, ' ' | '-')).flat_map(char::to_lowercase).collect();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The digest a code is kept as.
pub fn digest(normalised: &str) -> String {
    crypto::digest(&format!("zeroauth recovery code:{normalised}"))
}

/// The credentials of a set of codes for `sub`.
pub fn credentials(sub: &str, codes: &[RecoveryCode], now: i64) -> Vec<Credential> {
    codes
        .iter()
        .map(|c| Credential {
            sub: sub.to_owned(),
            id: digest(&c.0),
            data: CredentialData::Recovery {},
            created_at: now,
        })
        .collect()
}

/// The credential key (`recovery:<digest>`) a typed code names, to spend
/// with one conditional delete.
pub fn key_for(typed: &str) -> Option<String> {
    normalise(typed).map(|c| format!("{}:{}", CredentialKind::Recovery.as_str(), digest(&c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_has_ten_distinct_codes_of_80_bits_kept_as_digests() {
        let codes = generate().unwrap_or_default();
        assert_eq!(codes.len(), COUNT);
        let mut shown: Vec<String> = codes.iter().map(RecoveryCode::display).collect();
        shown.sort();
        shown.dedup();
        assert_eq!(shown.len(), COUNT, "distinct");
        let first = codes.first().cloned().unwrap_or(RecoveryCode(String::new()));
        assert_eq!(first.display().len(), 19, "{}", first.display());
        assert!(!format!("{first:?}").contains(&first.0));
        let creds = credentials("s", &codes, 0);
        assert_eq!(creds.first().map(Credential::key), key_for(&first.display().to_uppercase()));
        assert!(creds.iter().all(|c| !c.id.contains(&first.0)));
    }

    #[test]
    fn typed_codes_are_normalised_and_others_refused() {
        assert_eq!(normalise("ABCD-efgh 2345-6789").as_deref(), Some("abcdefgh23456789"));
        for bad in ["", "abcd-efgh-2345", "abcd-efgh-2345-678u", "abcd-efgh-2345-67890"] {
            assert_eq!(normalise(bad), None, "{bad:?}");
        }
        assert_ne!(key_for("abcd-efgh-2345-6789"), key_for("abcd-efgh-2345-6788"));
    }
}
