//! People (SPEC.md section 10): a person is found by the immutable `sub`;
//! each way to find them (a username today; a verified email address or an
//! upstream identity later) is an [`Identifier`] of its own, unique, pointing
//! at the `sub`; what proves who they are (a password today) is a
//! [`Credential`] of theirs. A person may have no credential of some kind.

use serde::{Deserialize, Serialize};

pub use super::factor::{PasskeyData, TotpData};

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Stable subject identifier handed to clients; the person's key.
    pub sub: String,
    /// Sign-in name, lower-case, if the person has one. Its
    /// [`Identifier::Username`] item is what finds them by it.
    #[serde(default)]
    pub username: Option<String>,
    /// The person's email address, if any. Its [`Identifier::Email`] item
    /// finds them by it (for people created from this release on).
    pub email: Option<String>,
    /// Whether the person proved they own `email`. An address an operator
    /// set is taken as verified (so records of an earlier release, which
    /// lack the field, are); one a person typed at sign-up is verified once
    /// they enter the mailed code or follow its link.
    #[serde(default = "verified_by_default")]
    pub email_verified: bool,
    /// Optional display name claim.
    pub name: Option<String>,
    /// A disabled person cannot sign in and their tokens stop working.
    pub disabled: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// The credential epoch: a session is bound to the epoch it started in,
    /// and a password change, a sign-out or disabling the person moves it
    /// on, which ends every earlier session.
    #[serde(default)]
    pub epoch: i64,
    /// Token families (grants) created at or before this time (epoch
    /// seconds) are revoked: a password reset sets it. 0: none.
    #[serde(default)]
    pub tokens_revoked_at: i64,
    /// The upstream identities linked to the person (each also an
    /// [`Identifier::Upstream`] item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<UpstreamLink>,
    /// The person's WebAuthn user handle (a UUID), once they enrolled a
    /// passkey: a discoverable passkey names it, and its
    /// [`Identifier::Passkey`] item finds the person by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_user: Option<String>,
}

/// An upstream identity linked to a person: `(issuer, subject)`, and the
/// provider it came through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamLink {
    /// The provider's id.
    pub provider: String,
    /// The issuer the identity is kept under.
    pub issuer: String,
    /// The provider's id for the person.
    pub subject: String,
    /// Epoch seconds.
    pub linked_at: i64,
}

impl UpstreamLink {
    /// The identifier that finds the person by this identity.
    pub fn identifier(&self) -> Identifier {
        Identifier::Upstream { issuer: self.issuer.clone(), subject: self.subject.clone() }
    }
}

fn verified_by_default() -> bool {
    true
}

impl User {
    /// Whether the person may sign in and their tokens may be issued and used.
    pub fn is_active(&self) -> bool {
        !self.disabled
    }

    /// Every identifier that finds this person.
    pub fn identifiers(&self) -> Vec<Identifier> {
        let username = self.username.iter().map(|u| Identifier::Username(u.clone()));
        let email = self.email.as_deref().map(Identifier::email);
        let passkey = self.passkey_user.iter().map(|h| Identifier::Passkey(h.clone()));
        username
            .chain(email)
            .chain(self.upstream.iter().map(UpstreamLink::identifier))
            .chain(passkey)
            .collect()
    }

    /// Whether `address` is this person's address (compared as identifiers:
    /// the case does not count).
    pub fn has_address(&self, address: &str) -> bool {
        self.email.as_deref().map(Identifier::email) == Some(Identifier::email(address))
    }

    /// Whether a grant created at `created_at` was revoked by a reset since.
    pub fn revoked_grant(&self, created_at: i64) -> bool {
        created_at <= self.tokens_revoked_at
    }

    /// What the person is called on pages: the username, else the name,
    /// else the email address, else the `sub`.
    pub fn display_name(&self) -> &str {
        self.username.as_deref().or(self.name.as_deref()).or(self.email.as_deref()).unwrap_or(&self.sub)
    }
}

/// A way to find a person, unique across people.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Identifier {
    /// A sign-in name, lower-case.
    Username(String),
    /// An email address, lower-case (see [`Identifier::email`]).
    Email(String),
    /// An identity at an upstream provider: `(issuer, subject)`, never an
    /// address (which the provider may not own) or a login (which can be
    /// renamed and reused).
    Upstream {
        /// The issuer.
        issuer: String,
        /// The provider's stable id for the person.
        subject: String,
    },
    /// A WebAuthn user handle (a UUID, [`User::passkey_user`]).
    Passkey(String),
}

impl Identifier {
    /// The identifier as one string, its key in every store:
    /// `username:alice`.
    pub fn key(&self) -> String {
        match self {
            Self::Username(u) => format!("username:{u}"),
            Self::Email(e) => format!("email:{e}"),
            // An issuer has no fragment, so `#` cannot be part of it.
            Self::Upstream { issuer, subject } => format!("upstream:{issuer}#{subject}"),
            Self::Passkey(h) => format!("passkey:{h}"),
        }
    }

    /// The identifier of an email address: the whole address lower-cased
    /// (two accounts differing only in the case of the address are refused).
    pub fn email(address: &str) -> Self {
        Self::Email(address.trim().to_lowercase())
    }

    /// The username, for an [`Identifier::Username`].
    pub fn username(&self) -> Option<&str> {
        match self {
            Self::Username(u) => Some(u),
            Self::Email(_) | Self::Upstream { .. } | Self::Passkey(_) => None,
        }
    }
}

/// The kinds of credential a person can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A password, hashed.
    Password,
    /// A WebAuthn passkey.
    Passkey,
    /// A TOTP authenticator app (RFC 6238).
    Totp,
    /// One single-use recovery code.
    Recovery,
}

impl CredentialKind {
    /// The kind's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::Totp => "totp",
            Self::Recovery => "recovery",
        }
    }
}

/// What a credential holds, by kind.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CredentialData {
    /// A password: its PHC hash (argon2id, or an imported scheme until the
    /// first sign-in rehashes it).
    Password {
        /// The PHC string.
        hash: String,
    },
    /// A passkey (its id is a digest of the WebAuthn credential id).
    Passkey(PasskeyData),
    /// A TOTP authenticator (its id is `totp`: one per person).
    Totp(TotpData),
    /// A recovery code (its id is the code's digest; it holds nothing else).
    Recovery {},
}

impl std::fmt::Debug for CredentialData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Password { .. } => f.write_str("Password { hash: [redacted] }"),
            Self::Passkey(p) => f.debug_tuple("Passkey").field(p).finish(),
            Self::Totp(t) => f.debug_tuple("Totp").field(t).finish(),
            Self::Recovery {} => f.write_str("Recovery"),
        }
    }
}

/// One credential of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    /// The person it belongs to.
    pub sub: String,
    /// Its id among the person's credentials of its kind (`password` for the
    /// one password; a passkey's credential id later).
    pub id: String,
    /// What it holds.
    pub data: CredentialData,
    /// Epoch seconds.
    pub created_at: i64,
}

impl Credential {
    /// The id of a person's one password credential.
    pub const PASSWORD_ID: &'static str = "password";

    /// A password credential for `sub` with the PHC string `hash`.
    pub fn password(sub: &str, hash: String, now: i64) -> Self {
        Self {
            sub: sub.to_owned(),
            id: Self::PASSWORD_ID.to_owned(),
            data: CredentialData::Password { hash },
            created_at: now,
        }
    }

    /// The credential's kind.
    pub fn kind(&self) -> CredentialKind {
        match self.data {
            CredentialData::Password { .. } => CredentialKind::Password,
            CredentialData::Passkey(_) => CredentialKind::Passkey,
            CredentialData::Totp(_) => CredentialKind::Totp,
            CredentialData::Recovery {} => CredentialKind::Recovery,
        }
    }

    /// The password hash, for a password credential.
    pub fn password_hash(&self) -> Option<&str> {
        match &self.data {
            CredentialData::Password { hash } => Some(hash),
            _ => None,
        }
    }

    /// The credential's key among the person's: `password:password`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind().as_str(), self.id)
    }
}

/// How a person signed in (RFC 8176 `amr` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amr {
    /// A password.
    Pwd,
    /// An upstream identity provider (federation).
    Fed,
    /// A one-time code: TOTP, a mailed code or a recovery code.
    Otp,
    /// A hardware-bound key (a device-bound passkey).
    Hwk,
    /// A software-secured key (a synced passkey).
    Swk,
    /// A user presence and verification test (a passkey's UV).
    User,
    /// More than one factor (a second factor, or a user-verifying passkey).
    Mfa,
}

impl Amr {
    /// The RFC 8176 value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pwd => "pwd",
            Self::Fed => "fed",
            Self::Otp => "otp",
            Self::Hwk => "hwk",
            Self::Swk => "swk",
            Self::User => "user",
            Self::Mfa => "mfa",
        }
    }

    /// The method an RFC 8176 value names, if ZeroAuth has it.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pwd" => Some(Self::Pwd),
            "fed" => Some(Self::Fed),
            "otp" => Some(Self::Otp),
            "hwk" => Some(Self::Hwk),
            "swk" => Some(Self::Swk),
            "user" => Some(Self::User),
            "mfa" => Some(Self::Mfa),
            _ => None,
        }
    }

    /// The values of `amr`, as stored and sent.
    pub fn names(amr: &[Amr]) -> Vec<String> {
        amr.iter().map(|a| a.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_never_shows_in_debug() {
        let c = Credential::password("s", "$argon2id$v=19$secret-ish".into(), 0);
        assert!(!format!("{c:?}").contains("secret-ish"));
        assert_eq!(c.key(), "password:password");
        assert_eq!(c.kind(), CredentialKind::Password);
    }

    #[test]
    fn identifiers_have_one_key_each_and_a_person_lists_theirs() {
        assert_eq!(Identifier::Username("alice".into()).key(), "username:alice");
        let mut p = User {
            sub: "za_user_1".into(),
            username: None,
            email: Some("a@example.com".into()),
            email_verified: true,
            name: None,
            disabled: false,
            created_at: 0,
            epoch: 0,
            tokens_revoked_at: 0,
            upstream: vec![],
            passkey_user: None,
        };
        assert_eq!(p.identifiers(), vec![Identifier::Email("a@example.com".into())]);
        assert_eq!(p.display_name(), "a@example.com");
        p.username = Some("alice".into());
        p.email = Some(" A@Example.COM".into());
        assert_eq!(
            p.identifiers(),
            vec![Identifier::Username("alice".into()), Identifier::Email("a@example.com".into())]
        );
        assert_eq!(Identifier::email("A@x.org").key(), "email:a@x.org");
        assert_eq!(p.display_name(), "alice");
    }
}
