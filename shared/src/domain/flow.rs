//! Self-service flows (SPEC.md section 11): a browser's flow, known by a
//! random handle the browser holds in a cookie, and the code-and-link
//! challenge mailed to a person. Both are table items with a TTL; only
//! digests of the handle, the code and the link token are kept.

use serde::{Deserialize, Serialize};

/// What a mailed code proves, and what proving it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// The person owns their address (after sign-up, or before a sign-in
    /// the deployment holds back until they do).
    Verify,
    /// The person may choose a new password.
    Reset,
    /// An operator invited the address: its owner may set up the account.
    Invite,
    /// The person owns the new address they asked to change to.
    EmailChange,
    /// The person owns the account an upstream identity is to be linked to
    /// (a code only, typed in the browser that asked).
    Link,
    /// The person owns the address a sign-in code went to: it signs them
    /// in, or confirms a sign-in as its second step (a code only).
    SignIn,
}

impl ChallengeKind {
    /// Every kind.
    pub const ALL: [ChallengeKind; 6] =
        [Self::Verify, Self::Reset, Self::Invite, Self::EmailChange, Self::Link, Self::SignIn];

    /// The kind's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::Invite => "invite",
            Self::EmailChange => "email_change",
            Self::Link => "link",
            Self::SignIn => "sign_in",
        }
    }

    /// The kind a stored name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A browser's flow in progress: what it is for, whose account it concerns
/// (`None` when the address has none: the pages look the same either way),
/// and the authorization request to return to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Digest of the random handle in the browser's cookie: the item's key.
    pub handle: String,
    /// What the flow is for.
    pub kind: ChallengeKind,
    /// The person, when the address belongs to one.
    pub sub: Option<String>,
    /// The address as the person typed it (the new one for an email change).
    pub email: String,
    /// The authorization request the person started, as the sign-in page
    /// sealed it (opaque here), to return to when the flow ends.
    pub return_to: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    /// The flow is gone after this.
    pub expires_at: i64,
}

/// A code and a link mailed to a person: one live challenge per person and
/// kind, so a new one replaces the previous one.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Challenge {
    /// The person.
    pub sub: String,
    /// What it proves.
    pub kind: ChallengeKind,
    /// The address it was sent to (the new one for an email change).
    pub email: String,
    /// Keyed digest of the 6-digit code.
    pub code_digest: String,
    /// Keyed digest of the link token.
    pub link_digest: String,
    /// The handle digest of the flow that asked for it: the code is good
    /// only in that flow (the link is good in any browser). `None` for an
    /// invitation, which has no flow.
    pub flow: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    /// The challenge is gone after this.
    pub expires_at: i64,
}

impl std::fmt::Debug for Challenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenge")
            .field("sub", &self.sub)
            .field("kind", &self.kind)
            .field("code_digest", &"[redacted]")
            .field("link_digest", &"[redacted]")
            .field("flow", &self.flow.is_some())
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What is presented against a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// The code typed into the flow's page: good only for the challenge of
    /// that flow (`flow` is its handle digest).
    Code {
        /// Keyed digest of the code.
        digest: &'a str,
        /// The flow's handle digest.
        flow: &'a str,
    },
    /// The token of the mailed link.
    Link {
        /// Keyed digest of the token.
        digest: &'a str,
    },
}

impl Challenge {
    /// Whether `proof` matches this challenge (the stores decide with this).
    pub fn accepts(&self, proof: &Proof<'_>) -> bool {
        use subtle::ConstantTimeEq;
        match proof {
            Proof::Code { digest, flow } => {
                bool::from(self.code_digest.as_bytes().ct_eq(digest.as_bytes()))
                    && self.flow.as_deref() == Some(*flow)
            }
            Proof::Link { digest } => bool::from(self.link_digest.as_bytes().ct_eq(digest.as_bytes())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            sub: "za_user_1".into(),
            kind: ChallengeKind::Reset,
            email: "a@example.com".into(),
            code_digest: "code-d".into(),
            link_digest: "link-d".into(),
            flow: Some("flow-d".into()),
            created_at: 0,
            expires_at: 10,
        }
    }

    #[test]
    fn a_code_is_good_only_in_its_flow_and_a_link_anywhere() {
        let c = challenge();
        assert!(c.accepts(&Proof::Code { digest: "code-d", flow: "flow-d" }));
        assert!(!c.accepts(&Proof::Code { digest: "code-d", flow: "other" }));
        assert!(!c.accepts(&Proof::Code { digest: "link-d", flow: "flow-d" }));
        assert!(c.accepts(&Proof::Link { digest: "link-d" }));
        assert!(!c.accepts(&Proof::Link { digest: "code-d" }));
        assert!(!format!("{c:?}").contains("code-d"));
    }

    #[test]
    fn kinds_round_trip_their_names() {
        for k in ChallengeKind::ALL {
            assert_eq!(ChallengeKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ChallengeKind::parse("nope"), None);
    }
}
