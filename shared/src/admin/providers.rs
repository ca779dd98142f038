//! Configuring upstream identity providers (SPEC.md section 11): the
//! checks and each kind's defaults, shared by the CLI and the seed file.
//! The client secret is not part of a provider: the caller keeps it (an SSM
//! SecureString, a local file) and it never reaches the table.

use serde::Deserialize;

use super::AdminError;
use crate::domain::{ClaimMapping, Provider, ProviderKind};
use crate::federation::{ENTRA_ISSUER, GITHUB_ISSUER, GOOGLE_ISSUER};
use crate::store::Store;

/// A provider to configure, as the CLI and the seed file give it.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProvider {
    /// Its id: lower-case letters, digits and `-`, at most 32.
    pub id: String,
    /// `oidc`, `oauth2`, `github`, `google` or `entra`.
    pub kind: String,
    /// The button's name (the presets have one).
    #[serde(default)]
    pub name: Option<String>,
    /// An `https` URL of an icon for the button.
    #[serde(default)]
    pub icon: Option<String>,
    /// The issuer (required for `oidc` and `oauth2`; the presets have theirs).
    #[serde(default)]
    pub issuer: Option<String>,
    /// ZeroAuth's client id at the provider.
    pub client_id: String,
    /// The client secret: only a seed file carries it (kept in memory by
    /// `serve`); never stored with the provider.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The scopes to ask for, space-separated (each kind has a default).
    #[serde(default)]
    pub scope: Option<String>,
    /// The authorization endpoint (`oauth2`; an override otherwise).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The token endpoint (likewise).
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The user-info endpoint (likewise).
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// `oauth2`: the user-info field with the stable id (default `sub`).
    #[serde(default)]
    pub subject_claim: Option<String>,
    /// `oauth2`: the field with the address (default `email`).
    #[serde(default)]
    pub email_claim: Option<String>,
    /// `oauth2`: the field saying the address is verified (default
    /// `email_verified`; without one no address counts as verified).
    #[serde(default)]
    pub email_verified_claim: Option<String>,
    /// `oauth2`: the field with the name (default `name`).
    #[serde(default)]
    pub name_claim: Option<String>,
    /// `entra`: the tenants (GUIDs) whose people may sign in; empty: any.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// The clients whose sign-in page offers it; empty: every client.
    #[serde(default)]
    pub clients: Vec<String>,
    /// Whether a first sign-in may create a person, as far as the
    /// deployment's sign-up policy allows (default true).
    #[serde(default)]
    pub sign_up: Option<bool>,
    /// Whether its verified addresses count (default true; Entra's count
    /// only with `xms_edov` in any case).
    #[serde(default)]
    pub trust_email: Option<bool>,
    /// The protected resources (URIs) whose own clients may get the
    /// person's upstream token by token exchange (default none).
    #[serde(default)]
    pub keep_tokens_for: Vec<String>,
}

impl std::fmt::Debug for NewProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewProvider").field("id", &self.id).field("kind", &self.kind).finish_non_exhaustive()
    }
}

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// An `https` URL without a fragment, or why not.
fn https_url(what: &str, url: &str) -> Result<String, AdminError> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| invalid(format!("{what} must be an https URL, got {url:?}")))?;
    if rest.is_empty() || rest.starts_with('/') || url.contains('#') || url.chars().any(char::is_whitespace) {
        return Err(invalid(format!("{what} {url:?} is not a usable https URL (no fragment, no spaces)")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The provider `new` describes, checked, with its kind's defaults.
pub fn build_provider(new: &NewProvider, now: i64) -> Result<Provider, AdminError> {
    let id = new.id.trim();
    if id.is_empty()
        || id.len() > 32
        || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(format!("provider id {id:?} must be 1 to 32 lower-case letters, digits or -")));
    }
    let kind = ProviderKind::parse(new.kind.trim()).ok_or_else(|| {
        invalid(format!("kind {:?} is unknown; use oidc, oauth2, github, google or entra", new.kind))
    })?;
    let (issuer, name, scope) = match kind {
        ProviderKind::GitHub => (Some(GITHUB_ISSUER), Some("GitHub"), "read:user user:email"),
        ProviderKind::Google => (Some(GOOGLE_ISSUER), Some("Google"), "openid email profile"),
        ProviderKind::Entra => (Some(ENTRA_ISSUER), Some("Microsoft"), "openid email profile"),
        ProviderKind::Oidc => (None, None, "openid email profile"),
        ProviderKind::OAuth2 => (None, None, ""),
    };
    // The issuer exactly as given (OpenID Connect compares it character for
    // character: Auth0's ends in `/`).
    let issuer = match new.issuer.as_deref().or(issuer) {
        Some(i) => https_url("the issuer", i).map(|_| i.trim().to_owned())?,
        None => return Err(invalid(format!("a {} provider needs its issuer (--issuer)", kind.as_str()))),
    };
    let name = new.name.as_deref().or(name).map(str::trim).filter(|n| !n.is_empty());
    let name = name.ok_or_else(|| invalid("the provider needs a name for its button (--name)"))?;
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(invalid("the name must be at most 64 characters, without control characters"));
    }
    let scope = new.scope.as_deref().unwrap_or(scope).split_whitespace().collect::<Vec<_>>().join(" ");
    if kind.is_oidc() && !scope.split(' ').any(|s| s == "openid") {
        return Err(invalid("an OpenID Connect provider's scope must include openid"));
    }
    let client_id = new.client_id.trim();
    if client_id.is_empty() || client_id.len() > 256 {
        return Err(invalid("the provider needs ZeroAuth's client id there (--client-id)"));
    }
    let url = |what: &str, u: &Option<String>| u.as_deref().map(|u| https_url(what, u)).transpose();
    let authorization_endpoint = url("the authorization endpoint", &new.authorization_endpoint)?;
    let token_endpoint = url("the token endpoint", &new.token_endpoint)?;
    let userinfo_endpoint = url("the user-info endpoint", &new.userinfo_endpoint)?;
    if kind == ProviderKind::OAuth2
        && (authorization_endpoint.is_none() || token_endpoint.is_none() || userinfo_endpoint.is_none())
    {
        return Err(invalid(
            "an oauth2 provider needs --authorization-endpoint, --token-endpoint and --userinfo-endpoint",
        ));
    }
    let defaults = ClaimMapping::default();
    let claims = ClaimMapping {
        subject: new.subject_claim.clone().unwrap_or(defaults.subject),
        email: new.email_claim.clone().or(defaults.email),
        email_verified: new.email_verified_claim.clone().or(defaults.email_verified),
        name: new.name_claim.clone().or(defaults.name),
    };
    for t in &new.tenants {
        let groups: Vec<usize> = t.split('-').map(str::len).collect();
        if groups != [8, 4, 4, 4, 12] || !t.chars().all(|c| c == '-' || c.is_ascii_hexdigit()) {
            return Err(invalid(format!("tenant {t:?} is not a tenant id (a GUID)")));
        }
    }
    if !new.tenants.is_empty() && kind != ProviderKind::Entra {
        return Err(invalid("tenants apply to entra providers only"));
    }
    Ok(Provider {
        id: id.to_owned(),
        kind,
        name: name.to_owned(),
        icon: url("the icon", &new.icon)?,
        issuer,
        client_id: client_id.to_owned(),
        scope,
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        claims,
        tenants: new.tenants.iter().map(|t| t.to_ascii_lowercase()).collect(),
        clients: new.clients.clone(),
        sign_up: new.sign_up.unwrap_or(true),
        trust_email: new.trust_email.unwrap_or(true),
        keep_tokens_for: new
            .keep_tokens_for
            .iter()
            .map(|r| crate::oauth::resource::check_uri(r.trim()).map(|()| r.trim().to_owned()))
            .collect::<Result<_, _>>()
            .map_err(AdminError::Invalid)?,
        created_at: now,
    })
}

/// The settings of `p` as a [`NewProvider`] (to change some and check it again).
pub fn provider_settings(p: &Provider) -> NewProvider {
    NewProvider {
        id: p.id.clone(),
        kind: p.kind.as_str().to_owned(),
        name: Some(p.name.clone()),
        icon: p.icon.clone(),
        issuer: Some(p.issuer.clone()),
        client_id: p.client_id.clone(),
        client_secret: None,
        scope: Some(p.scope.clone()),
        authorization_endpoint: p.authorization_endpoint.clone(),
        token_endpoint: p.token_endpoint.clone(),
        userinfo_endpoint: p.userinfo_endpoint.clone(),
        subject_claim: Some(p.claims.subject.clone()),
        email_claim: p.claims.email.clone(),
        email_verified_claim: p.claims.email_verified.clone(),
        name_claim: p.claims.name.clone(),
        tenants: p.tenants.clone(),
        clients: p.clients.clone(),
        sign_up: Some(p.sign_up),
        trust_email: Some(p.trust_email),
        keep_tokens_for: p.keep_tokens_for.clone(),
    }
}

/// Checks the clients a provider is offered to exist.
async fn check_clients(store: &dyn Store, clients: &[String]) -> Result<(), AdminError> {
    for c in clients {
        if store.get_client(c).await?.is_none() {
            return Err(invalid(format!("there is no client {c:?}")));
        }
    }
    Ok(())
}

/// The new provider `new` describes, checked against the store (its id
/// free, its clients there) but not stored: the CLI keeps its secret
/// between the check and the write.
pub async fn new_provider(store: &dyn Store, new: &NewProvider, now: i64) -> Result<Provider, AdminError> {
    let p = build_provider(new, now)?;
    if store.get_provider(&p.id).await?.is_some() {
        return Err(AdminError::Store(crate::store::StoreError::Conflict(format!("provider {}", p.id))));
    }
    check_clients(store, &p.clients).await?;
    Ok(p)
}

/// Configures a new provider.
pub async fn create_provider(store: &dyn Store, new: &NewProvider, now: i64) -> Result<Provider, AdminError> {
    let p = new_provider(store, new, now).await?;
    store.create_provider(&p).await?;
    Ok(p)
}

/// Provider `id` as `change` edits its settings, checked again but not
/// stored.
pub async fn changed_provider(
    store: &dyn Store,
    id: &str,
    change: impl FnOnce(&mut NewProvider),
) -> Result<Provider, AdminError> {
    let old = store.get_provider(id).await?.ok_or_else(|| invalid(format!("there is no provider {id:?}")))?;
    let mut settings = provider_settings(&old);
    change(&mut settings);
    settings.id = old.id.clone();
    let p = build_provider(&settings, old.created_at)?;
    check_clients(store, &p.clients).await?;
    Ok(p)
}

/// Changes a provider: `change` edits its settings, which are checked again.
pub async fn update_provider(
    store: &dyn Store,
    id: &str,
    change: impl FnOnce(&mut NewProvider),
) -> Result<Provider, AdminError> {
    let p = changed_provider(store, id, change).await?;
    store.update_provider(&p).await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: &str) -> NewProvider {
        NewProvider { id: "p".into(), kind: kind.into(), client_id: "cid".into(), ..Default::default() }
    }

    #[test]
    fn presets_fill_in_and_the_rest_must_be_given() {
        let gh = build_provider(&new("github"), 0).unwrap();
        assert_eq!((gh.issuer.as_str(), gh.name.as_str()), (GITHUB_ISSUER, "GitHub"));
        assert_eq!(gh.scope, "read:user user:email");
        assert!(gh.sign_up && gh.trust_email);
        let entra = build_provider(&new("entra"), 0).unwrap();
        assert_eq!(entra.issuer, ENTRA_ISSUER);
        type Case = (&'static str, fn(&mut NewProvider), &'static str);
        let cases: &[Case] = &[
            ("oidc without issuer", |n| n.kind = "oidc".into(), "issuer"),
            (
                "oidc without name",
                |n| {
                    n.kind = "oidc".into();
                    n.issuer = Some("https://idp.example".into())
                },
                "name",
            ),
            (
                "http issuer",
                |n| {
                    n.kind = "oidc".into();
                    n.issuer = Some("http://idp.example".into())
                },
                "https",
            ),
            (
                "oauth2 without endpoints",
                |n| {
                    n.kind = "oauth2".into();
                    n.issuer = Some("https://a.example".into());
                    n.name = Some("A".into())
                },
                "endpoint",
            ),
            ("scope without openid", |n| n.scope = Some("email".into()), "openid"),
            (
                "bad id",
                |n| {
                    n.kind = "google".into();
                    n.id = "Bad Id".into()
                },
                "provider id",
            ),
            ("bad kind", |n| n.kind = "saml".into(), "unknown"),
            (
                "bad tenant",
                |n| {
                    n.kind = "entra".into();
                    n.tenants = vec!["acme".into()]
                },
                "GUID",
            ),
            (
                "tenants elsewhere",
                |n| {
                    n.kind = "google".into();
                    n.tenants = vec!["72f988bf-86f1-41af-91ab-2d7cd011db47".into()]
                },
                "entra",
            ),
            (
                "icon over http",
                |n| {
                    n.kind = "google".into();
                    n.icon = Some("http://x.example/i.png".into())
                },
                "https",
            ),
        ];
        for (name, change, says) in cases {
            let mut n = new("google");
            change(&mut n);
            match build_provider(&n, 0) {
                Err(AdminError::Invalid(msg)) => assert!(msg.contains(says), "{name}: {msg}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_issuer_is_kept_exactly_as_given() {
        let n = NewProvider {
            issuer: Some("https://tenant.auth0.example/".into()),
            name: Some("A".into()),
            ..new("oidc")
        };
        assert_eq!(build_provider(&n, 0).unwrap().issuer, "https://tenant.auth0.example/");
    }

    #[test]
    fn the_secret_never_shows_in_debug() {
        let n = NewProvider { client_secret: Some("s3cr3t".into()), ..new("github") };
        assert!(!format!("{n:?}").contains("s3cr3t"));
    }
}
