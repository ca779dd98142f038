//! A browser's side of a sign-in, by hand: cookies kept from each answer
//! and sent with the next request, as the router gets it.

use std::collections::BTreeMap;

use bytes::Bytes;
use zeroauth_shared::http::{Request, Response};

/// A browser's cookies, by name.
#[derive(Default)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    /// The `Cookie` header a browser would send.
    pub fn header(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    /// Keeps the cookies `res` sets, and drops the ones it clears.
    pub fn keep(&mut self, res: &Response) {
        for v in res.headers().get_all(http::header::SET_COOKIE) {
            let pair = v.to_str().unwrap_or("").split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.trim().is_empty() {
                    self.0.remove(k.trim());
                } else {
                    self.0.insert(k.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
    }
}

/// A browser's request for `path` with `jar`'s cookies: a GET, or a POST
/// of the form `body`.
fn request(path: &str, jar: &Jar, form: Option<String>) -> Request {
    let mut b = http::Request::builder().method(if form.is_some() { "POST" } else { "GET" }).uri(path);
    if form.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    b.header("cookie", jar.header())
        .header("x-forwarded-for", "198.51.100.7")
        .body(form.map(Bytes::from).unwrap_or_default())
        .expect("a request")
}

/// A GET of `path`.
pub fn get(path: &str, jar: &Jar) -> Request {
    request(path, jar, None)
}

/// A POST of the form `body` to `path`.
pub fn post(path: &str, jar: &Jar, body: String) -> Request {
    request(path, jar, Some(body))
}

/// Percent-encodes a form value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
