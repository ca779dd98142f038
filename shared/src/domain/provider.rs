//! Upstream identity providers (SPEC.md section 11): the OpenID Connect and
//! OAuth 2.0 providers an operator lets people sign in with, and the
//! single-use state of one sign-in through them. A provider's client
//! secret is never here: it is kept like the signing keys (an SSM
//! SecureString on AWS, a local file for `serve`).

use serde::{Deserialize, Serialize};

/// What kind of provider, and so which quirks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenID Connect provider, found from its issuer (discovery).
    Oidc,
    /// Any OAuth 2.0 provider with a user-info endpoint and a claim mapping.
    #[serde(rename = "oauth2")]
    OAuth2,
    /// GitHub: OAuth 2.0 only; the numeric user id, a primary verified address.
    GitHub,
    /// Google: OpenID Connect; its issuer has two spellings.
    Google,
    /// Microsoft Entra ID, multi-tenant: the issuer names the tenant (`tid`).
    Entra,
}

impl ProviderKind {
    /// Every kind.
    pub const ALL: [ProviderKind; 5] = [Self::Oidc, Self::OAuth2, Self::GitHub, Self::Google, Self::Entra];

    /// The kind's name, as the CLI and the seed file say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::OAuth2 => "oauth2",
            Self::GitHub => "github",
            Self::Google => "google",
            Self::Entra => "entra",
        }
    }

    /// The kind a name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the provider speaks OpenID Connect (an ID token, discovery).
    pub fn is_oidc(self) -> bool {
        matches!(self, Self::Oidc | Self::Google | Self::Entra)
    }
}

/// Which fields of an OAuth 2.0 provider's user-info answer say who the
/// person is (dotted paths into the JSON are not supported: top-level only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimMapping {
    /// The stable, unique id (a string or a number). Never a login name
    /// that can change hands.
    pub subject: String,
    /// The email address, if the provider gives one.
    pub email: Option<String>,
    /// Whether the address is verified (`true` only counts when it is
    /// exactly true, or the string "true").
    pub email_verified: Option<String>,
    /// The display name.
    pub name: Option<String>,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            subject: "sub".into(),
            email: Some("email".into()),
            email_verified: Some("email_verified".into()),
            name: Some("name".into()),
        }
    }
}

/// An upstream provider, as the operator configured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provider {
    /// Its id, lower-case letters, digits and `-`: on the sign-in form and in `idp`.
    pub id: String,
    /// Its kind.
    pub kind: ProviderKind,
    /// The name on the button ("Continue with …").
    pub name: String,
    /// An `https` URL of an icon for the button.
    #[serde(default)]
    pub icon: Option<String>,
    /// The issuer: where discovery starts for OpenID Connect kinds (Entra's
    /// multi-tenant `…/common/v2.0` included); for OAuth 2.0 kinds the name
    /// the identities are kept under.
    pub issuer: String,
    /// ZeroAuth's client id at the provider.
    pub client_id: String,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// The authorization endpoint (OAuth 2.0 kinds; overrides discovery otherwise).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The token endpoint (likewise).
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The user-info endpoint (likewise; GitHub's `/user`, whose
    /// `/emails` beside it lists the addresses).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// How an OAuth 2.0 provider's user info maps to a person.
    #[serde(default)]
    pub claims: ClaimMapping,
    /// Entra: the tenants whose people may sign in (empty: any).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// The clients whose sign-in page offers it (empty: every client).
    #[serde(default)]
    pub clients: Vec<String>,
    /// Whether a first sign-in may create a person (then the deployment's
    /// sign-up policy decides too); otherwise only linked people sign in.
    #[serde(default)]
    pub sign_up: bool,
    /// Whether the addresses it says are verified count as verified (to
    /// create a person with one, and to offer linking to its owner).
    #[serde(default = "yes")]
    pub trust_email: bool,
    /// The protected resources (URIs) whose own confidential clients may
    /// get the person's upstream access token by token exchange, after a
    /// sign-in for that resource; empty: none is kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_tokens_for: Vec<String>,
    /// Epoch seconds.
    pub created_at: i64,
}

fn yes() -> bool {
    true
}

impl Provider {
    /// Whether the person's upstream token is kept for `resource`.
    pub fn keeps_tokens_for(&self, resource: Option<&str>) -> bool {
        resource.is_some_and(|r| self.keep_tokens_for.iter().any(|k| k == r))
    }

    /// Whether `client_id`'s sign-in page offers this provider.
    pub fn offered_to(&self, client_id: &str) -> bool {
        self.clients.is_empty() || self.clients.iter().any(|c| c == client_id)
    }
}

/// Who the provider says signed in: the identity and what it claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamProfile {
    /// The provider's id.
    pub provider: String,
    /// The issuer the identity is kept under (Entra: the tenant's issuer).
    pub issuer: String,
    /// The provider's stable id for the person.
    pub subject: String,
    /// The address, if the provider gave one.
    pub email: Option<String>,
    /// Whether the provider vouched for the address (and is trusted to).
    pub email_verified: bool,
    /// The display name.
    pub name: Option<String>,
    /// The organisation the person belongs to at the provider (Entra's `tid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

impl UpstreamProfile {
    /// The address, when it counts as verified: only such an address finds
    /// or makes anyone.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }
}

/// One sign-in through a provider in progress: kept under the digest of the
/// `state` sent to the provider, bound to the browser by the digest of a
/// random cookie, spent by one conditional delete when the provider sends
/// the person back.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamState {
    /// Digest of the `state` parameter: the item's key.
    pub state: String,
    /// Digest of the browser's cookie: only that browser may spend it.
    pub binding: String,
    /// The provider's id.
    pub provider: String,
    /// The PKCE verifier (sent to the provider's token endpoint).
    pub verifier: String,
    /// The OpenID Connect nonce the ID token must carry.
    pub nonce: Option<String>,
    /// The authorization request to return to (a `PendingRequest`, as JSON).
    pub pending: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for UpstreamState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamState")
            .field("provider", &self.provider)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_one_name_each_and_the_state_hides_its_secrets() {
        for k in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).ok(), Some(serde_json::json!(k.as_str())));
        }
        let s = UpstreamState {
            state: "st".into(),
            binding: "b".into(),
            provider: "gh".into(),
            verifier: "the-verifier".into(),
            nonce: Some("the-nonce".into()),
            pending: "{}".into(),
            created_at: 0,
            expires_at: 1,
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("the-verifier") && !shown.contains("the-nonce"), "{shown}");
    }
}
