//! What the three providers share: the authorization endpoint (PKCE S256
//! required, the signed-in person approved at once), the code and refresh
//! grants at the token endpoint, client authentication and error answers.
//! Each provider's own token answer is in its module.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::keys::s256;
use super::server::{Body, Request, Response, json_response, pairs, respond, text};
use super::{CLIENT_ID, CLIENT_SECRET, Flavor, Grant, Inner, Issued, State, github, lock, now, random};

impl Inner {
    pub(super) fn authorize(&self, flavor: Flavor, req: &Request) -> Response {
        if req.param("client_id") != Some(CLIENT_ID) {
            return text(400, "client_id is missing or unknown");
        }
        let Some(redirect_uri) = req.param("redirect_uri") else {
            return text(400, "redirect_uri is missing");
        };
        let mut st = lock(&self.state);
        if !st.redirects.contains(redirect_uri) {
            return text(400, &format!("redirect_uri is not registered: {redirect_uri}"));
        }
        // GitHub has no response_type.
        let missing = if flavor != Flavor::GitHub && req.param("response_type") != Some("code") {
            Some("response_type=code is missing")
        } else if req.param("state").is_none() {
            Some("state is missing")
        } else if req.param("code_challenge").is_none() {
            Some("code_challenge is missing")
        } else if req.param("code_challenge_method") != Some("S256") {
            Some("code_challenge_method=S256 is missing")
        } else {
            None
        };
        if let Some(what) = missing {
            return text(400, what);
        }
        let Ok(mut url) = reqwest::Url::parse(redirect_uri) else {
            return text(400, "redirect_uri is not a URL");
        };
        let state = req.param("state").unwrap_or_default();
        let user = st.user.clone().expect("someone is signed in");
        {
            let mut q = url.query_pairs_mut();
            if let Some((error, description)) = st.front_error.take() {
                q.append_pair("error", &error).append_pair("error_description", &description);
            } else {
                let code = random(16);
                let grant = Grant {
                    flavor,
                    challenge: req.param("code_challenge").unwrap_or_default().to_owned(),
                    nonce: req.param("nonce").map(str::to_owned),
                    scope: req.param("scope").unwrap_or_default().to_owned(),
                    redirect_uri: redirect_uri.to_owned(),
                    user,
                    auth_time: now(st.offset),
                };
                st.codes.insert(code.clone(), grant);
                q.append_pair("code", &code);
            }
            q.append_pair("state", state);
            // RFC 9207's iss, which only the OpenID provider at the base sends.
            if flavor == Flavor::Oidc {
                q.append_pair("iss", &self.base);
            }
        }
        respond(302, "text/plain; charset=utf-8", "").with_header("Location", url.to_string())
    }

    pub(super) fn token(&self, flavor: Flavor, req: &Request) -> Response {
        let mut st = lock(&self.state);
        let (delay, huge) = (st.slow.take(), st.huge.take());
        let mut res = self.token_answer(&mut st, flavor, req);
        if let Some(with_length) = huge {
            res.body = Body::Huge { with_length };
        }
        res.delay = delay;
        res
    }

    fn token_answer(&self, st: &mut State, flavor: Flavor, req: &Request) -> Response {
        let auth = match client_auth(req) {
            Ok(how) => how,
            Err(e) if e.starts_with("more") => return oauth_error(flavor, req, "invalid_request", e),
            Err(e) => return oauth_error(flavor, req, "invalid_client", e),
        };
        let (issued, nonce, auth_time) = match grant(st, flavor, req) {
            Ok(granted) => granted,
            Err((code, description)) => return oauth_error(flavor, req, code, description),
        };
        st.client_auth = Some(auth);
        if flavor == Flavor::GitHub {
            github::token_answer(st, req, issued)
        } else {
            self.bearer_tokens(st, req, issued, nonce, auth_time)
        }
    }
}

/// What a token request was granted: who and what scope, with the nonce
/// and `auth_time` its ID token is to carry; or the error code and description.
fn grant(
    st: &mut State,
    flavor: Flavor,
    req: &Request,
) -> Result<(Issued, Option<String>, i64), (&'static str, &'static str)> {
    // GitHub needs no grant_type, and has no refresh tokens.
    let default_grant = if flavor == Flavor::GitHub { Some("authorization_code") } else { None };
    match req.param("grant_type").or(default_grant) {
        Some("authorization_code") => {
            let Some(g) = req.param("code").and_then(|c| st.codes.remove(c)) else {
                return Err(("invalid_grant", "the code is unknown or was used"));
            };
            if g.flavor != flavor {
                return Err(("invalid_grant", "the code is another provider's"));
            }
            if req.param("redirect_uri") != Some(g.redirect_uri.as_str()) {
                let code = if flavor == Flavor::GitHub { "redirect_uri_mismatch" } else { "invalid_grant" };
                return Err((code, "redirect_uri differs from the authorization request's"));
            }
            if req.param("code_verifier").map(s256).as_deref() != Some(g.challenge.as_str()) {
                return Err(("invalid_grant", "code_verifier does not match the challenge"));
            }
            Ok((Issued { flavor, scope: g.scope, user: g.user }, g.nonce, g.auth_time))
        }
        Some("refresh_token") if flavor != Flavor::GitHub => {
            match req.param("refresh_token").and_then(|r| st.refresh.get(r)).filter(|i| i.flavor == flavor) {
                Some(i) => Ok((i.clone(), None, now(st.offset))),
                None => Err(("invalid_grant", "the refresh token is unknown")),
            }
        }
        _ => Err(("unsupported_grant_type", "grant_type is not supported")),
    }
}

/// Client authentication: HTTP Basic (each half form-urlencoded, RFC 6749
/// 2.3.1) or `client_id` and `client_secret` in the body, not both.
fn client_auth(req: &Request) -> Result<&'static str, &'static str> {
    let decode = |s: &str| pairs(&format!("v={s}")).remove("v").unwrap_or_default();
    let basic = req.header("authorization").and_then(|h| h.strip_prefix("Basic ")).map(|b| {
        let raw = STANDARD.decode(b.trim()).ok().and_then(|d| String::from_utf8(d).ok())?;
        raw.split_once(':').map(|(id, secret)| (decode(id), decode(secret)))
    });
    let ok = |id: &str, secret: &str| id == CLIENT_ID && secret == CLIENT_SECRET;
    match (basic, req.param("client_secret")) {
        (Some(_), Some(_)) => Err("more than one client authentication method"),
        (Some(Some((id, secret))), None) if ok(&id, &secret) => Ok("client_secret_basic"),
        (None, Some(secret)) if ok(req.param("client_id").unwrap_or(""), secret) => Ok("client_secret_post"),
        (None, None) => Err("no client authentication"),
        _ => Err("wrong client credentials"),
    }
}

/// An OAuth error answer: RFC 6749 5.2 JSON, or GitHub's own.
fn oauth_error(flavor: Flavor, req: &Request, code: &str, description: &str) -> Response {
    if flavor == Flavor::GitHub {
        return github::oauth_error(req, code, description);
    }
    let status = if code == "invalid_client" { 401 } else { 400 };
    let res = json_response(status, &json!({"error": code, "error_description": description}));
    if status == 401 { res.with_header("WWW-Authenticate", "Basic realm=\"upstream\"") } else { res }
}
