//! `GET /authorize` (RFC 6749 4.1.1, RFC 7636 4.3, RFC 9700): validate the
//! request, then show the sign-in and consent page — or, for a signed-in
//! user of a trusted client, answer with a code at once.
//!
//! The client and redirect URI are checked first; until both are known good
//! every error is an HTML page, never a redirect (RFC 6749 4.1.2.1).

use http::StatusCode;

use crate::app::App;
use crate::crypto;
use crate::domain::{Client, CodeRecord, GrantType, User};
use crate::error::{ErrorCode, OAuthError};
use crate::grant::{CODE_PREFIX, narrow_scope, rng};
use crate::http::{Params, Request, Response, cookie, html, query, redirect, set_cookie, with_query};

pub mod callback;
pub mod page;
pub mod signed;

use signed::{PendingRequest, Session};

/// Cookie holding the CSRF secret the sign-in form is bound to.
pub const CSRF_COOKIE: &str = "za_csrf";
/// Cookie holding the signed-in session.
pub const SESSION_COOKIE: &str = "za_session";
/// Signing purpose of the sign-in form's request blob.
pub const LOGIN_PURPOSE: &str = "login-request";
/// Signing purpose of the session cookie.
pub const SESSION_PURPOSE: &str = "session";

/// `GET /authorize`.
pub async fn authorize(app: &App, req: Request) -> Response {
    let params = match query(&req) {
        Ok(p) => p,
        Err(e) => return error_page(&e.description),
    };
    let (client, redirect_uri, redirect_uri_given) = match client_and_redirect(app, &params).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let state = params.get("state").ok().flatten().map(str::to_owned);
    match begin(app, &req, &params, &client, &redirect_uri, redirect_uri_given, state.clone()).await {
        Ok(res) => res,
        Err(e) => redirect_error(app, &redirect_uri, &e, state.as_deref()),
    }
}

/// The client and the redirect URI, or the HTML error page to show instead.
async fn client_and_redirect(app: &App, params: &Params) -> Result<(Client, String, bool), Response> {
    let page = |msg: &str| error_page(msg);
    let client_id = match params.get("client_id") {
        Ok(Some(id)) => id,
        Ok(None) => return Err(page("The request has no client_id.")),
        Err(e) => return Err(page(&e.description)),
    };
    let client = match app.store.get_client(client_id).await {
        Ok(Some(c)) if !c.disabled => c,
        Ok(_) => return Err(page("The application that sent you here is not registered.")),
        Err(e) => {
            let e = OAuthError::from(e);
            return Err(crate::http::html(e.status(), page::error(&e.description)));
        }
    };
    match params.get("redirect_uri") {
        Err(e) => Err(page(&e.description)),
        // RFC 6749 3.1.2.3: compared as exact strings.
        Ok(Some(uri)) if client.redirect_uris.iter().any(|r| r == uri) => {
            let uri = uri.to_owned();
            Ok((client, uri, true))
        }
        Ok(Some(_)) => Err(page("The redirect_uri is not registered for this application.")),
        Ok(None) => match client.redirect_uris.as_slice() {
            [only] => {
                let only = only.clone();
                Ok((client, only, false))
            }
            _ => Err(page("The request has no redirect_uri and the application has several registered.")),
        },
    }
}

#[allow(clippy::too_many_arguments)]
async fn begin(
    app: &App,
    req: &Request,
    params: &Params,
    client: &Client,
    redirect_uri: &str,
    redirect_uri_given: bool,
    state: Option<String>,
) -> Result<Response, OAuthError> {
    params.get("state")?;
    // Iternio's clients send no response_type: "code" is the default (SPEC.md section 5).
    match params.get("response_type")?.unwrap_or("code") {
        "code" => {}
        other => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type `{other}` is not supported; use `code`"),
            ));
        }
    }
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    let scope = narrow_scope(params.get("scope")?, &client.scopes)?;
    let code_challenge = pkce_challenge(params, client)?;
    let prompt = Prompt::parse(params.get("prompt")?)?;
    let nonce = params.get("nonce")?.map(str::to_owned);
    let now = app.now();

    let session = if prompt.login { None } else { signed_in_user(app, req, now).await? };
    let consent = !client.trusted || prompt.consent;
    let (csrf, new_csrf) = match cookie(req.headers(), CSRF_COOKIE).filter(|c| c.len() == 43) {
        Some(c) => (c.to_owned(), false),
        None => (rng(crypto::random_string(32))?, true),
    };
    let pending = PendingRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        redirect_uri_given,
        scope,
        state,
        code_challenge,
        nonce,
        force_login: prompt.login,
        csrf: crypto::digest(&csrf),
        exp: now + app.config.login_ttl,
    };
    if prompt.none {
        return match (&session, consent) {
            (None, _) => Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "prompt=none was asked but nobody is signed in",
            )),
            (Some(_), true) => Err(OAuthError::new(
                ErrorCode::ConsentRequired,
                "prompt=none was asked but this client needs consent",
            )),
            (Some(user), false) => issue_code(app, &pending, user).await,
        };
    }
    if let (Some(user), false) = (&session, consent) {
        return issue_code(app, &pending, user).await;
    }
    let sealed = signed::seal(&app.config.signing_key, LOGIN_PURPOSE, &pending);
    let body = page::login(&page::LoginPage {
        client_name: &client.name,
        scopes: pending.scope.split(' ').filter(|s| !s.is_empty()).collect(),
        consent,
        signed_in_as: session.as_ref().map(|u| u.username.as_str()),
        error: None,
        request: &sealed,
        username: None,
    });
    let mut res = html(StatusCode::OK, body);
    if new_csrf {
        let attrs = cookie_attributes(app, app.config.login_ttl, "Strict");
        set_cookie(&mut res, &format!("{CSRF_COOKIE}={csrf}; {attrs}"));
    }
    Ok(res)
}

/// RFC 7636 4.3 and RFC 9700 2.1.1: only S256; required for public clients.
fn pkce_challenge(params: &Params, client: &Client) -> Result<Option<String>, OAuthError> {
    let challenge = params.get("code_challenge")?;
    let method = params.get("code_challenge_method")?;
    match (challenge, method) {
        (None, None) if client.is_public() => {
            Err(OAuthError::invalid_request("public clients must use PKCE: send code_challenge with S256"))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => {
            Err(OAuthError::invalid_request("code_challenge_method was sent without code_challenge"))
        }
        (Some(_), Some("S256")) => match challenge {
            Some(c) if c.len() == 43 && crypto::is_pkce_string(c) => Ok(Some(c.to_owned())),
            _ => Err(OAuthError::invalid_request(
                "code_challenge must be the 43-character base64url SHA-256 of the verifier",
            )),
        },
        (Some(_), _) => Err(OAuthError::invalid_request(
            "code_challenge_method must be S256; plain is not accepted (RFC 9700 2.1.1)",
        )),
    }
}

/// The `prompt` parameter (OpenID Connect Core 3.1.2.1).
#[derive(Debug, Default)]
struct Prompt {
    none: bool,
    login: bool,
    consent: bool,
}

impl Prompt {
    fn parse(value: Option<&str>) -> Result<Self, OAuthError> {
        let mut p = Prompt::default();
        for v in value.unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
            match v {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => {}
                other => {
                    return Err(OAuthError::invalid_request(format!("prompt `{other}` is not supported")));
                }
            }
        }
        if p.none && (p.login || p.consent) {
            return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
        }
        Ok(p)
    }
}

/// The user of a valid session cookie, if they still exist and are enabled.
pub async fn signed_in_user(app: &App, req: &Request, now: i64) -> Result<Option<User>, OAuthError> {
    let Some(raw) = cookie(req.headers(), SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = signed::open::<Session>(&app.config.signing_key, SESSION_PURPOSE, raw, now) else {
        return Ok(None);
    };
    Ok(app.store.get_user(&session.username).await?.filter(|u| !u.disabled))
}

/// Cookie attributes: HttpOnly, Path=/, SameSite, Max-Age, and Secure unless
/// the issuer is plain-http loopback (the local server).
pub fn cookie_attributes(app: &App, max_age: i64, same_site: &str) -> String {
    let secure = if app.config.issuer.starts_with("https://") { "; Secure" } else { "" };
    format!("Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}")
}

/// Mints a code for `user` and answers with the redirect to the client
/// (RFC 9700 4.12: 303 after a POST; the `iss` parameter per RFC 9207).
pub async fn issue_code(app: &App, pending: &PendingRequest, user: &User) -> Result<Response, OAuthError> {
    let now = app.now();
    let code = rng(crypto::new_token(CODE_PREFIX, ""))?;
    let record = CodeRecord {
        digest: crypto::digest(&code),
        client_id: pending.client_id.clone(),
        redirect_uri: pending.redirect_uri.clone(),
        redirect_uri_given: pending.redirect_uri_given,
        scope: pending.scope.clone(),
        username: user.username.clone(),
        sub: user.sub.clone(),
        code_challenge: pending.code_challenge.clone(),
        nonce: pending.nonce.clone(),
        state: pending.state.clone(),
        issued_at: now,
        valid_until: now + app.config.code_ttl,
        expires_at: now + app.config.code_retention,
        redeemed: None,
    };
    app.store.put_code(&record).await?;
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &pending.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &app.config.issuer));
    Ok(redirect(StatusCode::SEE_OTHER, &with_query(&pending.redirect_uri, &pairs)))
}

/// An error sent back to the client's redirect URI (RFC 6749 4.1.2.1).
pub fn redirect_error(app: &App, redirect_uri: &str, e: &OAuthError, state: Option<&str>) -> Response {
    let mut pairs = vec![("error", e.code.as_str()), ("error_description", e.description.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &app.config.issuer));
    redirect(StatusCode::SEE_OTHER, &with_query(redirect_uri, &pairs))
}

/// The 400 HTML error page.
pub fn error_page(message: &str) -> Response {
    html(StatusCode::BAD_REQUEST, page::error(message))
}
