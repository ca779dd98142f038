//! `GET /federation/callback`, where every upstream provider sends people
//! back, and `POST /federation/link`, the connect page's target.
//!
//! The callback spends the sign-in's state once — only this browser's
//! binding cookie spends it — then exchanges the code, verifies who the
//! provider says signed in, and finds (or makes, or offers to link) the
//! person. It never issues a code itself: the person lands on ZeroAuth's
//! own consent page for the client, signed in, so a provider that skips its
//! consent (a second sign-in at GitHub) cannot hand an unseen client a code.

mod mailed;

use http::StatusCode;

use crate::app::App;
use crate::crypto;
use crate::domain::{Amr, Provider};
use crate::error::{ErrorCode, OAuthError};
use crate::federation::accounts::{self, Found};
use crate::federation::kept::{self, KeptTokens};
use crate::federation::{self, Failed};
use crate::http::{Request, Response, body_params, cookie, html, parse_form, query, set_cookie};
use crate::sign_in::finish::redirect_error;
use crate::sign_in::interaction::{self, Decision, PendingRequest, csrf_secret};
use crate::sign_in::link::{self, ConnectPage, LINK_PURPOSE, LinkOffer};
use crate::sign_in::methods::password::{BAD_CREDENTIALS, Password};
use crate::sign_in::methods::upstream::{BINDING_COOKIE, unreachable};
use crate::sign_in::methods::{Attempt, Method, Outcome};
use crate::sign_in::self_service::account;
use crate::sign_in::{SignedIn, cookie_attributes, cookie_name, page, sealed};

/// What the page says when the state is not this browser's, is spent or expired.
pub const STALE: &str = "This sign-in did not start in this browser, was already used or has expired. \
     Start again from the application.";

/// What the connect page says after a wrong password.
pub const WRONG_PASSWORD: &str = "That password is not right.";

/// `GET /federation/callback`. An `Err` is shown as the HTML error page.
pub async fn callback(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = query(&req)?;
    let now = app.now();
    let state = params.get("state")?.ok_or_else(|| OAuthError::invalid_request(STALE))?;
    let binding = cookie(req.headers(), &cookie_name(app, BINDING_COOKIE))
        .ok_or_else(|| OAuthError::invalid_request(STALE))?;
    let kept = app
        .store
        .take_upstream_state(&crypto::digest(state), &crypto::digest(binding), now)
        .await
        .map_err(OAuthError::store("spending the sign-in's state"))?
        .ok_or_else(|| OAuthError::invalid_request(STALE))?;
    let pending: PendingRequest = serde_json::from_str(&kept.pending).map_err(OAuthError::server)?;
    let provider = app
        .store
        .get_provider(&kept.provider)
        .await
        .map_err(OAuthError::store("reading the provider"))?
        .filter(|p| p.offered_to(&pending.client_id))
        .ok_or_else(|| OAuthError::invalid_request("This way of signing in is no longer offered."))?;
    let mut res = match params.get("error")? {
        // The person said no at the provider: the client hears it as from us.
        Some("access_denied") => {
            let e =
                OAuthError::new(ErrorCode::AccessDenied, format!("the user declined at {}", provider.name));
            redirect_error(app, &pending.redirect_uri, &e, pending.state.as_deref())
        }
        Some(other) => {
            let e = Failed(format!(
                "it answered {}",
                other.chars().filter(char::is_ascii_graphic).take(64).collect::<String>()
            ));
            return Err(unreachable(&provider, &e));
        }
        None => {
            let code = params
                .get("code")?
                .ok_or_else(|| OAuthError::invalid_request("The provider sent no code."))?;
            signed_in_upstream(app, &req, &provider, &kept, &pending, code, params.get("iss")?).await?
        }
    };
    // The binding is spent with the state.
    let attrs = cookie_attributes(app, 0, "Lax");
    set_cookie(&mut res, &format!("{}=; {attrs}", cookie_name(app, BINDING_COOKIE)));
    Ok(res)
}

/// The code exchanged, the identity verified and resolved: the consent
/// page signed in, the connect page, or a page saying why not.
async fn signed_in_upstream(
    app: &App,
    req: &Request,
    provider: &Provider,
    kept: &crate::domain::UpstreamState,
    pending: &PendingRequest,
    code: &str,
    iss: Option<&str>,
) -> Result<Response, OAuthError> {
    let fail = |e: Failed| unreachable(provider, &e);
    let endpoints = federation::endpoints(app, provider).await.map_err(fail)?;
    // RFC 9207: an `iss` sent back must be the provider's.
    if let Some(iss) = iss
        && provider.kind.is_oidc()
        && !endpoints.issuer.contains("{tenantid}")
        && iss != endpoints.issuer
    {
        return Err(fail(Failed(format!("it sent the person back naming another issuer ({iss})"))));
    }
    let tokens = federation::exchange(app, provider, &endpoints, code, &kept.verifier).await.map_err(fail)?;
    let profile =
        federation::profile(app, provider, &endpoints, &tokens, kept.nonce.as_deref()).await.map_err(fail)?;
    let mut pending = pending.clone();
    pending.upstream = keep(app, provider, &tokens, pending.resource.as_deref())?;
    let pending = &pending;
    match accounts::resolve(app, provider, &profile).await? {
        Found::Person(user) => {
            let idp = Some(provider.id.clone());
            let who = SignedIn { user, auth_time: app.now(), amr: vec![Amr::Fed], idp };
            consent(app, req, pending, who).await
        }
        Found::Link(person) => {
            let offer = link::offer(app, provider, &profile, &person, pending);
            connect_page(app, req, pending, &offer, None, StatusCode::OK)
        }
        Found::Refused(msg) => Ok(html(StatusCode::FORBIDDEN, page::error(msg))),
    }
}

/// The person's upstream token, sealed for the code, when the provider
/// keeps it for the resource this sign-in is for.
fn keep(
    app: &App,
    provider: &Provider,
    tokens: &federation::Tokens,
    resource: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    if !provider.keeps_tokens_for(resource) {
        return Ok(None);
    }
    let kept = KeptTokens {
        provider: provider.id.clone(),
        access_token: tokens.access_token.clone(),
        expires_at: tokens.expires_in.map(|s| app.now().saturating_add(s)),
    };
    kept::seal_for_request(app, &kept)
        .map(Some)
        .ok_or_else(|| OAuthError::server("sealing the upstream token"))
}

/// ZeroAuth's own consent (or "continue") page for the client, with the
/// person's session started: the sign-in is fresh, so `prompt=login` and
/// `max_age` are satisfied.
pub(crate) async fn consent(
    app: &App,
    req: &Request,
    pending: &PendingRequest,
    who: SignedIn,
) -> Result<Response, OAuthError> {
    let back = serde_json::to_string(pending).map_err(OAuthError::server)?;
    account::resume(app, req, &back, Some(who), None).await
}

/// The connect page for `offer`, sealed for this browser.
fn connect_page(
    app: &App,
    req: &Request,
    pending: &PendingRequest,
    offer: &LinkOffer,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, OAuthError> {
    let (csrf, new_csrf) = csrf_secret(app, req)?;
    let mut pending = pending.clone();
    pending.csrf = crypto::digest(&csrf);
    pending.exp = app.now() + app.config.login_ttl;
    let offer = LinkOffer { csrf: pending.csrf.clone(), ..offer.clone() };
    let request = account::reseal(app, &pending);
    let (_, reset_url) = page::self_service_urls(app, &request);
    let reset_url = reset_url.as_deref();
    let sealed_offer = sealed::seal(&app.config.signing_key, LINK_PURPOSE, &offer);
    let mail = app.mail_enabled();
    let page = ConnectPage { offer: &sealed_offer, about: &offer, request: &request, error, reset_url, mail };
    let body = link::connect(app, &page);
    let mut res = html(status, body);
    if new_csrf {
        interaction::set_csrf_cookie(app, &mut res, &csrf);
    }
    Ok(res)
}

/// The link offer posted with `pending`: it must verify, be unexpired and
/// be bound to the same browser.
pub(crate) fn open_offer(
    app: &App,
    sealed: &str,
    pending: &PendingRequest,
    now: i64,
) -> Result<LinkOffer, OAuthError> {
    sealed::open::<LinkOffer>(&app.config.signing_key, LINK_PURPOSE, sealed, now)
        .filter(|o| crypto::ct_eq(&o.csrf, &pending.csrf))
        .ok_or_else(|| OAuthError::invalid_request(EXPIRED))
}

/// What the pages say when a form is stale or altered.
const EXPIRED: &str = "This page has expired or was altered. Start again from the application.";

/// `POST /federation/link`: the account's password (or a code mailed to its
/// address, [`mailed`]) proves it, then the identity is linked and the
/// person goes on to the consent page.
pub async fn link(app: &App, req: Request) -> Result<Response, OAuthError> {
    let params = body_params(&req)?;
    let now = app.now();
    // The mailed code's page posts without the request: its flow keeps it.
    if params.get("request")?.is_none() {
        return mailed::by_code(app, &req, &params).await;
    }
    let (sealed_request, pending) = interaction::open(app, &req, &params, now)?;
    let sealed_offer = params.get("offer")?.unwrap_or_default();
    let offer = open_offer(app, sealed_offer, &pending, now)?;
    if params.get("step")? == Some("mail") {
        return mailed::send(app, &req, (sealed_request, sealed_offer), &offer).await;
    }
    if interaction::decision(&params)? == Decision::Deny {
        let e = OAuthError::new(ErrorCode::AccessDenied, "the user declined the request");
        return Ok(redirect_error(app, &pending.redirect_uri, &e, pending.state.as_deref()));
    }
    let person =
        app.store.get_person(&offer.sub, None).await.map_err(OAuthError::store("reading the person"))?;
    let address = person.as_ref().and_then(|p| p.email.clone()).unwrap_or_default();
    // The password method, on the account's own address and the typed password.
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("username", &address)
        .append_pair("password", params.get("password")?.unwrap_or_default())
        .finish();
    let typed = parse_form(form.as_bytes())?;
    let attempt = Attempt { app, req: &req, params: &typed, pending: &pending, now };
    match Password.sign_in(&attempt).await? {
        Outcome::SignedIn(done) if done.who.user.sub == offer.sub => {
            if let Some(cleanup) = done.cleanup {
                cleanup.await;
            }
            let linked = accounts::link(app, &done.who.user, &offer.profile).await?;
            let who = SignedIn {
                user: linked,
                auth_time: now,
                amr: vec![Amr::Pwd, Amr::Fed],
                idp: Some(offer.profile.provider.clone()),
            };
            let mut res = consent(app, &req, &pending, who).await?;
            for c in done.cookies {
                set_cookie(&mut res, &c);
            }
            Ok(res)
        }
        Outcome::SignedIn(_) | Outcome::Elsewhere(_) | Outcome::Mail(_) => {
            Err(OAuthError::invalid_request(EXPIRED))
        }
        // The method's message names the address or username; here only the password was typed.
        Outcome::Retry(r) if r.message == BAD_CREDENTIALS => {
            connect_page(app, &req, &pending, &offer, Some(WRONG_PASSWORD), r.status)
        }
        Outcome::Retry(r) => connect_page(app, &req, &pending, &offer, Some(r.message), r.status),
    }
}
