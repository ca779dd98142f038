//! One module per endpoint. Each parses its request once and returns
//! `Result<Response, OAuthError>`; the router turns an error into the
//! response its endpoint speaks. No endpoint imports another: what they
//! share lives in [`crate::oauth`], [`crate::grants`] and [`crate::sign_in`].

pub mod authorize;
pub mod callback;
pub mod discovery;
pub mod email;
pub mod email_code;
pub mod factor;
pub mod federation;
pub mod introspect;
pub mod logout;
pub mod passkey;
pub mod register;
pub mod reset;
pub mod revoke;
pub mod security;
pub mod signup;
pub mod token;
pub mod userinfo;
pub mod verify;
