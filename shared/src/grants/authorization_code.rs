//! The `authorization_code` grant (RFC 6749 4.1.3, RFC 7636 4.6, RFC 9700 4.14).
//!
//! Round trips: the client and the code are read at once; the user is read
//! while the code is consumed. Two in all.

use crate::app::App;
use crate::domain::{CodeRecord, Grant, GrantType, User};
use crate::error::{ErrorCode, OAuthError};
use crate::federation::kept;
use crate::http::Params;
use crate::oauth::{AuthenticatedClient, jwt, pkce, redirect_uri, resource, tokens};
use crate::secret::{AccessToken, AuthCode, CodeVerifier, RefreshToken};
use crate::store::{ConsumeOutcome, Issuance};

use super::{Issued, refresh_ttl, revoke_family};

const REPLAYED: &str = "the code was already used; the tokens issued for it are revoked";
const UNKNOWN: &str = "the code is unknown or expired";

/// An `authorization_code` token request.
#[derive(Debug)]
pub struct CodeRequest {
    /// The code.
    pub code: AuthCode,
    /// `redirect_uri`, when the authorization request named one.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<CodeVerifier>,
    /// `state`, returned with the tokens.
    pub state: Option<String>,
    /// `resource` (RFC 8707): may only repeat the authorization request's.
    pub resource: Option<String>,
}

impl CodeRequest {
    /// Reads the request's parameters.
    pub fn parse(params: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            code: AuthCode::new(params.require("code")?),
            redirect_uri: params.get("redirect_uri")?.map(str::to_owned),
            code_verifier: params.get("code_verifier")?.map(CodeVerifier::new),
            state: params.get("state")?.map(str::to_owned),
            resource: params.get("resource")?.map(str::to_owned),
        })
    }

    /// The code's record while it is retained (redeemed or not).
    pub async fn load(&self, app: &App, now: i64) -> Result<Option<CodeRecord>, OAuthError> {
        let digest = tokens::digest(self.code.secret());
        app.store.get_code(&digest, now).await.map_err(OAuthError::store("reading the code"))
    }
}

/// Exchanges a code for tokens: a flat list of checks, then one atomic redemption.
pub async fn exchange(
    app: &App,
    client: &AuthenticatedClient,
    req: CodeRequest,
    record: Option<CodeRecord>,
    now: i64,
) -> Result<Issued, OAuthError> {
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use authorization codes",
        ));
    }
    let record = record.ok_or_else(|| OAuthError::invalid_grant(UNKNOWN))?;
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the code was not issued to this client"));
    }
    if let Some(r) = &record.redeemed {
        // RFC 6749 4.1.2: "If an authorization code is used more than once, the
        // authorization server MUST deny the request and SHOULD revoke (when
        // possible) all tokens previously issued based on that authorization code."
        return Err(revoke_family(app, &r.grant_id, REPLAYED).await);
    }
    if record.valid_until <= now {
        return Err(OAuthError::invalid_grant("the code has expired; codes are valid for a short time"));
    }
    redirect_uri::check_at_exchange(&record, req.redirect_uri.as_deref())?;
    resource::check_bound(req.resource.as_deref(), record.resource.as_deref())?;
    pkce::verify(record.code_challenge.as_deref(), req.code_verifier.as_ref())?;

    let minted = Minted::new(app, client, &record, req.code.secret(), now)?;
    let (user, outcome) = tokio::join!(
        app.store.get_person(&record.sub, record.username.as_deref()),
        app.store.consume_code(&record.digest, &minted.issuance, now)
    );
    match outcome.map_err(OAuthError::store("redeeming the code"))? {
        ConsumeOutcome::Consumed => {}
        ConsumeOutcome::Replayed { grant_id } => return Err(revoke_family(app, &grant_id, REPLAYED).await),
        ConsumeOutcome::Invalid => return Err(OAuthError::invalid_grant(UNKNOWN)),
    }
    let grant_id = &minted.issuance.grant.grant_id;
    let user = user.map_err(OAuthError::store("reading the person"))?.filter(User::is_active);
    let Some(user) = user else {
        return Err(
            revoke_family(app, grant_id, "the user who approved this code is disabled or deleted").await
        );
    };
    let sign_in = jwt::SignIn {
        auth_time: record.auth_time,
        amr: &record.amr,
        nonce: record.nonce.as_deref(),
        idp: record.idp.as_deref(),
    };
    let id_token = jwt::id_token(app, client, &user, &record.scope, sign_in, &minted.access_token, now)?;
    Ok(Issued {
        access_token: minted.access_token,
        expires_in: minted.expires_in,
        scope: record.scope,
        refresh_token: minted.refresh_token,
        created_at: now,
        state: req.state.or(record.state),
        id_token,
        issued_token_type: None,
    })
}

/// The tokens minted for a redemption, and the records that store them.
struct Minted {
    access_token: AccessToken,
    expires_in: i64,
    refresh_token: Option<RefreshToken>,
    issuance: Issuance,
}

impl Minted {
    fn new(
        app: &App,
        client: &AuthenticatedClient,
        code: &CodeRecord,
        code_secret: &str,
        now: i64,
    ) -> Result<Self, OAuthError> {
        let grant_id = tokens::new_grant_id()?;
        let subject = jwt::Subject {
            grant: Some((&grant_id, code.username.as_deref(), &code.sub)),
            resource: code.resource.as_deref(),
            sign_in: Some((code.auth_time, &code.amr)),
        };
        let access = jwt::mint_access(app, client, subject, &code.scope, now)?;
        let access_expires = now + access.expires_in;
        let refresh_token = if client.allows(GrantType::RefreshToken) {
            Some(tokens::mint_refresh(&grant_id)?)
        } else {
            None
        };
        // Without a refresh token the grant lives as long as its access token.
        let refresh_expires_at =
            if refresh_token.is_some() { now + refresh_ttl(app, client) } else { access_expires };
        let grant = Grant {
            grant_id: grant_id.clone(),
            client_id: client.client_id.clone(),
            username: code.username.clone(),
            sub: code.sub.clone(),
            scope: code.scope.clone(),
            refresh_digest: refresh_token.as_ref().map(|t| tokens::digest(t.secret())),
            retired_digests: Vec::new(),
            refresh_expires_at,
            revoked: false,
            created_at: now,
            expires_at: refresh_expires_at.max(access_expires),
            auth_time: code.auth_time,
            amr: code.amr.clone(),
            idp: code.idp.clone(),
            // The kept upstream token, from under the code to under the
            // family's own tokens.
            upstream: code
                .upstream
                .as_deref()
                .and_then(|sealed| kept::open_under(code_secret, sealed))
                .and_then(|t| {
                    kept::for_grant(&t, refresh_token.as_ref().map(|r| r.secret()), access.token.secret())
                }),
            resource: code.resource.clone(),
            last_rotation: None,
        };
        let consume_id = tokens::rng(crate::crypto::random_string(16))?;
        Ok(Self {
            access_token: access.token,
            expires_in: access.expires_in,
            refresh_token,
            issuance: Issuance { consume_id, grant, access: access.record },
        })
    }
}
