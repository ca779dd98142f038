//! Second factors and passkeys (SPEC.md section 11): the checks each factor
//! makes, apart from the pages and the sign-in interaction that use them.
//!
//! - [`passkey`]: WebAuthn ceremonies with `webauthn-rs`, and the page script;
//! - [`totp`]: RFC 6238 codes, a sealed secret, a step never accepted twice;
//! - [`recovery`]: ten single-use codes, kept as digests.

pub mod passkey;
pub mod recovery;
pub mod totp;
