//! ZeroAuth's calls to a provider, behind the outbound guard (the client
//! metadata documents' guard: `https` only, no redirects, public addresses
//! only), a few seconds and a few hundred kilobytes each. Discovery
//! documents and key sets are kept for an hour in the process.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::app::App;
use crate::oauth::client_metadata::fetch::{describe, guarded_client, is_public, read_limited};

/// The largest answer read from a provider.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// Each call, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// How long a discovery document or key set is kept.
const KEEP: i64 = 3600;

/// The guarded HTTP client, made on first use.
fn client(app: &App) -> Result<&reqwest::Client, String> {
    let f = &app.config.federation;
    if let Some(c) = f.http.get() {
        return Ok(c);
    }
    let c = guarded_client(&f.test_hosts, f.extra_root_pem.as_deref(), "ZeroAuth", TIMEOUT)?;
    Ok(f.http.get_or_init(|| c))
}

/// Refuses a URL whose host is an IP address that is not public (names are
/// checked by the guarded resolver; literals never reach it).
fn check_host(app: &App, url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|_| format!("{url:?} is not a URL"))?;
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = host.parse::<std::net::IpAddr>() else { return Ok(()) };
    let named = app.config.federation.test_hosts.contains(&ip.to_string());
    if is_public(ip) || named { Ok(()) } else { Err(format!("{ip} is not a public address")) }
}

/// Sends `req` and reads a JSON answer: `Ok` with the status and the body
/// (a 4xx's JSON error too), or why there was none.
async fn json(req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
    let res = req
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("it could not be reached ({})", describe(&e)))?;
    let status = res.status();
    if status.is_redirection() {
        return Err(format!("it answered {status}; redirects are not followed"));
    }
    let body = read_limited(res, MAX_ANSWER_BYTES).await?;
    let value = serde_json::from_slice(&body)
        .map_err(|_| format!("it answered {status} with something that is not JSON"))?;
    Ok((status.as_u16(), value))
}

/// GETs a JSON document, kept for an hour (`fresh`: fetch it again, as for
/// a key set that lacks a token's key).
pub async fn document(app: &App, url: &str, fresh: bool) -> Result<Arc<Value>, String> {
    let now = app.now();
    let cache = &app.config.federation.cache;
    if !fresh {
        let kept = cache.lock().unwrap_or_else(|p| p.into_inner()).get(url).cloned();
        if let Some((_, doc)) = kept.filter(|(at, _)| now - at < KEEP) {
            return Ok(doc);
        }
    }
    check_host(app, url)?;
    let (status, doc) = json(client(app)?.get(url)).await?;
    if status != 200 {
        return Err(format!("it answered {status}, not 200"));
    }
    let doc = Arc::new(doc);
    cache.lock().unwrap_or_else(|p| p.into_inner()).insert(url.to_owned(), (now, doc.clone()));
    Ok(doc)
}

/// POSTs a form to a token endpoint, authenticating with the client secret
/// (HTTP Basic, RFC 6749 2.3.1, or in the body for providers that want it).
pub async fn token(
    app: &App,
    url: &str,
    form: &[(&str, &str)],
    (client_id, secret): (&str, &str),
    in_body: bool,
) -> Result<(u16, Value), String> {
    check_host(app, url)?;
    let mut pairs = form.to_vec();
    let mut req = client(app)?.post(url);
    if in_body {
        pairs.push(("client_id", client_id));
        pairs.push(("client_secret", secret));
    } else {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        req = req.basic_auth(enc(client_id), Some(enc(secret)));
    }
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    json(req.header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body)).await
}

/// GETs a user-info answer with the access token.
pub async fn user_info(app: &App, url: &str, access_token: &str) -> Result<Value, String> {
    check_host(app, url)?;
    let (status, body) = json(client(app)?.get(url).bearer_auth(access_token)).await?;
    if status != 200 {
        return Err(format!("its user info answered {status}"));
    }
    Ok(body)
}
