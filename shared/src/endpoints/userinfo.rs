//! `GET|POST /userinfo` (RFC 6750 for the token, OpenID Connect Core 5.3 for the claims).

use http::{Method, StatusCode};

use crate::app::App;
use crate::domain::User;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response, bearer_token, body_params, json as json_response, query};
use crate::oauth::{claims, client_metadata, clients, presented};

/// `GET|POST /userinfo`. An `Err` is answered with `WWW-Authenticate: Bearer`.
///
/// The token must be live, its person still the one it was issued to (the
/// same `sub`, enabled), and its client still registered and enabled: a
/// client's tokens die with it.
///
/// Round trips: the token and its grant are read at once, then the user and
/// the client at once.
pub async fn userinfo(app: &App, req: Request) -> Result<Response, OAuthError> {
    let token = presented_token(&req)?;
    let unauthorized =
        || OAuthError::new(ErrorCode::InvalidToken, "the access token is unknown, expired or revoked");
    let record = presented::live_access_token(app, &token).await?.ok_or_else(unauthorized)?;
    let Some(sub) = &record.sub else {
        return Err(OAuthError::new(ErrorCode::InvalidToken, "this access token was not issued for a user"));
    };
    // RFC 8707: a token bound to another resource is not for /userinfo.
    if let Some(aud) = &record.audience {
        return Err(OAuthError::new(
            ErrorCode::InvalidToken,
            format!("this access token is for the resource {aud:?}, not for /userinfo"),
        ));
    }
    let (user, client) = tokio::join!(
        app.store.get_person(sub, record.username.as_deref()),
        clients::find(app, &record.client_id)
    );
    let user = user.map_err(OAuthError::store("reading the token's user"))?;
    let client = client?;
    // A metadata-document client may have left the cache; its token stands
    // unless the operator turned such clients off.
    let document_client =
        client_metadata::is_document_url(&record.client_id) && app.config.client_metadata.enabled;
    if client.map_or(!document_client, |c| c.disabled) {
        return Err(unauthorized());
    }
    let user = user.filter(User::is_active).ok_or_else(unauthorized)?;
    Ok(json_response(StatusCode::OK, &claims::for_scope(&user, &record.scope)))
}

/// The token from the Authorization header or a POST form body (RFC 6750
/// 2.1, 2.2). In the query it is refused: RFC 6750 2.3 says SHOULD NOT, and
/// RFC 9700 2 says clients MUST NOT, since URLs end up in logs and history.
/// Sent more than one way: `invalid_request` (RFC 6750 2). Not sent at all:
/// a 401 with no error code (RFC 6750 3.1).
fn presented_token(req: &Request) -> Result<String, OAuthError> {
    let mut found = Vec::new();
    if let Some(t) = bearer_token(req.headers())? {
        found.push(t);
    }
    let form_post = req.method() == Method::POST
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body: Params = if form_post { body_params(req)? } else { Params::default() };
    if query(req)?.get("access_token")?.is_some() {
        return Err(OAuthError::invalid_request(
            "send the access token in the Authorization header (Bearer) or a form body, never in the URL",
        ));
    }
    if let Some(t) = body.get("access_token")? {
        found.push(t.to_owned());
    }
    match found.len() {
        0 => Err(OAuthError::new(ErrorCode::InvalidToken, "")),
        1 => Ok(found.swap_remove(0)),
        _ => Err(OAuthError::invalid_request("the access token was sent more than one way; use one")),
    }
}
