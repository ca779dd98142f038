//! `POST /revoke` (RFC 7009).

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::domain::AccessTokenKind;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, body_params, json as json_response};
use crate::oauth::ClientCredentials;
use crate::oauth::client_auth::authenticate;
use crate::oauth::presented::{self, Found};

/// `POST /revoke`: revokes an access token, or a refresh token and with it
/// its whole family. Unknown tokens and other clients' tokens answer 200 and
/// change nothing (RFC 7009 2.2); `token_type_hint` is only a hint.
///
/// Round trips: the client and the token are read at once, then one write.
pub async fn revoke(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let creds = ClientCredentials::from_request(req.headers(), &params)?;
    let token = params.require("token")?;
    if let Some(hint) = params.get("token_type_hint")?
        && !matches!(hint, "access_token" | "refresh_token")
    {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            format!("token_type_hint `{hint}` is not one this server knows"),
        ));
    }
    let (client, found) = tokio::join!(authenticate(app, &creds), presented::find(app, token));
    let client = client?;
    let found = found?;
    let revoked = match revocation(&client.client_id, found.as_ref())? {
        Revocation::Grant(grant_id) => app.store.revoke_grant(grant_id).await,
        Revocation::AccessToken(digest) => app.store.revoke_access_token(digest).await,
        Revocation::ApiKey(id) => app.store.delete_api_key(id).await.map(|_| ()),
        Revocation::Nothing => Ok(()),
    };
    revoked.map_err(OAuthError::store("revoking the token"))?;
    Ok(json_response(StatusCode::OK, &json!({})))
}

/// What revoking a presented token does.
#[derive(Debug, PartialEq, Eq)]
enum Revocation<'a> {
    /// Revoke this grant: a refresh token's family, or a JWT access token's.
    Grant(&'a str),
    /// Delete the stored opaque access token with this digest.
    AccessToken(&'a str),
    /// Delete the API key with this id.
    ApiKey(&'a str),
    /// Nothing: the token is unknown, dead, or another client's.
    Nothing,
}

/// What `client_id` revoking the token `found` does, by the token's kind.
fn revocation<'a>(client_id: &str, found: Option<&'a Found>) -> Result<Revocation<'a>, OAuthError> {
    Ok(match found {
        Some(Found::Refresh { grant, .. }) if grant.client_id == client_id => {
            Revocation::Grant(&grant.grant_id)
        }
        Some(Found::Access(at)) if at.client_id == client_id => match at.kind {
            AccessTokenKind::Opaque => Revocation::AccessToken(&at.digest),
            AccessTokenKind::ApiKey => Revocation::ApiKey(&at.digest),
            // A JWT access token is not stored: revoking it revokes its
            // family; a client's own JWT has none and lives until it expires.
            AccessTokenKind::Jwt => match &at.grant_id {
                Some(grant_id) => Revocation::Grant(grant_id),
                None => {
                    return Err(OAuthError::new(
                        ErrorCode::UnsupportedTokenType,
                        "a client_credentials JWT access token cannot be revoked; it expires at its exp",
                    ));
                }
            },
        },
        _ => Revocation::Nothing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccessTokenRecord, Grant};
    use crate::oauth::Scope;

    fn access(client_id: &str, kind: AccessTokenKind, grant_id: Option<&str>) -> Found {
        Found::Access(AccessTokenRecord {
            digest: "handle".into(),
            grant_id: grant_id.map(str::to_owned),
            client_id: client_id.into(),
            username: None,
            sub: None,
            scope: Scope::from_stored("read"),
            issued_at: 0,
            expires_at: 10,
            audience: None,
            kind,
        })
    }

    fn refresh(client_id: &str) -> Found {
        let grant = Grant {
            grant_id: "g1".into(),
            client_id: client_id.into(),
            username: Some("alice".into()),
            sub: "s".into(),
            scope: Scope::from_stored("read"),
            refresh_digest: None,
            retired_digests: vec![],
            refresh_expires_at: 10,
            revoked: false,
            created_at: 0,
            expires_at: 10,
            auth_time: 0,
            amr: vec![],
            idp: None,
            upstream: None,
            resource: None,
            last_rotation: None,
        };
        Found::Refresh { grant, current: true }
    }

    #[test]
    fn a_token_is_revoked_by_its_kind_and_only_by_its_own_client() {
        use AccessTokenKind::*;
        // name, the token found, what revoking it as `app` does (Err: which error)
        let cases: &[(&str, Option<Found>, Result<Revocation<'_>, ErrorCode>)] = &[
            ("should revoke a refresh token's family", Some(refresh("app")), Ok(Revocation::Grant("g1"))),
            (
                "should delete an opaque access token",
                Some(access("app", Opaque, Some("g1"))),
                Ok(Revocation::AccessToken("handle")),
            ),
            (
                "should delete an API key by its id",
                Some(access("app", ApiKey, None)),
                Ok(Revocation::ApiKey("handle")),
            ),
            (
                "should revoke a person's JWT by its family",
                Some(access("app", Jwt, Some("g1"))),
                Ok(Revocation::Grant("g1")),
            ),
            (
                "should fail because a client's own JWT has no family",
                Some(access("app", Jwt, None)),
                Err(ErrorCode::UnsupportedTokenType),
            ),
            (
                "should do nothing for another client's refresh token",
                Some(refresh("other")),
                Ok(Revocation::Nothing),
            ),
            (
                "should do nothing for another client's API key",
                Some(access("other", ApiKey, None)),
                Ok(Revocation::Nothing),
            ),
            (
                "should do nothing for another client's JWT without a family",
                Some(access("other", Jwt, None)),
                Ok(Revocation::Nothing),
            ),
            ("should do nothing for an unknown token", None, Ok(Revocation::Nothing)),
        ];
        for (name, found, want) in cases {
            assert_eq!(revocation("app", found.as_ref()).map_err(|e| e.code), *want, "{name}");
        }
    }
}
