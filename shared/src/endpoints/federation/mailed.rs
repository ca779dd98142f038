//! Proving the account by a code mailed to its address, for a person who
//! has no password (made through another provider, say): the connect
//! page's "Email a code" starts a self-service flow whose item keeps the
//! sealed request and offer, the code goes to the account's verified
//! address (within the mail limits), and only this browser's flow can spend
//! it (5 tries). Then the identity is linked as after a password.

use http::StatusCode;

use super::{consent, open_offer};
use crate::app::App;
use crate::domain::{Amr, ChallengeKind, Flow};
use crate::error::OAuthError;
use crate::federation::accounts;
use crate::http::{Params, Request, Response, html, parse_form};
use crate::sign_in::interaction;
use crate::sign_in::link::{LINK_PATH, LinkOffer};
use crate::sign_in::self_service::account::{self, CodePosted};
use crate::sign_in::self_service::flow;
use crate::sign_in::self_service::pages::{self, CodePage, Note};
use crate::sign_in::{SignedIn, endpoint_url};

const NO_FLOW: &str = "There is no code to enter in this browser. Start again from the application.";

/// What the flow keeps: the sealed request and offer, as posted.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    request: String,
    offer: String,
}

/// Mails a code to the account's address and shows the code page.
pub(super) async fn send(
    app: &App,
    req: &Request,
    (request, offer_sealed): (&str, &str),
    offer: &LinkOffer,
) -> Result<Response, OAuthError> {
    let person =
        app.store.get_person(&offer.sub, None).await.map_err(OAuthError::store("reading the person"))?;
    let Some(address) = person.filter(|p| p.is_active() && p.email_verified).and_then(|p| p.email) else {
        return Err(OAuthError::invalid_request(NO_FLOW));
    };
    if let Err(limited) = flow::count_mail(app, req, &address).await? {
        return Ok(limited);
    }
    let kept = Kept { request: request.to_owned(), offer: offer_sealed.to_owned() };
    let kept = serde_json::to_string(&kept).map_err(OAuthError::server)?;
    let started =
        flow::begin(app, ChallengeKind::Link, Some(offer.sub.clone()), &address, Some(kept)).await?;
    account::mail_code(app, &started.flow).await?;
    let mut res = code_page(app, &started.flow, StatusCode::OK, None);
    started.set_cookie(app, &mut res);
    Ok(res)
}

/// The code page posted: a new code, or the code typed.
pub(super) async fn by_code(app: &App, req: &Request, params: &Params) -> Result<Response, OAuthError> {
    let current = flow::current(app, req).await?.filter(|f| f.kind == ChallengeKind::Link);
    let Some(current) = current else { return Err(OAuthError::invalid_request(NO_FLOW)) };
    let challenge = match account::post_code(app, req, params, &current).await? {
        CodePosted::Spent(c) => c,
        CodePosted::Again(status, note) => return Ok(code_page(app, &current, status, Some(note))),
        CodePosted::Limited(page) => return Ok(page),
    };
    let now = app.now();
    let kept: Kept = serde_json::from_str(current.return_to.as_deref().unwrap_or_default())
        .map_err(|_| OAuthError::invalid_request(NO_FLOW))?;
    // The request is still this browser's (its CSRF cookie), and the offer its.
    let form = form_urlencoded::Serializer::new(String::new()).append_pair("request", &kept.request).finish();
    let (_, pending) = interaction::open(app, req, &parse_form(form.as_bytes())?, now)?;
    let offer = open_offer(app, &kept.offer, &pending, now)?;
    let person =
        app.store.get_person(&challenge.sub, None).await.map_err(OAuthError::store("reading the person"))?;
    let person = person
        .filter(|p| p.is_active() && p.sub == offer.sub)
        .ok_or_else(|| OAuthError::invalid_request(NO_FLOW))?;
    let linked = accounts::link(app, &person, &offer.profile).await?;
    let who = SignedIn {
        user: linked,
        auth_time: now,
        amr: vec![Amr::Fed],
        idp: Some(offer.profile.provider.clone()),
    };
    let mut res = consent(app, req, &pending, who).await?;
    flow::end(app, &mut res, &current).await;
    Ok(res)
}

fn code_page(app: &App, f: &Flow, status: StatusCode, note: Option<Note<'_>>) -> Response {
    let action = endpoint_url(app, LINK_PATH);
    let page = CodePage {
        action: &action,
        title: "Check your email",
        email: &f.email,
        new_password: false,
        note,
        with_link: false,
    };
    html(status, pages::code(&page))
}
