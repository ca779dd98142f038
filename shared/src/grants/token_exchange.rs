//! The token-exchange grant (RFC 8693), as ItsYou.online's "get a JWT for
//! API calls" step in standard form: a live access token of the calling
//! client in, a JWT access token (RFC 9068) for the same subject and the
//! same or a narrower scope out. Only clients registered for the grant may
//! use it; delegation (`actor_token`) is not offered. A protected
//! resource's own client may ask for the person's upstream token instead
//! ([`super::upstream_token`]).
//!
//! Round trips: the client and the subject token (with its family) are
//! read at once, then the person; the JWT itself is not stored.

use crate::app::App;
use crate::domain::{AccessTokenFormat, AccessTokenRecord, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::federation::kept::UPSTREAM_TOKEN_TYPE;
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, Scope, jwt, presented};

use super::Issued;

/// RFC 8693 3: an OAuth 2.0 access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 3: a JWT.
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// A token-exchange request (RFC 8693 2.1).
#[derive(Debug)]
pub struct ExchangeRequest {
    /// The access token to exchange.
    subject_token: String,
    /// The scope asked for, as sent.
    scope: Option<String>,
    /// What the issued token is called in the response.
    issued_token_type: &'static str,
    /// `resource` or `audience`, which must name the subject token's audience.
    target: Option<String>,
}

impl ExchangeRequest {
    /// Reads and checks the request's parameters.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        let subject_token = params.require("subject_token")?.to_owned();
        match params.require("subject_token_type")? {
            ACCESS_TOKEN_TYPE => {}
            other => {
                return Err(OAuthError::invalid_request(format!(
                    "subject_token_type `{other}` is not supported; send {ACCESS_TOKEN_TYPE}"
                )));
            }
        }
        let issued_token_type = match params.get("requested_token_type")? {
            None | Some(JWT_TYPE) => JWT_TYPE,
            Some(ACCESS_TOKEN_TYPE) => ACCESS_TOKEN_TYPE,
            Some(UPSTREAM_TOKEN_TYPE) => UPSTREAM_TOKEN_TYPE,
            Some(other) => {
                return Err(OAuthError::invalid_request(format!(
                    "requested_token_type `{other}` is not supported; ask for {JWT_TYPE}"
                )));
            }
        };
        if params.get("actor_token")?.is_some() || params.get("actor_token_type")?.is_some() {
            return Err(OAuthError::invalid_request("delegation (actor_token) is not supported"));
        }
        let (resource, audience) = (params.get("resource")?, params.get("audience")?);
        if let (Some(r), Some(a)) = (resource, audience)
            && r != a
        {
            return Err(OAuthError::new(ErrorCode::InvalidTarget, "resource and audience disagree"));
        }
        Ok(Self {
            subject_token,
            scope: params.get("scope")?.map(str::to_owned),
            issued_token_type,
            target: resource.or(audience).map(str::to_owned),
        })
    }

    /// Reads the subject token (and its family), while the client is read.
    pub async fn load(&self, app: &App) -> Result<Option<AccessTokenRecord>, OAuthError> {
        presented::live_access_token(app, &self.subject_token).await
    }
}

/// Exchanges the subject token (`subject`, as [`ExchangeRequest::load`]
/// found it) for a JWT access token that ends no later than it does and
/// dies with its family.
pub async fn exchange(
    app: &App,
    client: &AuthenticatedClient,
    req: ExchangeRequest,
    subject: Option<AccessTokenRecord>,
) -> Result<Issued, OAuthError> {
    if !client.allows(GrantType::TokenExchange) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not registered for token exchange",
        ));
    }
    if req.issued_token_type == UPSTREAM_TOKEN_TYPE {
        return super::upstream_token::hand_out(
            app,
            client,
            &req.subject_token,
            req.target.as_deref(),
            subject,
        )
        .await;
    }
    let now = app.now();
    // RFC 8693 2.2.2: an invalid subject token is `invalid_grant` — expired,
    // revoked, a refresh token, someone else's, or not ours at all.
    let subject = subject.filter(|t| t.client_id == client.client_id).ok_or_else(|| {
        OAuthError::invalid_grant("subject_token is not an active access token of this client")
    })?;
    if let Some(target) = &req.target
        && subject.audience.as_deref() != Some(target.as_str())
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "the exchanged token keeps the subject token's audience",
        ));
    }
    let scope = Scope::narrow(req.scope.as_deref(), &subject.scope)?;
    let person = match (&subject.grant_id, &subject.sub) {
        (Some(grant_id), Some(sub)) => {
            let user = app.store.get_person(sub, subject.username.as_deref()).await;
            let user = user.map_err(OAuthError::store("reading the person"))?;
            if !user.is_some_and(|u| u.is_active()) {
                return Err(OAuthError::invalid_grant("the person of subject_token can no longer sign in"));
            }
            Some((grant_id.as_str(), subject.username.as_deref(), sub.as_str()))
        }
        (None, None) => None,
        _ => return Err(OAuthError::invalid_grant("this kind of subject_token cannot be exchanged")),
    };
    // A JWT whatever the client's usual format, never outliving the subject.
    let mut as_jwt = (**client).clone();
    as_jwt.tokens.access_token_format = AccessTokenFormat::Jwt;
    let ttl =
        client.tokens.access_token_ttl.unwrap_or(jwt::JWT_ACCESS_TOKEN_TTL).min(jwt::MAX_ACCESS_TOKEN_TTL);
    as_jwt.tokens.access_token_ttl = Some(ttl.min(subject.expires_at - now));
    let minted = jwt::mint_access(
        app,
        &as_jwt,
        jwt::Subject { grant: person, resource: subject.audience.as_deref(), sign_in: None },
        &scope,
        now,
    )?;
    Ok(Issued {
        access_token: minted.token,
        expires_in: minted.expires_in,
        scope,
        refresh_token: None,
        created_at: now,
        state: None,
        id_token: None,
        issued_token_type: Some(req.issued_token_type),
    })
}
