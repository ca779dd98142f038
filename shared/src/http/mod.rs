//! Request parsing in one place — query strings, form and JSON bodies, HTTP
//! Basic, Bearer — and (in [`response`]) the response builders every handler uses.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::header::{self, HeaderMap};

use crate::error::{ErrorCode, OAuthError};
use crate::secret::ClientSecret;

mod response;
pub use response::{bearer_error, error_json, html, json, redirect, set_cookie, with_query};

/// A request as every handler sees it, whatever carried it.
pub type Request = http::Request<Bytes>;
/// A response as every handler returns it.
pub type Response = http::Response<String>;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest client id or username accepted from a request. Such values
/// become storage keys (DynamoDB's sort keys end at 1,024 bytes), so they
/// are checked here, before any key is built.
pub const MAX_ID_BYTES: usize = 255;

/// An identifier from a request (a client id, a username): `invalid_request`
/// when it is blank or longer than [`MAX_ID_BYTES`].
pub fn check_id<'a>(name: &str, value: &'a str) -> Result<&'a str, OAuthError> {
    if value.trim().is_empty() {
        return Err(OAuthError::invalid_request(format!("`{name}` is blank")));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(OAuthError::invalid_request(format!("`{name}` is longer than {MAX_ID_BYTES} bytes")));
    }
    Ok(value)
}

/// The caller's IP address, put in the request's extensions by the adapter
/// that received it (the local server or the Lambda runtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Request parameters from a query string or a body. Names may not repeat
/// (RFC 6749 3.1): reading a repeated one is `invalid_request`.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of `name`; `invalid_request` if it is given more than once.
    /// An empty value counts as absent (RFC 6749 3.1).
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::invalid_request(format!("parameter `{name}` is repeated; send it once")));
        }
        Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
    }

    /// The value of `name`, checked as an identifier ([`check_id`]).
    pub fn get_id(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        self.get(name)?.map(|v| check_id(name, v)).transpose()
    }

    /// The value of `name`, which must be present.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| OAuthError::invalid_request(format!("parameter `{name}` is missing")))
    }
}

/// Parses `application/x-www-form-urlencoded` text; bytes that are not UTF-8
/// once percent-decoded are `invalid_request`.
pub fn parse_form(raw: &[u8]) -> Result<Params, OAuthError> {
    let text = std::str::from_utf8(raw).map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    let mut pairs = Vec::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        if (k.contains('\u{FFFD}') && !text.contains('\u{FFFD}'))
            || (v.contains('\u{FFFD}') && !text.contains('\u{FFFD}'))
        {
            return Err(OAuthError::invalid_request(format!("parameter `{k}` is not UTF-8 once decoded")));
        }
        pairs.push((k.into_owned(), v.into_owned()));
    }
    Ok(Params(pairs))
}

/// A body that is unmistakably form-encoded: not JSON-looking, made only of
/// `name=value` pairs joined by `&`, every name non-empty and every escape
/// valid. Anything else is `None`, so a broken JSON body stays an error.
fn strict_form(body: &[u8]) -> Option<Params> {
    let text = std::str::from_utf8(body).ok()?;
    let well_formed = |part: &str| {
        let Some((name, value)) = part.split_once('=') else { return false };
        let ok = |s: &str| {
            let b = s.as_bytes();
            b.iter().enumerate().all(|(i, &c)| match c {
                b'%' => b.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
                b'&' | b'=' | b'{' | b'}' | b'"' => false,
                c => c.is_ascii_graphic(),
            })
        };
        !name.is_empty() && ok(name) && ok(value)
    };
    if text.is_empty() || !text.split('&').all(well_formed) {
        return None;
    }
    parse_form(body).ok()
}

/// The query string's parameters.
pub fn query(req: &Request) -> Result<Params, OAuthError> {
    parse_form(req.uri().query().unwrap_or("").as_bytes())
}

/// The body's parameters: form-encoded or a JSON object, chosen by
/// `Content-Type`. JSON strings are taken as they are, numbers as their
/// decimal text; any other JSON value is `invalid_request`. A body labelled
/// JSON that is not JSON but is a well-formed form body (a documented
/// `curl -H 'Content-Type: application/json' --data-urlencode …` line) is
/// read as the form it is.
pub fn body_params(req: &Request) -> Result<Params, OAuthError> {
    let body = bounded_body(req)?;
    match media_type(req.headers()).as_deref() {
        Some("application/x-www-form-urlencoded") => parse_form(body),
        Some("application/json") => parse_json(body).or_else(|e| match strict_form(body) {
            Some(params) => Ok(params),
            None => Err(e),
        }),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "Content-Type {other} is not supported; send application/x-www-form-urlencoded or application/json"
        ))),
        None if body.is_empty() => Ok(Params::default()),
        None => Err(OAuthError::invalid_request(
            "Content-Type is missing; send application/x-www-form-urlencoded or application/json",
        )),
    }
}

/// The body, unless it is larger than [`MAX_BODY_BYTES`] (413).
pub fn bounded_body(req: &Request) -> Result<&[u8], OAuthError> {
    let body = req.body();
    if body.len() > MAX_BODY_BYTES {
        return Err(OAuthError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    Ok(body)
}

/// The `Content-Type`'s media type, lower-case, without parameters.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// A JSON object's members in order, repeats kept (serde_json's own map
/// keeps only the last), so that a repeated name is refused like a
/// repeated form field.
struct Members(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visitor)
    }
}

fn parse_json(body: &[u8]) -> Result<Params, OAuthError> {
    let Members(members) = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => OAuthError::invalid_request("the JSON body must be an object"),
        _ => OAuthError::invalid_request(format!("the body is not valid JSON: {e}")),
    })?;
    let mut pairs = Vec::with_capacity(members.len());
    for (k, v) in members {
        let text = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Null => continue,
            _ => return Err(OAuthError::invalid_request(format!("parameter `{k}` must be a string"))),
        };
        pairs.push((k, text));
    }
    Ok(Params(pairs))
}

/// Client credentials from `Authorization: Basic` (RFC 6749 2.3.1: each part
/// form-urlencoded before base64). `Ok(None)` when the header is absent or
/// another scheme; `invalid_client` when it is Basic but malformed.
pub fn basic_credentials(headers: &HeaderMap) -> Result<Option<Basic>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = |why: &str| OAuthError::invalid_client(format!("malformed Basic credentials: {why}"));
    let value = value.to_str().map_err(|_| bad("the header is not ASCII"))?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let raw = STANDARD.decode(encoded.trim()).map_err(|_| bad("not base64"))?;
    let text = String::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
    let (id, secret) = text.split_once(':').ok_or_else(|| bad("no colon between client id and secret"))?;
    let decode = |s: &str| -> Result<String, OAuthError> {
        let p = parse_form(format!("x={s}").as_bytes()).map_err(|_| bad("not UTF-8 once decoded"))?;
        Ok(p.get("x").ok().flatten().unwrap_or("").to_owned())
    };
    let id = decode(id)?;
    if id.is_empty() {
        return Err(bad("the client id is empty"));
    }
    check_id("client_id", &id)?;
    let decoded = decode(secret)?;
    let raw_secret = (decoded != secret).then(|| ClientSecret::new(secret));
    Ok(Some(Basic { client_id: id, secret: ClientSecret::new(decoded), raw_secret }))
}

/// HTTP Basic client credentials (RFC 6749 2.3.1).
#[derive(Debug)]
pub struct Basic {
    /// The client id, form-decoded.
    pub client_id: String,
    /// The secret, form-decoded as the RFC says.
    pub secret: ClientSecret,
    /// The secret as sent, when form-decoding changed it: many client
    /// libraries (authlib, requests-oauthlib, the MCP SDK) do not encode it.
    pub raw_secret: Option<ClientSecret>,
}

/// A Bearer token from the `Authorization` header (RFC 6750 2.1).
/// `Ok(None)` when there is no Authorization header; `invalid_request` for another scheme.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value =
        value.to_str().map_err(|_| OAuthError::invalid_request("the Authorization header is not ASCII"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(OAuthError::invalid_request("the Authorization header must be `Bearer <token>`")),
    }
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The caller's IP, when the adapter recorded one.
pub fn client_ip(req: &Request) -> Option<IpAddr> {
    req.extensions().get::<ClientIp>().map(|c| c.0)
}

#[cfg(test)]
mod tests {
    use http::header::HeaderValue;

    use super::*;

    fn req(content_type: Option<&str>, body: &[u8]) -> Request {
        let mut b = http::Request::builder().method("POST").uri("/token");
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        b.body(Bytes::copy_from_slice(body)).unwrap()
    }

    #[test]
    fn form_and_json_bodies_give_the_same_params() {
        let f = body_params(&req(Some("application/x-www-form-urlencoded"), b"a=1&b=x+y%26")).unwrap();
        let j = body_params(&req(Some("application/json; charset=utf-8"), br#"{"a":1,"b":"x y&"}"#)).unwrap();
        for p in [f, j] {
            assert_eq!(p.get("a").unwrap(), Some("1"));
            assert_eq!(p.get("b").unwrap(), Some("x y&"));
        }
    }

    #[test]
    fn a_form_body_labelled_json_is_read_as_a_form_and_nothing_else_loosens() {
        let p =
            body_params(&req(Some("application/json"), b"grant_type=authorization_code&code=za_ac_x%2By"))
                .unwrap();
        assert_eq!(p.get("grant_type").unwrap(), Some("authorization_code"));
        assert_eq!(p.get("code").unwrap(), Some("za_ac_x+y"));
        for body in [&b"{\"a\":1"[..], b"a=1&&b=2", b"=1", b"a", b"a=%G1", b"a=1 b", b"a={}", b"", b"a=\xff"]
        {
            let e = body_params(&req(Some("application/json"), body)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{body:?}");
        }
        let e = body_params(&req(Some("text/plain"), b"a=1")).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest, "other labels stay refused");
    }

    #[test]
    fn repeated_parameter_is_invalid_request() {
        let p = parse_form(b"scope=a&scope=b").unwrap();
        assert_eq!(p.get("scope").unwrap_err().code, ErrorCode::InvalidRequest);
        let j = body_params(&req(Some("application/json"), br#"{"client_secret":"x","client_secret":"y"}"#))
            .unwrap();
        assert_eq!(j.get("client_secret").unwrap_err().code, ErrorCode::InvalidRequest, "JSON repeats too");
    }

    #[test]
    fn bad_bodies_are_invalid_request() {
        for (ct, body) in [
            (Some("application/json"), &b"{"[..]),
            (Some("application/json"), b"[1]"),
            (Some("application/json"), br#"{"a":true}"#),
            (Some("text/plain"), b"a=1"),
            (None, b"a=1"),
            (Some("application/x-www-form-urlencoded"), b"a=%FF"),
            (Some("application/x-www-form-urlencoded"), b"a=\xff"),
        ] {
            let e = body_params(&req(ct, body)).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{ct:?} {body:?}");
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        let enc = STANDARD.encode("my%20client:p%3Ass+w");
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {enc}")).unwrap());
        let basic = basic_credentials(&h).unwrap().unwrap();
        assert_eq!(basic.client_id, "my client");
        assert_eq!(basic.secret.secret(), "p:ss w");
        assert_eq!(basic.raw_secret.unwrap().secret(), "p%3Ass+w");
        let plain = STANDARD.encode("app:plain-secret");
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {plain}")).unwrap());
        assert!(basic_credentials(&h).unwrap().unwrap().raw_secret.is_none());
    }

    #[test]
    fn malformed_basic_credentials_are_invalid_client() {
        for raw in [
            "Basic !!!",
            &format!("Basic {}", STANDARD.encode("nocolon")),
            &format!("Basic {}", STANDARD.encode(b"\xff:x")),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(raw).unwrap());
            assert_eq!(basic_credentials(&h).unwrap_err().code, ErrorCode::InvalidClient, "{raw}");
        }
    }

    #[test]
    fn query_is_appended_to_an_existing_one() {
        assert_eq!(with_query("https://a/cb?x=1", &[("code", "c d")]), "https://a/cb?x=1&code=c+d");
        assert_eq!(with_query("https://a/cb", &[("state", "é&")]), "https://a/cb?state=%C3%A9%26");
    }
}
