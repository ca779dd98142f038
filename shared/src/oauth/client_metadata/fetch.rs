//! The guarded fetch of a client metadata document: `https` only, no
//! redirects, no proxy, a few seconds, a few kilobytes, and a resolver that
//! refuses names reaching anything but public addresses.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::config::ClientMetadataDocuments;

/// The largest document read.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// The whole fetch, connection included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether an address is on the public internet: not loopback, private,
/// link-local (cloud metadata lives there), shared, documentation,
/// multicast, reserved or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || (seg[0] == 0x2001 && seg[1] == 0x0db8)
                || (seg[0] == 0x64 && seg[1] == 0xff9b))
        }
    }
}

/// Resolves names for the fetch and refuses any that reach a non-public
/// address (unless the operator named the host for tests).
struct GuardedResolver {
    test_hosts: Vec<String>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let private_allowed = self.test_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            if !private_allowed && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a non-public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client behind the outbound guard: `https` only, no redirects,
/// no proxy, `timeout` for the whole exchange, and a resolver that refuses
/// names reaching anything but public addresses (except `test_hosts`).
/// Client metadata documents and upstream providers are fetched with it.
pub(crate) fn guarded_client(
    test_hosts: &[String],
    extra_root_pem: Option<&[u8]>,
    user_agent: &str,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(GuardedResolver { test_hosts: test_hosts.to_vec() }));
    if let Some(pem) = extra_root_pem {
        let cert =
            reqwest::Certificate::from_pem(pem).map_err(|e| format!("the extra root certificate: {e}"))?;
        builder = builder.tls_certs_merge([cert]);
    }
    builder.build().map_err(|e| format!("cannot make the HTTP client: {e}"))
}

/// The HTTP client for documents, made on first use (not at cold start).
fn http_client(cfg: &ClientMetadataDocuments) -> Result<&reqwest::Client, String> {
    if let Some(c) = cfg.http.get() {
        return Ok(c);
    }
    let client = guarded_client(
        &cfg.test_hosts,
        cfg.extra_root_pem.as_deref(),
        "ZeroAuth client metadata fetcher",
        FETCH_TIMEOUT,
    )?;
    Ok(cfg.http.get_or_init(|| client))
}

/// A response's body, refused past `max` bytes (by its `Content-Length` or
/// as it arrives).
pub(crate) async fn read_limited(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if res.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("it is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| format!("reading it failed ({})", describe(&e)))? {
        if body.len() + chunk.len() > max {
            return Err(format!("it is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// GETs the document: 200 only, at most [`MAX_DOCUMENT_BYTES`]; with its
/// `Cache-Control` max-age.
pub(super) async fn fetch(
    cfg: &ClientMetadataDocuments,
    url: &str,
) -> Result<(Vec<u8>, Option<i64>), String> {
    let client = http_client(cfg)?;
    let res = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| format!("fetching it failed ({})", describe(&e)))?;
    let status = res.status();
    if status.is_redirection() {
        return Err(format!("it answered {status}; redirects are not followed"));
    }
    if status != http::StatusCode::OK {
        return Err(format!("it answered {status}, not 200"));
    }
    let max_age = max_age(res.headers());
    Ok((read_limited(res, MAX_DOCUMENT_BYTES).await?, max_age))
}

/// A fetch error in a few words, with the innermost cause (the resolver's
/// refusal, a certificate problem, a timeout).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut last = e.to_string();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if e.is_timeout() { "it took too long".into() } else { last }
}

/// `max-age` (or 0 for `no-store`/`no-cache`) from `Cache-Control`.
fn max_age(headers: &http::HeaderMap) -> Option<i64> {
    let v = headers.get(http::header::CACHE_CONTROL)?.to_str().ok()?;
    v.split(',').map(str::trim).find_map(|d| {
        if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
            return Some(0);
        }
        d.strip_prefix("max-age=").and_then(|n| n.trim_matches('"').parse::<i64>().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} should be public");
        }
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} should not be public");
        }
    }

    #[test]
    fn cache_lifetimes_come_from_cache_control() {
        let h = |v: &str| {
            let mut m = http::HeaderMap::new();
            m.insert(http::header::CACHE_CONTROL, v.parse().unwrap());
            max_age(&m)
        };
        assert_eq!(h("public, max-age=600"), Some(600));
        assert_eq!(h("no-store"), Some(0));
        assert_eq!(h("public"), None);
    }
}
