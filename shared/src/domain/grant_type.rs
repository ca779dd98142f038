//! The catalogue of grant types: each grant's names and who may have it,
//! listed once. The token endpoint, discovery, `/register`, client metadata
//! documents, the CLI, the seed file and the store all read it, so a new
//! grant is one entry here (and its handler in `grants/`).

use serde::{Deserialize, Serialize};

/// The OAuth grant types a client can be registered for; stored by their
/// RFC names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum GrantType {
    /// RFC 6749 4.1.
    AuthorizationCode,
    /// RFC 6749 6.
    RefreshToken,
    /// RFC 6749 4.4.
    ClientCredentials,
    /// RFC 8693: an access token in, a JWT access token out.
    TokenExchange,
}

/// What ZeroAuth knows about one grant type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantSpec {
    /// The grant.
    pub grant: GrantType,
    /// Its RFC name: `grant_type` at `/token`, `grant_types` in discovery,
    /// at `/register` and in the store.
    pub wire: &'static str,
    /// The operator's name for it (`--grant`, the seed file), taken beside
    /// the RFC name.
    pub short: &'static str,
    /// What it is, for `--help`.
    pub summary: &'static str,
    /// Whether discovery lists it in `grant_types_supported` (RFC 8414 2).
    pub advertised: bool,
    /// Whether a client that registers itself (RFC 7591) or is known by its
    /// metadata document may ask for it; the operator may register any.
    pub self_registrable: bool,
    /// Whether a public client (no secret) may have it.
    pub public_clients: bool,
    /// Whether it sends people back to a redirect URI, so that a client with
    /// it must register one.
    pub redirects: bool,
    /// The `/token` parameter that names this grant when `grant_type` is
    /// absent (Iternio and ItsYou.online send a code without one, SPEC.md
    /// section 5).
    pub implied_by: Option<&'static str>,
}

const AUTHORIZATION_CODE: GrantSpec = GrantSpec {
    grant: GrantType::AuthorizationCode,
    wire: "authorization_code",
    short: "authorization-code",
    summary: "RFC 6749 4.1: people sign in and approve; the app gets a code for tokens",
    advertised: true,
    self_registrable: true,
    public_clients: true,
    redirects: true,
    implied_by: Some("code"),
};

const REFRESH_TOKEN: GrantSpec = GrantSpec {
    grant: GrantType::RefreshToken,
    wire: "refresh_token",
    short: "refresh-token",
    summary: "RFC 6749 6: rotating refresh tokens beside the code's access token",
    advertised: true,
    self_registrable: true,
    public_clients: true,
    redirects: false,
    implied_by: None,
};

const CLIENT_CREDENTIALS: GrantSpec = GrantSpec {
    grant: GrantType::ClientCredentials,
    wire: "client_credentials",
    short: "client-credentials",
    summary: "RFC 6749 4.4: a confidential client's own tokens, no person",
    advertised: true,
    self_registrable: true,
    // RFC 6749 4.4: "MUST only be used by confidential clients".
    public_clients: false,
    redirects: false,
    implied_by: None,
};

const TOKEN_EXCHANGE: GrantSpec = GrantSpec {
    grant: GrantType::TokenExchange,
    wire: "urn:ietf:params:oauth:grant-type:token-exchange",
    short: "token-exchange",
    summary: "RFC 8693: swap an access token for a JWT access token",
    advertised: true,
    self_registrable: false,
    public_clients: true,
    redirects: false,
    implied_by: None,
};

impl GrantType {
    /// Every grant type, in the order discovery and help list them.
    pub const ALL: [GrantType; 4] =
        [Self::AuthorizationCode, Self::RefreshToken, Self::ClientCredentials, Self::TokenExchange];

    /// Its entry in the catalogue.
    pub const fn spec(self) -> &'static GrantSpec {
        match self {
            Self::AuthorizationCode => &AUTHORIZATION_CODE,
            Self::RefreshToken => &REFRESH_TOKEN,
            Self::ClientCredentials => &CLIENT_CREDENTIALS,
            Self::TokenExchange => &TOKEN_EXCHANGE,
        }
    }

    /// The RFC name of the grant type.
    pub const fn as_str(self) -> &'static str {
        self.spec().wire
    }

    /// Parses an RFC name, as `/token` and the store spell it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Parses a name an operator or a registering client gives: the RFC name
    /// or the operator's (`authorization-code`).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s || g.spec().short == s)
    }

    /// The entries discovery lists.
    pub fn advertised() -> impl Iterator<Item = &'static GrantSpec> {
        Self::ALL.into_iter().map(Self::spec).filter(|s| s.advertised)
    }

    /// Whether a client that registers itself may have it, for a public
    /// client or a confidential one.
    pub fn self_registrable(self, public: bool) -> bool {
        let spec = self.spec();
        spec.self_registrable && (spec.public_clients || !public)
    }

    /// The names an operator may give, as a sentence for error messages:
    /// `authorization-code (authorization_code), …`.
    pub fn names_sentence() -> String {
        sentence(Self::ALL.map(|g| format!("{} ({})", g.spec().short, g.spec().wire)).to_vec())
    }

    /// The RFC names `/token` takes, as a sentence for error messages.
    pub fn wire_names_sentence() -> String {
        sentence(Self::advertised().map(|s| s.wire.to_owned()).collect())
    }
}

/// `a, b, c or d`.
fn sentence(names: Vec<String>) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl From<GrantType> for &'static str {
    fn from(g: GrantType) -> Self {
        g.as_str()
    }
}

impl TryFrom<String> for GrantType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown grant type {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grant_has_one_entry_and_distinct_names() {
        let mut names = Vec::new();
        for g in GrantType::ALL {
            let spec = g.spec();
            assert_eq!(spec.grant, g, "{} is filed under another grant", spec.wire);
            names.extend([spec.wire, spec.short]);
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "a name is used twice: {names:?}");
    }

    #[test]
    fn names_parse_where_they_are_spelled() {
        use GrantType::*;
        // name, the name given, `parse` (RFC names), `from_name` (RFC or operator names)
        let cases: &[(&str, &str, Option<GrantType>, Option<GrantType>)] = &[
            (
                "should read the RFC name",
                "authorization_code",
                Some(AuthorizationCode),
                Some(AuthorizationCode),
            ),
            (
                "should read the token exchange URN",
                "urn:ietf:params:oauth:grant-type:token-exchange",
                Some(TokenExchange),
                Some(TokenExchange),
            ),
            (
                "should read the operator's name only from an operator",
                "token-exchange",
                None,
                Some(TokenExchange),
            ),
            ("should read refresh-token from an operator", "refresh-token", None, Some(RefreshToken)),
            (
                "should read client-credentials from an operator",
                "client-credentials",
                None,
                Some(ClientCredentials),
            ),
            ("should fail because the case differs", "Authorization_Code", None, None),
            ("should fail because implicit is not offered", "implicit", None, None),
            ("should fail because the name is empty", "", None, None),
        ];
        for (name, given, wire, operator) in cases {
            assert_eq!(GrantType::parse(given), *wire, "{name}: parse");
            assert_eq!(GrantType::from_name(given), *operator, "{name}: from_name");
        }
    }

    #[test]
    fn self_registration_never_gives_token_exchange_or_a_public_client_its_own_tokens() {
        use GrantType::*;
        // name, grant, public client, may register itself for it
        let cases: &[(&str, GrantType, bool, bool)] = &[
            ("should allow the code flow to a public client", AuthorizationCode, true, true),
            ("should allow refresh tokens to a public client", RefreshToken, true, true),
            ("should allow client_credentials to a confidential client", ClientCredentials, false, true),
            ("should fail because a public client has no credentials", ClientCredentials, true, false),
            ("should fail because only the operator grants token exchange", TokenExchange, false, false),
            (
                "should fail because only the operator grants token exchange, public",
                TokenExchange,
                true,
                false,
            ),
        ];
        for (name, grant, public, want) in cases {
            assert_eq!(grant.self_registrable(*public), *want, "{name}");
        }
    }

    #[test]
    fn the_store_keeps_the_rfc_name() {
        for g in GrantType::ALL {
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
            assert_eq!(serde_json::from_str::<GrantType>(&json).unwrap(), g);
        }
        assert!(
            serde_json::from_str::<GrantType>("\"token-exchange\"").is_err(),
            "the store has RFC names only"
        );
    }
}
