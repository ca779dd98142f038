//! `GET /authorize` (RFC 6749 4.1.1, RFC 7636 4.3, RFC 9700): validate the
//! request, then show the sign-in and consent page — or, for a signed-in
//! user of a trusted client, answer with a code at once.
//!
//! The client and redirect URI are checked first; until both are known good
//! every error is an HTML page, never a redirect (RFC 6749 4.1.2.1). After
//! that, errors go to the client's redirect URI.

use crate::app::App;
use crate::crypto;
use crate::domain::{Client, GrantType, Resource};
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response, query};
use crate::oauth::oidc::OidcParams;
use crate::oauth::prompt::Prompt;
use crate::oauth::redirect_uri::{self, Resolved};
use crate::oauth::{Scope, clients, pkce, resource, tokens};
use crate::sign_in::finish::{issue_code, redirect_error};
use crate::sign_in::interaction::{PendingRequest, csrf_secret};
use crate::sign_in::{page, signed_in_user, step};

/// `GET /authorize`. An `Err` is shown as the HTML error page.
pub async fn authorize(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = query(&req)?;
    // The resource (RFC 8707) is read while the client is: one round trip.
    let (found, target) = tokio::join!(client_and_redirect(app, &params), async {
        resource::lookup(app, params.get("resource")?).await
    });
    let (client, redirect) = found?;
    let state = params.get("state").ok().flatten();
    match begin(app, &req, &params, &client, redirect.clone(), target).await {
        Ok(res) => Ok(res),
        Err(e) => Ok(redirect_error(app, &redirect.uri, &e, state)),
    }
}

/// The client and the redirect URI; an error here is shown as a page.
async fn client_and_redirect(app: &App, params: &Params) -> Result<(Client, Resolved), OAuthError> {
    let client_id = params
        .get_id("client_id")?
        .ok_or_else(|| OAuthError::invalid_request("The request has no client_id."))?;
    let client = clients::find_in_use(app, client_id).await?;
    let client = client.filter(|c| !c.disabled).ok_or_else(|| {
        OAuthError::invalid_request("The application that sent you here is not registered.")
    })?;
    let redirect =
        redirect_uri::resolve(&client, params.get("redirect_uri")?).map_err(OAuthError::invalid_request)?;
    Ok((client, redirect))
}

/// Everything after the redirect URI is trusted; an error here goes to it.
async fn begin(
    app: &App,
    req: &Request,
    params: &Params,
    client: &Client,
    redirect: Resolved,
    target: Result<Option<Resource>, OAuthError>,
) -> Result<Response, OAuthError> {
    let state = params.get("state")?.map(str::to_owned);
    check_code_flow(params, client)?;
    let target = target?.map(|r| resource::allowed_for(client, r)).transpose()?;
    let allowed = target.as_ref().map_or_else(|| client.scopes.clone(), |r| resource::scopes_for(client, r));
    let scope = Scope::narrow(params.get("scope")?, &allowed)?;
    let code_challenge = pkce::challenge(
        params.get("code_challenge")?,
        params.get("code_challenge_method")?,
        client.is_public(),
    )?;
    let prompt = Prompt::parse(params.get("prompt")?)?;
    let oidc = OidcParams::parse(app, params, &client.client_id)?;
    let now = app.now();

    let session = if prompt.login { None } else { signed_in_user(app, req, now).await? };
    // A sign-in older than max_age, or of someone other than the
    // id_token_hint names, does not count (OpenID Connect Core 3.1.2.1).
    let session = session.filter(|s| {
        oidc.max_age.is_none_or(|m| now - s.auth_time <= m)
            && oidc.hinted_sub.as_ref().is_none_or(|sub| *sub == s.user.sub)
    });
    let consent = !client.is_trusted() || prompt.consent;
    let (csrf, new_csrf) = csrf_secret(app, req)?;
    let pending = PendingRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect.uri,
        redirect_uri_given: redirect.given,
        scope,
        state,
        code_challenge,
        nonce: oidc.nonce,
        force_login: prompt.login,
        max_age: oidc.max_age,
        acr: oidc.acr,
        login_hint: oidc.login_hint,
        resource: target.map(|r| r.uri),
        upstream: None,
        csrf: crypto::digest(&csrf),
        form: tokens::rng(crypto::random_string(16))?,
        exp: now + app.config.login_ttl,
    };
    match (&session, consent, prompt.none) {
        (None, _, true) => {
            Err(OAuthError::new(ErrorCode::LoginRequired, "prompt=none was asked but nobody is signed in"))
        }
        (Some(_), true, true) => Err(OAuthError::new(
            ErrorCode::ConsentRequired,
            "prompt=none was asked but this client needs consent",
        )),
        // A session strong enough for this request gets its code at once;
        // one that is not asks only for what is missing.
        (Some(who), false, none) => match step::due(app, client, &pending, who).await? {
            None => issue_code(app, client, &pending, who).await,
            Some(_) if none => Err(step::interaction_required()),
            Some((need, factors)) => {
                let s = step::FactorStep::new(who, need, &pending, now)?;
                step::page::ask(app, new_csrf.then_some(csrf.as_str()), client, &pending, &s, &factors, None)
            }
        },
        _ => {
            let who = session.as_ref().map(|s| &s.user);
            page::sign_in_page(app, client, &pending, who, consent, (&csrf, new_csrf), None).await
        }
    }
}

/// The request must ask for a code, of a client registered for codes.
fn check_code_flow(params: &Params, client: &Client) -> Result<(), OAuthError> {
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
    Ok(())
}
