//! Secret values as newtypes: no `Display`, a redacting `Debug`, a
//! `secret()` accessor, and constant-time comparison.

use subtle::ConstantTimeEq;

pub mod providers;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself. Never log it.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Constant-time equality with another value.
            pub fn ct_eq(&self, other: &str) -> bool {
                self.0.as_bytes().ct_eq(other.as_bytes()).into()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// A client secret as the client sends it.
    ClientSecret
);
secret_type!(
    /// A user's password as typed.
    Password
);
secret_type!(
    /// An access token (`za_at_…`).
    AccessToken
);
secret_type!(
    /// A refresh token (`za_rt_…`).
    RefreshToken
);
secret_type!(
    /// An authorization code (`za_ac_…`).
    AuthCode
);
secret_type!(
    /// A PKCE code verifier (RFC 7636).
    CodeVerifier
);

/// The HMAC key that signs the authorization request blob and session cookies.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The key bytes. Never log them.
    pub fn secret(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_every_secret() {
        assert_eq!(format!("{:?}", ClientSecret::new("s3cr3t")), "ClientSecret([redacted])");
        assert_eq!(format!("{:?}", Password::new("hunter2")), "Password([redacted])");
        assert_eq!(format!("{:?}", AccessToken::new("za_at_x")), "AccessToken([redacted])");
        assert_eq!(format!("{:?}", SigningKey::new(vec![1, 2, 3])), "SigningKey([redacted])");
    }

    #[test]
    fn constant_time_equality_compares_whole_values() {
        let s = ClientSecret::new("abc");
        assert!(s.ct_eq("abc"));
        assert!(!s.ct_eq("abd"));
        assert!(!s.ct_eq("ab"));
    }
}
