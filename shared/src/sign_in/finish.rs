//! The one way out of the interaction (RFC 6749 4.1.2): a fresh code or an
//! error sent to the client's redirect URI, or — before that URI is
//! trusted — an HTML error page (4.1.2.1). Every method finishes here.

use http::StatusCode;

use crate::app::App;
use crate::domain::{Client, CodeRecord};
use crate::error::{ErrorCode, OAuthError};
use crate::federation::kept;
use crate::http::{Response, html, redirect, set_cookie, with_query};
use crate::oauth::tokens;
use crate::sign_in::interaction::{PendingRequest, form_key};
use crate::sign_in::methods::Success;
use crate::sign_in::page;
use crate::sign_in::session::{SignedIn, start_session};

/// What the page says when a form that already signed someone in is posted again.
pub const USED_FORM: &str = "This sign-in form was already used. Start again from the application.";

/// Finishes a method's sign-in from a posted form: the code is written while
/// the form is spent (and the method's cleanup runs), so a form spent before
/// (a replay) gets no code, and the one just written is never sent. Then
/// the session starts and the method's cookies are set.
pub async fn complete(
    app: &App,
    client: &Client,
    pending: &PendingRequest,
    done: Success<'_>,
) -> Result<Response, OAuthError> {
    let now = app.now();
    let Success { who, cleanup, cookies } = done;
    let form = form_key(pending);
    let (issued, spent, ()) =
        tokio::join!(issue_code(app, client, pending, &who), app.store.hit(&form, pending.exp, now), async {
            if let Some(c) = cleanup {
                c.await;
            }
        });
    let spent = spent.map_err(OAuthError::store("spending the sign-in form"));
    let issued = match (issued, spent) {
        (Ok(res), Ok(1)) => Ok(res),
        (Ok(_), Ok(_)) => return Err(OAuthError::invalid_request(USED_FORM)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    // The redirect URI is trusted by now: a store that is briefly
    // unavailable is told to the client (RFC 6749 4.1.2.1).
    let mut res = match issued {
        Ok(res) => res,
        Err(e) if e.code == ErrorCode::TemporarilyUnavailable => {
            return Ok(redirect_error(app, &pending.redirect_uri, &e, pending.state.as_deref()));
        }
        Err(e) => return Err(e),
    };
    start_session(app, &mut res, &who, now);
    for c in cookies {
        set_cookie(&mut res, &c);
    }
    Ok(res)
}

/// Mints a code for `user` and answers with the redirect to the client
/// (RFC 9700 4.12: 303 after a POST; the `iss` parameter per RFC 9207).
pub async fn issue_code(
    app: &App,
    client: &Client,
    pending: &PendingRequest,
    who: &SignedIn,
) -> Result<Response, OAuthError> {
    let now = app.now();
    let user = &who.user;
    let code = tokens::mint_code()?;
    let record = CodeRecord {
        digest: tokens::digest(code.secret()),
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
        auth_time: who.auth_time,
        amr: who.amr.clone(),
        idp: who.idp.clone(),
        // The kept upstream token moves from the request to the code, sealed under the code.
        upstream: pending
            .upstream
            .as_deref()
            .and_then(|sealed| kept::open_from_request(app, sealed))
            // Only when this very sign-in went through that provider.
            .filter(|t| who.idp.as_deref() == Some(t.provider.as_str()))
            .and_then(|t| kept::seal_under(code.secret(), &t)),
        resource: pending.resource.clone(),
    };
    app.store.put_code(&record).await.map_err(OAuthError::store("storing the code"))?;
    let mut pairs = vec![("code", code.secret())];
    // The client's dialect may ask for the code under a second name too.
    if let Some(name) = &client.dialect.code_param {
        pairs.push((name, code.secret()));
    }
    if let Some(s) = &pending.state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &app.config.issuer));
    Ok(redirect(StatusCode::SEE_OTHER, &with_query(&pending.redirect_uri, &pairs)))
}

/// An error sent back to the client's redirect URI (RFC 6749 4.1.2.1).
pub fn redirect_error(app: &App, redirect_uri: &str, e: &OAuthError, state: Option<&str>) -> Response {
    e.log();
    let mut pairs = vec![("error", e.code.as_str()), ("error_description", e.description.as_str())];
    if let Some(s) = state {
        pairs.push(("state", s));
    }
    pairs.push(("iss", &app.config.issuer));
    redirect(StatusCode::SEE_OTHER, &with_query(redirect_uri, &pairs))
}

/// The HTML error page for an error that cannot go to the client: 400 for
/// anything the request caused, the error's own status for a server fault.
pub fn error_page(e: &OAuthError) -> Response {
    let status = if e.status().is_server_error() { e.status() } else { StatusCode::BAD_REQUEST };
    html(status, page::error(&e.description))
}
