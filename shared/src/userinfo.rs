//! `GET|POST /userinfo` (RFC 6750 for the token, OpenID Connect Core 5.3 for the claims).

use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::{Method, StatusCode};
use serde_json::json;

use crate::app::App;
use crate::crypto::{self, TokenShape};
use crate::domain::AccessTokenRecord;
use crate::error::{ErrorCode, OAuthError};
use crate::grant::ACCESS_PREFIX;
use crate::grant::authorization_code::user_may_sign_in;
use crate::http::{
    Params, Request, Response, bearer_token, body_params, error_json, json as json_response, query,
};

/// The access token if it is live (stored, unexpired, family not revoked).
pub async fn live_access_token(app: &App, token: &str) -> Result<Option<AccessTokenRecord>, OAuthError> {
    let grant_id = match crypto::token_shape(token, ACCESS_PREFIX) {
        Some(TokenShape::InGrant(g)) => Some(g),
        Some(TokenShape::Standalone) => None,
        None => return Ok(None),
    };
    Ok(app.store.find_access_token(&crypto::digest(token), grant_id, app.now()).await?)
}

/// `GET|POST /userinfo`.
pub async fn userinfo(app: &App, req: Request) -> Response {
    match userinfo_inner(app, &req).await {
        Ok(res) => res,
        Err(e) => bearer_error(&e),
    }
}

async fn userinfo_inner(app: &App, req: &Request) -> Result<Response, OAuthError> {
    let token = presented_token(req)?;
    let unauthorized =
        || OAuthError::new(ErrorCode::InvalidToken, "the access token is unknown, expired or revoked");
    let record = live_access_token(app, &token).await?.ok_or_else(unauthorized)?;
    let Some(username) = &record.username else {
        return Err(OAuthError::new(ErrorCode::InvalidToken, "this access token was not issued for a user"));
    };
    let user = app.store.get_user(username).await?;
    let user = user.filter(|u| user_may_sign_in(Some(u))).ok_or_else(unauthorized)?;
    let scopes: Vec<&str> = record.scope.split(' ').collect();
    let mut body = json!({ "sub": user.sub });
    if scopes.contains(&"profile") {
        body["preferred_username"] = json!(user.username);
        if let Some(name) = &user.name {
            body["name"] = json!(name);
        }
    }
    if scopes.contains(&"email")
        && let Some(email) = &user.email
    {
        body["email"] = json!(email);
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// The token from the Authorization header, a POST form body, or the query
/// (RFC 6750 2.1–2.3). Sent more than one way: `invalid_request` (RFC 6750 2).
/// Not sent at all: a 401 with no error code (RFC 6750 3.1).
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
    for params in [body, query(req)?] {
        if let Some(t) = params.get("access_token")? {
            found.push(t.to_owned());
        }
    }
    match found.len() {
        0 => Err(OAuthError::new(ErrorCode::InvalidToken, "")),
        1 => Ok(found.swap_remove(0)),
        _ => Err(OAuthError::invalid_request("the access token was sent more than one way; use one")),
    }
}

/// RFC 6750 3: errors at a protected resource carry `WWW-Authenticate: Bearer`.
fn bearer_error(e: &OAuthError) -> Response {
    let mut challenge = String::from("Bearer realm=\"zeroauth\"");
    if !e.description.is_empty() {
        let desc = e.description.replace(['"', '\\'], "'");
        challenge.push_str(&format!(", error=\"{}\", error_description=\"{desc}\"", e.code.as_str()));
    }
    let mut res = if e.description.is_empty() {
        json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "error": "invalid_token", "error_description": "an access token is required" }),
        )
    } else {
        error_json(e)
    };
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(WWW_AUTHENTICATE, v);
    }
    res
}
