//! Handing a protected resource the person's upstream token (SPEC.md
//! section 11): an MCP server in front of GitHub, say, exchanges the
//! ZeroAuth access token its client sent it (RFC 8693, `requested_token_type`
//! [`UPSTREAM_TOKEN_TYPE`]) for the GitHub token the person's sign-in kept.
//! Only a confidential client the resource is registered with may ask, only
//! for a live token whose audience is that resource, and only while the
//! grant stands and its person may sign in.
//!
//! Round trips: the client and the subject token at once, then the
//! resource, the grant and the person at once.

use crate::app::App;
use crate::domain::AccessTokenRecord;
use crate::error::{ErrorCode, OAuthError};
use crate::federation::kept::{self, UPSTREAM_TOKEN_TYPE};
use crate::oauth::{AuthenticatedClient, Scope};
use crate::secret::AccessToken;

use super::Issued;

/// The upstream token kept with `subject`'s grant, for `client`.
pub async fn hand_out(
    app: &App,
    client: &AuthenticatedClient,
    subject_token: &str,
    target: Option<&str>,
    subject: Option<AccessTokenRecord>,
) -> Result<Issued, OAuthError> {
    let now = app.now();
    let not_active = || OAuthError::invalid_grant("subject_token is not an active access token of a person");
    let subject = subject.ok_or_else(not_active)?;
    let (Some(grant_id), Some(sub)) = (subject.grant_id.as_deref(), subject.sub.as_deref()) else {
        return Err(not_active());
    };
    let audience = subject.audience.as_deref().ok_or_else(|| {
        OAuthError::new(ErrorCode::InvalidTarget, "subject_token is not for a protected resource")
    })?;
    // `resource`/`audience`, when sent, must name the subject token's resource.
    if target.is_some_and(|t| t != audience) {
        return Err(OAuthError::new(ErrorCode::InvalidTarget, "subject_token is for another resource"));
    }
    let store = &app.store;
    let (resource, grant, person) = tokio::join!(
        store.get_resource(audience),
        store.get_grant(grant_id, now),
        store.get_person(sub, subject.username.as_deref())
    );
    let resource = resource.map_err(OAuthError::store("reading the resource"))?;
    if client.is_public() || !resource.is_some_and(|r| r.clients.iter().any(|c| *c == client.client_id)) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "only the confidential client of subject_token's resource may have the upstream token",
        ));
    }
    let grant = grant.map_err(OAuthError::store("reading the grant"))?.filter(|g| !g.revoked);
    let person = person.map_err(OAuthError::store("reading the person"))?;
    let standing = match (&grant, &person) {
        (Some(g), Some(p)) => p.is_active() && !p.revoked_grant(g.created_at) && g.sub == p.sub,
        _ => false,
    };
    if !standing {
        return Err(not_active());
    }
    let kept = grant
        .and_then(|g| g.upstream)
        .and_then(|sealed| kept::open_with_access(&sealed, subject_token))
        .ok_or_else(|| OAuthError::invalid_grant("no upstream token was kept for this sign-in"))?;
    if kept.expires_at.is_some_and(|at| at <= now) {
        return Err(OAuthError::invalid_grant(
            "the upstream token has expired; the person signs in again to get a new one",
        ));
    }
    // Without the provider's word, no longer than the token it was exchanged for.
    let expires_in = kept.expires_at.unwrap_or(subject.expires_at).min(subject.expires_at) - now;
    Ok(Issued {
        access_token: AccessToken::new(kept.access_token),
        expires_in: expires_in.max(0),
        scope: Scope::default(),
        refresh_token: None,
        created_at: now,
        state: None,
        id_token: None,
        issued_token_type: Some(UPSTREAM_TOKEN_TYPE),
    })
}
