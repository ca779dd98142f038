//! What every self-service flow does the same way: the browser's random
//! handle (a cookie) and the flow item it names; the challenge (a 6-digit
//! code and a link token, kept only as keyed digests); the mail limits,
//! counted atomically like the sign-in throttle; and the answer that takes
//! as long whether or not an address has an account.

use std::time::{Duration, Instant};

use http::StatusCode;

use super::pages;
use crate::app::App;
use crate::crypto;
use crate::domain::{Challenge, ChallengeKind, Flow, Proof};
use crate::error::OAuthError;
use crate::http::{Request, Response, client_ip, cookie, html, set_cookie};
use crate::mail::Mail;
use crate::oauth::tokens::rng;
use crate::sign_in::{cookie_attributes, cookie_name};

/// Cookie holding the flow's random handle (named through [`cookie_name`]).
pub const FLOW_COOKIE: &str = "za_flow";
/// A flow lasts as long as its longest code, and no longer than this.
const FLOW_TTL: i64 = 3600;
/// Length of a handle: 32 random bytes, base64url.
const HANDLE_LEN: usize = 43;

/// A new flow for this browser: stored, with the cookie to set.
pub struct Started {
    /// The flow as stored.
    pub flow: Flow,
    /// The cookie's value (the handle itself; only its digest is stored).
    handle: String,
}

impl Started {
    /// Sets the flow's cookie on `res`.
    pub fn set_cookie(&self, app: &App, res: &mut Response) {
        let attrs = cookie_attributes(app, self.flow.expires_at - self.flow.created_at, "Lax");
        set_cookie(res, &format!("{}={}; {attrs}", cookie_name(app, FLOW_COOKIE), self.handle));
    }
}

/// Starts a flow (stored at once) for `kind` and the address typed.
pub async fn begin(
    app: &App,
    kind: ChallengeKind,
    sub: Option<String>,
    email: &str,
    return_to: Option<String>,
) -> Result<Started, OAuthError> {
    let now = app.now();
    let handle = rng(crypto::random_string(32))?;
    let flow = Flow {
        handle: crypto::digest(&handle),
        kind,
        sub,
        email: email.to_owned(),
        return_to,
        created_at: now,
        expires_at: now + FLOW_TTL.max(ttl(app, kind)),
    };
    app.store.put_flow(&flow).await.map_err(OAuthError::store("starting the flow"))?;
    Ok(Started { flow, handle })
}

/// This browser's flow, if its cookie names a live one.
pub async fn current(app: &App, req: &Request) -> Result<Option<Flow>, OAuthError> {
    let Some(handle) =
        cookie(req.headers(), &cookie_name(app, FLOW_COOKIE)).filter(|c| c.len() == HANDLE_LEN)
    else {
        return Ok(None);
    };
    let flow = app.store.get_flow(&crypto::digest(handle), app.now()).await;
    flow.map_err(OAuthError::store("reading the flow"))
}

/// Ends a flow: its item goes and its cookie is cleared.
pub async fn end(app: &App, res: &mut Response, flow: &Flow) {
    if let Err(e) = app.store.delete_flow(&flow.handle).await {
        // It expires on its own; its challenge is spent already.
        tracing::warn!(error = %e, "could not remove a finished flow");
    }
    let attrs = cookie_attributes(app, 0, "Lax");
    set_cookie(res, &format!("{}=; {attrs}", cookie_name(app, FLOW_COOKIE)));
}

/// The page of a flow of `kind`: where its code is typed and its link opens.
pub fn page(kind: ChallengeKind) -> &'static str {
    match kind {
        ChallengeKind::Reset => "/reset",
        ChallengeKind::Invite => "/signup",
        ChallengeKind::Verify | ChallengeKind::EmailChange => "/verify",
        ChallengeKind::Link => "/federation/link",
        ChallengeKind::SignIn => "/login/email",
    }
}

/// How long a challenge of `kind` is good for.
pub fn ttl(app: &App, kind: ChallengeKind) -> i64 {
    let s = &app.config.self_service;
    match kind {
        ChallengeKind::Verify | ChallengeKind::EmailChange => s.verify_ttl,
        // No longer than the connect page it came from stays good.
        ChallengeKind::Link => s.verify_ttl.min(app.config.login_ttl),
        // Ten minutes, and never longer than the page it came from.
        ChallengeKind::SignIn => 600.min(app.config.login_ttl),
        ChallengeKind::Reset => s.reset_ttl,
        ChallengeKind::Invite => s.invite_ttl,
    }
}

/// A fresh code and link for a person, stored as their one live challenge
/// of `kind` (any earlier one stops working).
pub struct Issued {
    /// The six digits to type.
    pub code: String,
    /// The link's absolute URL.
    pub link: String,
    /// Minutes the code is good for.
    pub minutes: u32,
}

/// Makes and stores a challenge; `path` is the page the link opens.
pub async fn issue(
    app: &App,
    kind: ChallengeKind,
    sub: &str,
    email: &str,
    flow: Option<&Flow>,
    path: &str,
) -> Result<Issued, OAuthError> {
    let now = app.now();
    let code = six_digits()?;
    let secret = rng(crypto::random_string(32))?;
    let token = format!("{}.{sub}.{secret}", kind.as_str());
    let challenge = Challenge {
        sub: sub.to_owned(),
        kind,
        email: email.to_owned(),
        code_digest: code_digest(app, sub, kind, &code),
        link_digest: link_digest(&token),
        flow: flow.map(|f| f.handle.clone()),
        created_at: now,
        expires_at: now + ttl(app, kind),
    };
    app.store.put_challenge(&challenge).await.map_err(OAuthError::store("storing the code"))?;
    let link = crate::http::with_query(&app.url(path), &[("t", &token)]);
    let minutes = u32::try_from(ttl(app, kind) / 60).unwrap_or(u32::MAX);
    Ok(Issued { code, link, minutes })
}

/// Six random digits, uniformly (rejection sampling).
fn six_digits() -> Result<String, OAuthError> {
    loop {
        let bytes = rng(crypto::random_bytes(4))?;
        let n = u32::from_be_bytes([
            bytes.first().copied().unwrap_or(0),
            bytes.get(1).copied().unwrap_or(0),
            bytes.get(2).copied().unwrap_or(0),
            bytes.get(3).copied().unwrap_or(0),
        ]);
        // The largest multiple of 10^6 that fits, so every code is as likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// The keyed digest a code is kept as: a stolen table does not give the
/// codes up to a million guesses offline.
pub fn code_digest(app: &App, sub: &str, kind: ChallengeKind, code: &str) -> String {
    crypto::sign(&app.config.signing_key, format!("code|{}|{sub}|{code}", kind.as_str()).as_bytes())
}

/// The digest a link token is kept as. Its 256 random bits need no key
/// (so the CLI can mail invitations without the server's signing key).
pub fn link_digest(token: &str) -> String {
    crypto::digest(token)
}

/// A typed code, if it is six digits (spaces and dashes ignored).
pub fn typed_code(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The kind and person a link token names (its secret is checked by the
/// store against the digest).
pub fn link_target(token: &str) -> Option<(ChallengeKind, &str)> {
    let (kind, rest) = token.split_once('.')?;
    let (sub, secret) = rest.rsplit_once('.')?;
    (!sub.is_empty() && secret.len() == 43).then_some(())?;
    Some((ChallengeKind::parse(kind)?, sub))
}

/// What trying a code in a flow came to.
pub enum Tried {
    /// The code was right: the challenge is spent.
    Right(Challenge),
    /// Not right (or the address has no account: the same answer).
    Wrong,
    /// The flow has used its attempts: its code is burnt.
    Burnt,
}

/// Tries a typed code in `flow`. Each try is counted first, atomically; past
/// the limit the code is burnt and nothing is checked.
pub async fn try_code(app: &App, flow: &Flow, code: &str) -> Result<Tried, OAuthError> {
    let now = app.now();
    let tries = app.store.hit(&tries_key(flow), flow.expires_at, now).await;
    let tries = tries.map_err(OAuthError::store("counting the try"))?;
    let max = app.config.self_service.max_attempts;
    if tries > max {
        return Ok(Tried::Burnt);
    }
    // A flow for an address without an account tries a person nobody is,
    // so it does the same work as one with.
    let sub = flow.sub.as_deref().unwrap_or(NOBODY);
    let digest = code_digest(app, sub, flow.kind, code);
    let proof = Proof::Code { digest: &digest, flow: &flow.handle };
    let spent = app.store.consume_challenge(sub, flow.kind, &proof, now).await;
    match spent.map_err(OAuthError::store("checking the code"))? {
        Some(c) if flow.sub.is_some() => Ok(Tried::Right(c)),
        _ if tries >= max => {
            if let Err(e) = app.store.delete_challenge(sub, flow.kind).await {
                tracing::warn!(error = %e, "could not remove a burnt code (it is refused anyway)");
            }
            Ok(Tried::Burnt)
        }
        _ => Ok(Tried::Wrong),
    }
}

/// The `sub` a flow without an account tries codes against: no person has
/// it (new people's are `za_user_` and random; an imported one is a single
/// word).
const NOBODY: &str = "za nobody";

fn tries_key(flow: &Flow) -> String {
    format!("flow:tries:{}", flow.handle)
}

/// A new code was sent: the flow may try five times again (the mail limits
/// bound how often).
pub async fn reset_tries(app: &App, flow: &Flow) -> Result<(), OAuthError> {
    app.store.clear(&tries_key(flow)).await.map_err(OAuthError::store("resetting the tries"))
}

/// Spends the challenge a link token names, if it is right.
pub async fn try_link(app: &App, kind: ChallengeKind, token: &str) -> Result<Option<Challenge>, OAuthError> {
    let Some((named, sub)) = link_target(token).filter(|(k, _)| *k == kind) else { return Ok(None) };
    let digest = link_digest(token);
    let spent = app.store.consume_challenge(sub, named, &Proof::Link { digest: &digest }, app.now()).await;
    spent.map_err(OAuthError::store("checking the link"))
}

/// Counts a mail to `email` from this client address against the hourly
/// limits; `Err` is the 429 page saying when to try again. Counted before
/// anything is sent, whether or not the address has an account.
pub async fn count_mail(app: &App, req: &Request, email: &str) -> Result<Result<(), Response>, OAuthError> {
    let now = app.now();
    let s = &app.config.self_service;
    let window_end = (now / 3600 + 1) * 3600;
    let to_key = format!("mail:to:{}", crypto::digest(&mailbox(email)));
    let ip_key = client_ip(req).map(|ip| format!("mail:ip:{ip}"));
    let (to, ip) = tokio::join!(app.store.hit(&to_key, window_end, now), async {
        match &ip_key {
            Some(k) => app.store.hit(k, window_end, now).await.map(Some),
            None => Ok(None),
        }
    });
    let to = to.map_err(OAuthError::store("counting mails"))?;
    let ip = ip.map_err(OAuthError::store("counting mails"))?;
    if to > s.mails_per_address || ip.is_some_and(|n| n > s.mails_per_ip) {
        let minutes = ((window_end - now) + 59) / 60;
        return Ok(Err(too_many(minutes)));
    }
    Ok(Ok(()))
}

/// The mailbox an address reaches, for the per-address limit: lower-cased,
/// without a `+tag` (one inbox is not flooded through its variants).
fn mailbox(email: &str) -> String {
    let email = email.trim().to_lowercase();
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.split('+').next().unwrap_or(local)),
        None => email,
    }
}

/// The 429 page for a limit reached, with `Retry-After`.
pub fn too_many(minutes: i64) -> Response {
    let mut res = html(StatusCode::TOO_MANY_REQUESTS, pages::too_many(minutes));
    if let Ok(v) = http::HeaderValue::from_str(&(minutes * 60).to_string()) {
        res.headers_mut().insert(http::header::RETRY_AFTER, v);
    }
    res
}

/// Sends a mail; a failure is logged (never its body) and told as a
/// server fault, after whatever was stored stays consistent.
pub async fn send(app: &App, mail: Mail) -> Result<(), OAuthError> {
    match app.mailer.send(&mail).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let domain = mail.to.rsplit_once('@').map_or("", |(_, d)| d);
            tracing::error!(error = %e, transport = app.mailer.transport(), to_domain = domain, "mail not sent");
            let mut e = OAuthError::unavailable().with_cause(format!("mail not sent: {e}"));
            e.description = "We could not send the mail just now. Try again in a minute.".into();
            Err(e)
        }
    }
}

/// Runs `work`, then waits until the deployment's response floor has
/// passed since `start`, so an answer that mailed and one that did not take
/// as long.
pub async fn at_floor<T>(app: &App, start: Instant, work: impl Future<Output = T>) -> T {
    let out = work.await;
    let floor = Duration::from_millis(app.config.self_service.response_floor_ms);
    tokio::time::sleep_until((start + floor).into()).await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_typed_ones_are_read_loosely() {
        for _ in 0..200 {
            let c = six_digits().unwrap_or_default();
            assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        }
        assert_eq!(typed_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(typed_code("123-456").as_deref(), Some("123456"));
        assert_eq!(typed_code("12345a"), None);
        assert_eq!(typed_code("1234567"), None);
        assert_eq!(typed_code("１２３４５６"), None, "only ASCII digits");
    }

    #[test]
    fn tagged_addresses_count_against_their_mailbox() {
        assert_eq!(mailbox(" Ann+news@Example.org"), "ann@example.org");
        assert_eq!(mailbox("ann+a+b@example.org"), "ann@example.org");
        assert_eq!(mailbox("ann@example.org"), "ann@example.org");
    }

    #[test]
    fn a_link_token_names_its_kind_and_person() {
        let secret = "a".repeat(43);
        let t = format!("reset.za_user_x.y.{secret}");
        assert_eq!(link_target(&t), Some((ChallengeKind::Reset, "za_user_x.y")));
        assert_eq!(link_target(&format!("nope.s.{secret}")), None);
        assert_eq!(link_target("reset.s.short"), None);
        assert_eq!(link_target(&format!("reset..{secret}")), None);
    }
}
