//! The email addresses ZeroAuth accepts: what a person types on a page and
//! what a transport will send to.
//!
//! Deliberately narrower than RFC 5322 (no quoted local parts, comments or
//! address literals) and wide enough for real addresses, internationalised
//! ones included (RFC 6531: UTF-8 letters in either part).

use std::fmt;

/// RFC 5321 4.5.3.1.3: a path is at most 256 octets including the angle
/// brackets, which leaves 254 for the address.
pub const MAX_LEN: usize = 254;
/// RFC 5321 4.5.3.1.1: the local part is at most 64 octets.
pub const MAX_LOCAL_LEN: usize = 64;
/// RFC 1035 2.3.4: a label is at most 63 octets.
const MAX_LABEL_LEN: usize = 63;

/// Why an address was refused; its `Display` is a sentence for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadAddress {
    /// Not an address this server can send to.
    Invalid,
    /// Longer than [`MAX_LEN`], or a local part longer than [`MAX_LOCAL_LEN`].
    TooLong,
}

impl fmt::Display for BadAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "That email address is not valid.",
            Self::TooLong => "That email address is too long.",
        })
    }
}

impl std::error::Error for BadAddress {}

/// The address in `input`, trimmed, or why it is not one.
pub fn parse(input: &str) -> Result<String, BadAddress> {
    let address = input.trim();
    if address.len() > MAX_LEN {
        return Err(BadAddress::TooLong);
    }
    let (local, domain) = match address.split_once('@') {
        Some((local, domain)) if !domain.contains('@') => (local, domain),
        _ => return Err(BadAddress::Invalid),
    };
    if local.len() > MAX_LOCAL_LEN {
        return Err(BadAddress::TooLong);
    }
    if !local_part_ok(local) || !domain_ok(domain) {
        return Err(BadAddress::Invalid);
    }
    Ok(address.to_owned())
}

/// A dot-atom: atoms of allowed characters joined by single dots. ASCII
/// only: SES refuses other local parts and many SMTP servers lack
/// SMTPUTF8, so an account could be made for an address no mail reaches
/// (a Unicode domain is fine: it goes out as punycode).
fn local_part_ok(local: &str) -> bool {
    !local.is_empty()
        && local.is_ascii()
        && local.split('.').all(|atom| !atom.is_empty())
        && local.chars().all(|c| c == '.' || atom_char(c))
}

fn atom_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\@".contains(c))
}

/// Two or more labels of letters, digits and inner hyphens.
fn domain_ok(domain: &str) -> bool {
    let mut labels = 0;
    for label in domain.split('.') {
        labels += 1;
        let ok = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c == '-' || c.is_alphanumeric());
        if !ok {
            return false;
        }
    }
    labels >= 2
}

/// The domain of an address [`parse`] accepted (what logs may name).
pub fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_have_are_accepted_trimmed() {
        for (input, want) in [
            ("alice@example.com", "alice@example.com"),
            ("  Alice.Smith+tag@mail.example.co.uk \n", "Alice.Smith+tag@mail.example.co.uk"),
            ("o'brien@example.ie", "o'brien@example.ie"),
            ("x@a-b.example", "x@a-b.example"),
            ("joerg@bücher.de", "joerg@bücher.de"),
            ("yonghu@例子.广告", "yonghu@例子.广告"),
        ] {
            assert_eq!(parse(input).as_deref(), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for input in [
            "",
            "jörg@bücher.de",
            "用户@例子.广告",
            "alice",
            "alice@",
            "@example.com",
            "alice@@example.com",
            "a@b@example.com",
            "alice@localhost",
            "alice@example..com",
            "alice@.example.com",
            "alice@example.com.",
            "alice@-example.com",
            "alice@example-.com",
            "alice@exa_mple.com",
            ".alice@example.com",
            "alice.@example.com",
            "al..ice@example.com",
            "al ice@example.com",
            "alice@exa mple.com",
            "Alice <alice@example.com>",
            "alice@example.com, bob@example.com",
            "alice;bob@example.com",
            "\"alice\"@example.com",
            "alice(x)@example.com",
            "alice@[127.0.0.1]",
            "back\\slash@example.com",
            "colon:@example.com",
        ] {
            assert_eq!(parse(input), Err(BadAddress::Invalid), "{input:?}");
        }
    }

    #[test]
    fn header_injection_is_refused() {
        for input in [
            "a@b.com\r\nBcc: x@y.com",
            "a@b.com\nBcc: x@y.com",
            "a\r@b.com",
            "a@b.com\u{0}",
            "a\t@b.com",
            "a@b\u{85}.com",
        ] {
            assert_eq!(parse(input), Err(BadAddress::Invalid), "{input:?}");
        }
    }

    #[test]
    fn over_long_addresses_are_refused_as_too_long() {
        let local64 = "a".repeat(64);
        assert!(parse(&format!("{local64}@example.com")).is_ok());
        assert_eq!(parse(&format!("{local64}a@example.com")), Err(BadAddress::TooLong));
        let domain = format!("{}.com", vec!["b".repeat(60); 4].join("."));
        let at_limit = format!("{}@{domain}", "a".repeat(MAX_LEN - 1 - domain.len()));
        assert_eq!(at_limit.len(), MAX_LEN);
        assert!(parse(&at_limit).is_ok());
        assert_eq!(parse(&format!("a{at_limit}")), Err(BadAddress::TooLong));
        assert_eq!(parse(&format!("x@{}.com", "b".repeat(64))), Err(BadAddress::Invalid));
    }

    #[test]
    fn the_errors_read_as_sentences() {
        assert_eq!(BadAddress::Invalid.to_string(), "That email address is not valid.");
        assert_eq!(BadAddress::TooLong.to_string(), "That email address is too long.");
    }
}
