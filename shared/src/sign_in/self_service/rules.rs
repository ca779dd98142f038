//! What a new password must be (NIST SP 800-63B 3.1.1.2): at least 8
//! characters, at most 256, no composition rules, and not one that is
//! common or easily guessed, by an offline estimate (`zxcvbn`: its
//! dictionaries of common and leaked passwords, names and words, keyboard
//! walks and dates). Nothing leaves the machine.

/// The fewest characters (Unicode scalar values) a password may have.
pub const MIN_CHARS: usize = 8;
/// The most.
pub const MAX_CHARS: usize = 256;

/// Why a new password is refused, in plain words for the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Weak {
    /// Too short.
    #[error("Choose a password of at least 8 characters.")]
    TooShort,
    /// Too long.
    #[error("Choose a password of at most 256 characters.")]
    TooLong,
    /// Common or easily guessed.
    #[error("That password is too common or too easy to guess. Try a longer phrase of unrelated words.")]
    Guessable,
    /// It repeats the person's own address or name.
    #[error("Your password must not contain your email address or name.")]
    Personal,
}

/// Checks a new password against the rules; `personal` are the address,
/// name and username the person gave, which it must not be built from.
pub fn check(password: &str, personal: &[&str]) -> Result<(), Weak> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(Weak::TooLong);
    }
    let lower = password.to_lowercase();
    let mut inputs: Vec<&str> = Vec::new();
    for p in personal.iter().map(|p| p.trim()).filter(|p| p.chars().count() >= 4) {
        let local = p.split('@').next().unwrap_or(p);
        if lower.contains(&p.to_lowercase())
            || (local.chars().count() >= 4 && lower.contains(&local.to_lowercase()))
        {
            return Err(Weak::Personal);
        }
        inputs.push(p);
        inputs.push(local);
    }
    // zxcvbn's cost grows with length; past 100 characters a password is
    // not guessable by its estimates anyway.
    let head: String = password.chars().take(100).collect();
    let estimate = zxcvbn::zxcvbn(&head, &inputs);
    // Fewer than 10^8 guesses: zxcvbn's "somewhat guessable" and below.
    if estimate.guesses_log10() < 8.0 {
        return Err(Weak::Guessable);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_the_only_shape_rule() {
        assert_eq!(check("Ab1!", &[]), Err(Weak::TooShort));
        assert_eq!(check(&"x".repeat(257), &[]), Err(Weak::TooLong));
        // Eight characters of unrelated letters, no digits or symbols: fine.
        assert_eq!(check("qmvtrzhk", &[]), Ok(()));
        // A long phrase of plain words: fine.
        assert_eq!(check("correct horse battery staple", &[]), Ok(()));
        // Unicode counts by character, not byte.
        assert_eq!(check("ääääääa", &[]), Err(Weak::TooShort));
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        for common in ["password", "password1", "12345678", "qwertyuiop", "iloveyou1", "Passw0rd!"] {
            assert_eq!(check(common, &[]), Err(Weak::Guessable), "{common}");
        }
        assert_eq!(check("dana.scully1994", &["dana.scully@example.com"]), Err(Weak::Personal));
        assert_eq!(
            check("xx-Example-Corp-xx", &["Example Corp"]),
            Ok(()),
            "a name with a space is not in it"
        );
    }
}
