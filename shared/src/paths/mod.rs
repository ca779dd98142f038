//! The endpoints ZeroAuth serves, by name, path and method, and the Lambda
//! function that owns each: one table that the router, discovery, the
//! aliases and the CLI read. It sits below them all, so discovery can name
//! paths without importing the router that mounts it.

use http::Method;

pub mod aliases;

/// The Lambda function that owns an endpoint (SPEC.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `GET /authorize`.
    Authorize,
    /// `POST /callback`, `/logout`, the self-service pages and federation's.
    Callback,
    /// `POST /token`, `/revoke`, `/introspect`, `/register`.
    Token,
    /// `/userinfo` and the discovery documents.
    Userinfo,
}

impl Function {
    /// The function's package (and binary) name, as `cargo lambda` and the
    /// SAM template know it.
    pub const fn package(self) -> &'static str {
        match self {
            Self::Authorize => "zeroauth-authorize",
            Self::Callback => "zeroauth-callback",
            Self::Token => "zeroauth-token",
            Self::Userinfo => "zeroauth-userinfo",
        }
    }
}

/// Every endpoint ZeroAuth serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// RFC 6749 3.1.
    Authorize,
    /// The sign-in form's target.
    Callback,
    /// RFC 6749 3.2.
    Token,
    /// RFC 7009.
    Revoke,
    /// RFC 7662.
    Introspect,
    /// OpenID Connect Core 5.3.
    Userinfo,
    /// RFC 8414.
    AuthorizationServerMetadata,
    /// OpenID Connect Discovery 1.0.
    OpenIdConfiguration,
    /// OpenID Connect RP-Initiated Logout 1.0.
    Logout,
    /// RFC 7517: the published signing keys.
    Jwks,
    /// RFC 7591: dynamic client registration.
    Register,
    /// Self-service sign-up (SPEC.md section 11).
    SignUp,
    /// The code page and mailed link of an email verification or change.
    Verify,
    /// The password reset.
    Reset,
    /// A signed-in person's email change.
    AccountEmail,
    /// Where upstream providers send people back (SPEC.md section 11).
    FederationCallback,
    /// The connect page's target: linking an upstream identity to an account.
    FederationLink,
    /// The second step of a sign-in: the factor page's forms.
    SignInFactor,
    /// A sign-in code mailed to the person: its page.
    SignInEmail,
    /// A WebAuthn ceremony's options, for the pages' passkey script.
    PasskeyOptions,
    /// A signed-in person's passkeys, authenticator app and recovery codes.
    AccountSecurity,
}

impl Endpoint {
    /// Every endpoint, in the order discovery lists them.
    pub const ALL: [Endpoint; 21] = [
        Self::Authorize,
        Self::Callback,
        Self::Token,
        Self::Revoke,
        Self::Introspect,
        Self::Userinfo,
        Self::AuthorizationServerMetadata,
        Self::OpenIdConfiguration,
        Self::Logout,
        Self::Jwks,
        Self::Register,
        Self::SignUp,
        Self::Verify,
        Self::Reset,
        Self::AccountEmail,
        Self::FederationCallback,
        Self::FederationLink,
        Self::SignInFactor,
        Self::SignInEmail,
        Self::PasskeyOptions,
        Self::AccountSecurity,
    ];

    /// The canonical path.
    pub const fn path(self) -> &'static str {
        match self {
            Self::Authorize => "/authorize",
            Self::Callback => "/callback",
            Self::Token => "/token",
            Self::Revoke => "/revoke",
            Self::Introspect => "/introspect",
            Self::Userinfo => "/userinfo",
            Self::AuthorizationServerMetadata => "/.well-known/oauth-authorization-server",
            Self::OpenIdConfiguration => "/.well-known/openid-configuration",
            Self::Logout => "/logout",
            Self::Jwks => "/jwks",
            Self::Register => "/register",
            Self::SignUp => "/signup",
            Self::Verify => "/verify",
            Self::Reset => "/reset",
            Self::AccountEmail => "/account/email",
            Self::FederationCallback => "/federation/callback",
            Self::FederationLink => "/federation/link",
            Self::SignInFactor => "/login/factor",
            Self::SignInEmail => "/login/email",
            Self::PasskeyOptions => "/passkey/options",
            Self::AccountSecurity => "/account/security",
        }
    }

    /// Its name in route-alias configuration.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::Callback => "callback",
            Self::Token => "token",
            Self::Revoke => "revoke",
            Self::Introspect => "introspect",
            Self::Userinfo => "userinfo",
            Self::Logout => "logout",
            Self::Jwks => "jwks",
            Self::Register => "register",
            Self::SignUp => "signup",
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::AccountEmail => "account-email",
            Self::FederationCallback => "federation-callback",
            Self::FederationLink => "federation-link",
            Self::SignInFactor => "login-factor",
            Self::SignInEmail => "login-email",
            Self::PasskeyOptions => "passkey-options",
            Self::AccountSecurity => "account-security",
            Self::AuthorizationServerMetadata => "oauth-authorization-server",
            Self::OpenIdConfiguration => "openid-configuration",
        }
    }

    /// The endpoint of that name.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The methods it answers (HEAD too wherever GET is).
    pub const fn methods(self) -> &'static [Method] {
        match self {
            Self::Authorize
            | Self::AuthorizationServerMetadata
            | Self::OpenIdConfiguration
            | Self::Jwks
            | Self::FederationCallback => &[Method::GET],
            Self::Callback
            | Self::Token
            | Self::Revoke
            | Self::Introspect
            | Self::Register
            | Self::FederationLink
            | Self::SignInFactor
            | Self::SignInEmail
            | Self::PasskeyOptions => &[Method::POST],
            Self::Userinfo
            | Self::Logout
            | Self::SignUp
            | Self::Verify
            | Self::Reset
            | Self::AccountEmail
            | Self::AccountSecurity => &[Method::GET, Method::POST],
        }
    }

    /// The Lambda function that owns it.
    pub const fn function(self) -> Function {
        match self {
            Self::Authorize => Function::Authorize,
            Self::Callback
            | Self::Logout
            | Self::SignUp
            | Self::Verify
            | Self::Reset
            | Self::AccountEmail
            | Self::FederationCallback
            | Self::FederationLink
            | Self::SignInFactor
            | Self::SignInEmail
            | Self::PasskeyOptions
            | Self::AccountSecurity => Function::Callback,
            Self::Token | Self::Revoke | Self::Introspect | Self::Register => Function::Token,
            Self::Userinfo | Self::AuthorizationServerMetadata | Self::OpenIdConfiguration | Self::Jwks => {
                Function::Userinfo
            }
        }
    }

    /// The endpoint at `path` (a trailing slash is ignored).
    pub fn at(path: &str) -> Option<Self> {
        let path = path.trim_end_matches('/');
        Self::ALL.into_iter().find(|e| e.path() == path)
    }

    /// Whether browsers on other origins may call it (CORS with `*` and no
    /// credentials): every endpoint but the sign-in pages, which must never
    /// be read by another origin.
    pub const fn cors(self) -> bool {
        !matches!(self.function(), Function::Authorize | Function::Callback)
    }
}
