//! `POST /callback`: the sign-in form's target. Verifies the sealed request
//! and the CSRF cookie, signs the person in, and on approval answers `303`
//! to the client with a fresh code.
//!
//! Round trips: the client, the user and the throttle counters are read at
//! once; then the code is written (and a failure counter reset) at once.

use http::StatusCode;

use crate::app::App;
use crate::domain::Client;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Params, Request, Response, body_params, html};
use crate::oauth::clients;
use crate::sign_in::password::{self, Outcome};
use crate::sign_in::response::{issue_code, redirect_error};
use crate::sign_in::sealed::{self, PendingRequest};
use crate::sign_in::{LOGIN_PURPOSE, csrf_matches, page, start_session};

/// What the page says after any failed sign-in: it does not tell an unknown
/// username from a wrong password.
pub const BAD_CREDENTIALS: &str = "The username or password is not right.";
/// What the page says when a form that already signed someone in is posted again.
pub const USED_FORM: &str = "This sign-in form was already used. Start again from the application.";
/// What the page says while sign-ins are throttled.
pub const THROTTLED: &str = "Too many failed sign-ins. Wait a few minutes, then try again.";

/// `POST /callback`. An `Err` is shown as the HTML error page.
pub async fn callback(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let now = app.now();
    let page_error = |msg: &str| OAuthError::invalid_request(msg);
    let (sealed, pending) = open_form(app, &req, &params, now)?;
    let (client, reads) = tokio::join!(
        clients::find_in_use(app, &pending.client_id),
        password::read(app, &req, &params, &pending, now)
    );
    let client = client?
        .filter(|c| !c.disabled)
        .ok_or_else(|| page_error("The application is no longer registered."))?;
    let state = pending.state.as_deref();
    match params.get("decision") {
        Ok(Some("approve")) => {}
        Ok(Some("deny")) => {
            let e = OAuthError::new(ErrorCode::AccessDenied, "the user declined the request");
            return Ok(redirect_error(app, &pending.redirect_uri, &e, state));
        }
        _ => return Err(page_error("The sign-in form was posted without a decision.")),
    }
    let (user, clear, device) = match password::decide(app, &params, reads?, now).await? {
        Outcome::SignedIn { who, clear, device } => (who, clear, device),
        Outcome::Throttled => {
            return Ok(retry_page(&client, &pending, sealed, StatusCode::TOO_MANY_REQUESTS, THROTTLED, None));
        }
        Outcome::BadCredentials(name) => {
            return Ok(retry_page(
                &client,
                &pending,
                sealed,
                StatusCode::UNAUTHORIZED,
                BAD_CREDENTIALS,
                name.as_deref(),
            ));
        }
    };
    // The code is written while the form is spent; a form spent before
    // (a replay) gets no code, and the one just written is never sent.
    let form_key = format!("login:form:{}", pending.form);
    let (issued, spent, cleared) = tokio::join!(
        issue_code(app, &client, &pending, &user),
        app.store.hit(&form_key, pending.exp, now),
        async {
            match &clear {
                Some(key) => app.store.clear(key).await,
                None => Ok(()),
            }
        }
    );
    if let Err(e) = cleared {
        tracing::warn!(error = %e, "could not reset the failed sign-in counter");
    }
    let spent = spent.map_err(OAuthError::store("spending the sign-in form"));
    let issued = match (issued, spent) {
        (Ok(res), Ok(1)) => Ok(res),
        (Ok(_), Ok(_)) => return Err(page_error(USED_FORM)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    // The redirect URI is trusted by now: a store that is briefly
    // unavailable is told to the client (RFC 6749 4.1.2.1).
    let mut res = match issued {
        Ok(res) => res,
        Err(e) if e.code == ErrorCode::TemporarilyUnavailable => {
            return Ok(redirect_error(app, &pending.redirect_uri, &e, state));
        }
        Err(e) => return Err(e),
    };
    start_session(app, &mut res, &user, device, now);
    Ok(res)
}

/// The sealed request of a posted form, opened: it must verify, be
/// unexpired, and be bound to this browser's CSRF cookie.
fn open_form<'p>(
    app: &App,
    req: &Request,
    params: &'p Params,
    now: i64,
) -> Result<(&'p str, PendingRequest), OAuthError> {
    let page_error = |msg: &str| OAuthError::invalid_request(msg);
    let sealed =
        params.get("request").ok().flatten().ok_or_else(|| page_error("The sign-in form was incomplete."))?;
    let pending = sealed::open::<PendingRequest>(&app.config.signing_key, LOGIN_PURPOSE, sealed, now)
        .ok_or_else(|| {
            page_error("This sign-in page has expired or was altered. Start again from the application.")
        })?;
    if !csrf_matches(app, req, &pending.csrf) {
        return Err(page_error(
            "This sign-in form was not opened in this browser session (its cookie is missing). \
             Check that cookies are allowed, then start again from the application.",
        ));
    }
    Ok((sealed, pending))
}

/// The sign-in page again, with `message` above the form.
fn retry_page(
    client: &Client,
    pending: &PendingRequest,
    sealed: &str,
    status: StatusCode,
    message: &str,
    username: Option<&str>,
) -> Response {
    let body = page::login(&page::LoginPage {
        client_name: &client.name,
        scopes: pending.scope.iter().collect(),
        consent: !client.is_trusted(),
        signed_in_as: None,
        error: Some(message),
        request: sealed,
        username,
        unverified_redirect_host: page::LoginPage::unverified_host(client, &pending.redirect_uri),
    });
    html(status, body)
}
