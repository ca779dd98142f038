//! `POST /introspect` (RFC 7662).

use http::StatusCode;
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::{AccessTokenRecord, Acr, Amr, Client, Grant, User};
use crate::error::OAuthError;
use crate::http::{Request, Response, body_params, json as json_response};
use crate::oauth::client_auth::authenticate;
use crate::oauth::presented::{self, Found};
use crate::oauth::{ClientCredentials, jwt};

/// `POST /introspect`: the token's metadata if it is active, `{"active": false}` otherwise.
///
/// RFC 7662 2.1: "the endpoint MUST also require some form of authorization
/// to access this endpoint". Only a confidential client may ask, and it is
/// told only about tokens issued to it or whose audience is a resource it
/// acts for (the resource's registered `clients`); anything else is
/// inactive to it, so no client learns of another's tokens.
///
/// Round trips: the client and the token are read at once, then the user.
pub async fn introspect(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let creds = ClientCredentials::from_request(req.headers(), &params)?;
    let token = params.require("token")?;
    let now = app.now();
    let (client, found) = tokio::join!(authenticate(app, &creds), presented::find(app, token));
    let client = client?;
    if client.is_public() {
        return Err(OAuthError::invalid_client(
            "public clients cannot introspect tokens; a resource server authenticates with its secret",
        ));
    }
    let body = match found? {
        Some(Found::Access(at)) if may_see(app, &client, &at).await? => access_token(app, at).await?,
        Some(Found::Refresh { grant: g, current: true })
            if g.client_id == client.client_id && !g.revoked && g.refresh_expires_at > now =>
        {
            refresh_token(app, &g).await?
        }
        _ => None,
    };
    Ok(json_response(StatusCode::OK, &body.unwrap_or_else(|| json!({ "active": false }))))
}

/// Whether `client` may see `at`: its own, or one for a resource it acts for.
async fn may_see(app: &App, client: &Client, at: &AccessTokenRecord) -> Result<bool, OAuthError> {
    if at.client_id == client.client_id {
        return Ok(true);
    }
    let Some(audience) = &at.audience else {
        return Ok(false);
    };
    let resource =
        app.store.get_resource(audience).await.map_err(OAuthError::store("reading the token's resource"))?;
    Ok(resource.is_some_and(|r| r.clients.contains(&client.client_id)))
}

/// An active access token's metadata, unless its user is disabled or gone.
/// A person's token says how they signed in, as its grant recorded: the
/// grant is read beside the person.
async fn access_token(app: &App, at: AccessTokenRecord) -> Result<Option<Value>, OAuthError> {
    let mut person = None;
    let mut sign_in = None;
    if let Some(sub) = &at.sub {
        let (found, grant) = tokio::join!(app.store.get_person(sub, at.username.as_deref()), async {
            match &at.grant_id {
                Some(id) => app.store.get_grant(id, app.now()).await,
                None => Ok(None),
            }
        });
        let found = found.map_err(OAuthError::store("reading the token's person"))?;
        let Some(user) = found.filter(User::is_active) else { return Ok(None) };
        person = Some(user);
        sign_in = grant.map_err(OAuthError::store("reading the token's grant"))?;
    }
    let mut body = json!({
        "active": true,
        "scope": at.scope,
        "client_id": at.client_id,
        "exp": at.expires_at,
        "iat": at.issued_at,
        "token_type": "Bearer",
        "iss": app.config.issuer,
        "aud": at.audience.clone().unwrap_or_else(|| jwt::default_audience(app)),
    });
    if let Some(sub) = &at.sub {
        body["sub"] = json!(sub);
    }
    if let Some(u) = person.and_then(|p| p.username) {
        body["username"] = json!(u);
    }
    if let Some(g) = sign_in {
        add_sign_in(&mut body, g.auth_time, &g.amr);
    }
    Ok(Some(body))
}

/// `auth_time`, `acr` and `amr` of the sign-in behind a grant (none on a
/// grant of an earlier release, which did not record it).
fn add_sign_in(body: &mut Value, auth_time: i64, amr: &[Amr]) {
    if amr.is_empty() {
        return;
    }
    body["auth_time"] = json!(auth_time);
    body["acr"] = json!(Acr::of(amr).as_str());
    body["amr"] = json!(Amr::names(amr));
}

/// A current refresh token's metadata, unless its user is disabled or gone
/// or reset their password since.
async fn refresh_token(app: &App, g: &Grant) -> Result<Option<Value>, OAuthError> {
    let user = app.store.get_person(&g.sub, g.username.as_deref()).await;
    let user = user.map_err(OAuthError::store("reading the grant's person"))?;
    // A reset since the family began revoked it.
    let Some(user) = user.filter(|u| u.is_active() && !u.revoked_grant(g.created_at)) else {
        return Ok(None);
    };
    let mut body = json!({
        "active": true,
        "scope": g.scope,
        "client_id": g.client_id,
        "sub": g.sub,
        "username": user.username,
        "exp": g.refresh_expires_at,
        "iat": g.created_at,
        "token_type": "refresh_token",
        "iss": app.config.issuer,
        "aud": g.resource.clone().unwrap_or_else(|| jwt::default_audience(app)),
    });
    add_sign_in(&mut body, g.auth_time, &g.amr);
    Ok(Some(body))
}
