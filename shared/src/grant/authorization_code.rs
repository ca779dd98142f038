//! The `authorization_code` grant (RFC 6749 4.1.3, RFC 7636 4.6, RFC 9700 4.14).
//!
//! Round trips: the client and the code are read at once; the user is read
//! while the code is consumed. Two in all.

use crate::app::App;
use crate::crypto;
use crate::domain::{AccessTokenRecord, Client, CodeRecord, Grant, GrantType, User};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response};
use crate::store::{ConsumeOutcome, Issuance};

use super::{ACCESS_PREFIX, Issued, REFRESH_PREFIX, client_credentials_of, rng, verify_client};

/// Exchanges a code for tokens.
pub async fn exchange(app: &App, req: &Request, params: &Params) -> Result<Response, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.get("redirect_uri")?;
    let verifier = params.get("code_verifier")?;
    let creds = client_credentials_of(req, params)?;
    let now = app.now();

    let digest = crypto::digest(code);
    let (client, record) =
        tokio::join!(app.store.get_client(&creds.client_id), app.store.get_code(&digest, now));
    let client = verify_client(&creds, client?)?;
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use authorization codes",
        ));
    }
    let record = record?.ok_or_else(|| OAuthError::invalid_grant("the code is unknown or expired"))?;
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the code was not issued to this client"));
    }
    if let Some(r) = &record.redeemed {
        // RFC 6749 4.1.2: "If an authorization code is used more than once, the
        // authorization server MUST deny the request and SHOULD revoke (when
        // possible) all tokens previously issued based on that authorization code."
        app.store.revoke_grant(&r.grant_id).await?;
        return Err(OAuthError::invalid_grant(
            "the code was already used; the tokens issued for it are revoked",
        ));
    }
    if record.valid_until <= now {
        return Err(OAuthError::invalid_grant("the code has expired; codes are valid for a short time"));
    }
    check_redirect_uri(&record, redirect_uri)?;
    check_pkce(&record, verifier)?;

    let issued = Minted::new(app, &client, &record, now)?;
    let (user, outcome) = tokio::join!(
        app.store.get_user(&record.username),
        app.store.consume_code(&digest, &issued.issuance, now)
    );
    match outcome? {
        ConsumeOutcome::Consumed => {}
        ConsumeOutcome::Replayed { grant_id } => {
            app.store.revoke_grant(&grant_id).await?;
            return Err(OAuthError::invalid_grant(
                "the code was already used; the tokens issued for it are revoked",
            ));
        }
        ConsumeOutcome::Invalid => return Err(OAuthError::invalid_grant("the code is unknown or expired")),
    }
    if !user_may_sign_in(user?.as_ref()) {
        app.store.revoke_grant(&issued.issuance.grant.grant_id).await?;
        return Err(OAuthError::invalid_grant("the user who approved this code is disabled or deleted"));
    }
    Ok(Issued {
        access_token: &issued.access_token,
        expires_in: app.config.access_token_ttl,
        scope: &record.scope,
        refresh_token: issued.refresh_token.as_deref(),
        created_at: now,
        state: params.get("state")?.or(record.state.as_deref()),
    }
    .response())
}

/// Whether a user record allows tokens to be issued or used.
pub fn user_may_sign_in(user: Option<&User>) -> bool {
    user.is_some_and(|u| !u.disabled)
}

/// RFC 6749 4.1.3: redirect_uri is REQUIRED if it was included in the
/// authorization request, "and their values MUST be identical".
fn check_redirect_uri(record: &CodeRecord, given: Option<&str>) -> Result<(), OAuthError> {
    match given {
        Some(uri) if uri != record.redirect_uri => {
            Err(OAuthError::invalid_grant("redirect_uri does not match the one the code was issued for"))
        }
        None if record.redirect_uri_given => {
            Err(OAuthError::invalid_grant("redirect_uri is required: the authorization request named one"))
        }
        _ => Ok(()),
    }
}

/// RFC 7636 4.6, and RFC 9700 2.1.1: a verifier for a code issued without a
/// challenge is refused too (PKCE downgrade).
fn check_pkce(record: &CodeRecord, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (&record.code_challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => {
            Err(OAuthError::invalid_grant("code_verifier was sent but the code has no PKCE challenge"))
        }
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required for this code")),
        (Some(_), Some(v)) if !crypto::is_pkce_string(v) => Err(OAuthError::invalid_grant(
            "code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 4.1)",
        )),
        (Some(challenge), Some(v)) if crypto::ct_eq(challenge, &crypto::pkce_s256(v)) => Ok(()),
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"))
        }
    }
}

/// The tokens minted for a redemption, and the records that store them.
struct Minted {
    access_token: String,
    refresh_token: Option<String>,
    issuance: Issuance,
}

impl Minted {
    fn new(app: &App, client: &Client, code: &CodeRecord, now: i64) -> Result<Self, OAuthError> {
        let grant_id = rng(crypto::new_grant_id())?;
        let access_token = rng(crypto::new_token(ACCESS_PREFIX, &grant_id))?;
        let access_expires = now + app.config.access_token_ttl;
        let refresh_token = if client.allows(GrantType::RefreshToken) {
            Some(rng(crypto::new_token(REFRESH_PREFIX, &grant_id))?)
        } else {
            None
        };
        let (refresh_digest, refresh_expires_at) = match &refresh_token {
            Some(rt) => (crypto::digest(rt), now + app.config.refresh_token_ttl),
            // No refresh token: the grant lives as long as its access token, and
            // no presented digest can ever equal "none".
            None => ("none".to_owned(), access_expires),
        };
        let grant = Grant {
            grant_id: grant_id.clone(),
            client_id: client.client_id.clone(),
            username: code.username.clone(),
            sub: code.sub.clone(),
            scope: code.scope.clone(),
            refresh_digest,
            retired_digests: Vec::new(),
            refresh_expires_at,
            revoked: false,
            created_at: now,
            expires_at: refresh_expires_at.max(access_expires),
        };
        let access = AccessTokenRecord {
            digest: crypto::digest(&access_token),
            grant_id: Some(grant_id),
            client_id: client.client_id.clone(),
            username: Some(code.username.clone()),
            sub: Some(code.sub.clone()),
            scope: code.scope.clone(),
            issued_at: now,
            expires_at: access_expires,
        };
        let consume_id = rng(crypto::random_string(16))?;
        Ok(Self { access_token, refresh_token, issuance: Issuance { consume_id, grant, access } })
    }
}
