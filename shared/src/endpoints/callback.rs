//! `POST /callback`: the sign-in form's target. Opens the interaction, reads
//! the decision, runs the method the form chose (or continues the session),
//! and finishes: a code for the client, or the page again.
//!
//! Round trips of a password sign-in: the client, the person's identifier
//! and the throttle counters at once; the person and their password; then
//! the code is written while the form is spent.

use http::StatusCode;

use crate::app::App;
use crate::domain::Client;
use crate::endpoints::email_code;
use crate::error::{ErrorCode, OAuthError};
use crate::http::{Request, Response, body_params, html};
use crate::oauth::clients;
use crate::sign_in::finish::redirect_error;
use crate::sign_in::interaction::{self, Decision, PendingRequest};
use crate::sign_in::methods::password::BAD_CREDENTIALS;
use crate::sign_in::methods::{self, Attempt, Method, Outcome, Retry, Success, passkey, upstream};
use crate::sign_in::{endpoint_url, page, signed_in_user, step};

/// `POST /callback`. An `Err` is shown as the HTML error page.
pub async fn callback(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let now = app.now();
    let (sealed, pending) = interaction::open(app, &req, &params, now)?;
    let decision = interaction::decision(&params)?;
    let attempt = Attempt { app, req: &req, params: &params, pending: &pending, now };
    let client = clients::find_in_use(app, &pending.client_id);
    let (client, outcome) = match decision {
        Decision::Deny => (client.await, None),
        Decision::Approve => {
            let chosen = methods::chosen(methods::ALL, &params);
            let (client, outcome) = tokio::join!(client, run(chosen, &attempt));
            (client, Some((chosen.map(|m| m.name()), outcome)))
        }
    };
    let client = client?
        .filter(|c| !c.disabled)
        .ok_or_else(|| OAuthError::invalid_request("The application is no longer registered."))?;
    let Some((method, outcome)) = outcome else {
        let e = OAuthError::new(ErrorCode::AccessDenied, "the user declined the request");
        return Ok(redirect_error(app, &pending.redirect_uri, &e, pending.state.as_deref()));
    };
    let allowed = methods::enabled(app, &client);
    if method.is_some_and(|m| !allowed.iter().any(|e| e.name() == m)) {
        return Err(OAuthError::invalid_request(
            "This way of signing in is not offered to this application.",
        ));
    }
    match outcome? {
        // Verification first when the deployment holds the person back,
        // then a second factor when one is due, then the code.
        // A passkey's button was not the consent form's "Allow".
        Outcome::SignedIn(done) if method == Some(passkey::NAME) => {
            step::consent_then_proceed(app, &req, &client, &pending, done).await
        }
        Outcome::SignedIn(done) => step::proceed(app, &req, &client, &pending, done).await,
        Outcome::Elsewhere(res) => Ok(res),
        Outcome::Mail(m) => email_code::send(app, &req, sealed, (m.sub, &m.address), None).await,
        Outcome::Retry(r) => retry_page(app, &client, &allowed, &pending, sealed, &r).await,
    }
}

/// Runs the method the form chose (whether the client allows it is checked
/// once the client is read, before anything is issued); with none, the form
/// continues the browser's session (when `prompt=login` or `max_age` do not
/// ask for a fresh sign-in).
async fn run<'a>(method: Option<&dyn Method>, a: &Attempt<'a>) -> Result<Outcome<'a>, OAuthError> {
    if let Some(method) = method {
        return method.sign_in(a).await;
    }
    let session = if a.pending.force_login { None } else { signed_in_user(a.app, a.req, a.now).await? };
    // OpenID Connect max_age: an older sign-in does not count.
    match session.filter(|s| a.pending.max_age.is_none_or(|m| a.now - s.auth_time <= m)) {
        Some(who) => Ok(Outcome::SignedIn(Success { who, cleanup: None, cookies: Vec::new() })),
        None => Ok(Outcome::Retry(Retry {
            status: StatusCode::UNAUTHORIZED,
            message: BAD_CREDENTIALS,
            prefill: None,
        })),
    }
}

/// The sign-in page again, with the retry's message above the form.
async fn retry_page(
    app: &App,
    client: &Client,
    allowed: &[&dyn Method],
    pending: &PendingRequest,
    sealed: &str,
    r: &Retry,
) -> Result<Response, OAuthError> {
    let providers = upstream::offered(app, &client.client_id).await?;
    let action = endpoint_url(app, "/callback");
    let (sign_up_url, reset_url) = page::self_service_urls(app, sealed);
    let body = page::login(&page::LoginPage {
        client_name: &client.name,
        scopes: pending.scope.iter().collect(),
        consent: !client.is_trusted(),
        signed_in_as: None,
        error: Some(r.message),
        request: sealed,
        prefill: r.prefill.as_deref(),
        methods: allowed,
        action: &action,
        unverified_redirect_host: page::LoginPage::unverified_host(client, &pending.redirect_uri),
        notice: None,
        sign_up_url: sign_up_url.as_deref(),
        reset_url: reset_url.as_deref(),
        providers: &providers,
    });
    Ok(page::with_script(html(r.status, body)))
}
