//! The test upstream's transport: TLS with a certificate made at start, and
//! just enough HTTP/1.1 to read one request per connection and answer it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{Inner, lock};

/// Serves `inner` on `listener` over TLS with a new self-signed certificate
/// for `localhost`, until the runtime stops; that certificate (PEM).
pub(super) fn serve(listener: TcpListener, inner: Arc<Inner>) -> String {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let ca_pem = certified.cert.pem();
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let config =
        ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).expect("tls config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, inner) = (acceptor.clone(), inner.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    connection(tls, &inner).await;
                }
            });
        }
    });
    ca_pem
}

/// A request, its query and form parameters together.
pub(super) struct Request {
    pub method: String,
    pub path: String,
    headers: HashMap<String, String>,
    params: HashMap<String, String>,
}

impl Request {
    /// A header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// A parameter, `None` when absent or empty.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

pub(super) enum Body {
    Bytes(Vec<u8>),
    /// A 5 MiB JSON token answer.
    Huge {
        with_length: bool,
    },
}

pub(super) struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Body,
    /// How long to wait before answering.
    pub delay: Option<Duration>,
}

impl Response {
    /// The same answer with another header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

pub(super) fn respond(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
    let headers = vec![("Content-Type", content_type.to_owned())];
    Response { status, headers, body: Body::Bytes(body.into()), delay: None }
}

pub(super) fn json_response(status: u16, v: &Value) -> Response {
    respond(status, "application/json", v.to_string())
}

pub(super) fn text(status: u16, s: &str) -> Response {
    respond(status, "text/plain; charset=utf-8", s)
}

/// Form-urlencoded pairs, decoded.
pub(super) fn pairs(s: &str) -> HashMap<String, String> {
    form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

async fn connection<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut tls: S, inner: &Inner) {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match tls.read(&mut buf).await {
            Ok(n) if n > 0 && data.len() < 64 * 1024 => data.extend_from_slice(&buf[..n]),
            _ => return,
        }
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (first.next().unwrap_or_default(), first.next().unwrap_or("/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0).min(1 << 20);
    let mut body = data[end + 4..].to_vec();
    while body.len() < length {
        match tls.read(&mut buf).await {
            Ok(n) if n > 0 => body.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    body.truncate(length);
    let mut params = pairs(query);
    params.extend(pairs(&String::from_utf8_lossy(&body)));
    let req = Request { method: method.to_owned(), path: path.to_owned(), headers, params };
    {
        let mut st = lock(&inner.state);
        *st.hits.entry(req.path.clone()).or_default() += 1;
        st.last.insert(req.path.clone(), req.params.clone());
    }
    let res = inner.route(&req);
    if let Some(d) = res.delay {
        tokio::time::sleep(d).await;
    }
    let _ = write(&mut tls, res).await;
    let _ = tls.shutdown().await;
}

async fn write<S: AsyncWriteExt + Unpin>(w: &mut S, res: Response) -> std::io::Result<()> {
    let reason = match res.status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Other",
    };
    let mut head =
        format!("HTTP/1.1 {} {reason}\r\nConnection: close\r\nCache-Control: no-store\r\n", res.status);
    for (k, v) in &res.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match res.body {
        Body::Bytes(b) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            w.write_all(head.as_bytes()).await?;
            w.write_all(&b).await
        }
        Body::Huge { with_length } => {
            let (prefix, suffix, pad) =
                (br#"{"access_token":"huge","token_type":"Bearer","padding":""#, br#""}"#, [b'x'; 65536]);
            let mut pieces: Vec<&[u8]> = vec![prefix];
            pieces.extend(std::iter::repeat_n(&pad[..], 80));
            pieces.push(suffix);
            let total: usize = pieces.iter().map(|p| p.len()).sum();
            head.push_str(&if with_length {
                format!("Content-Length: {total}\r\n\r\n")
            } else {
                "Transfer-Encoding: chunked\r\n\r\n".to_owned()
            });
            w.write_all(head.as_bytes()).await?;
            for p in pieces {
                if with_length {
                    w.write_all(p).await?;
                } else {
                    w.write_all(format!("{:x}\r\n", p.len()).as_bytes()).await?;
                    w.write_all(p).await?;
                    w.write_all(b"\r\n").await?;
                }
            }
            if with_length { Ok(()) } else { w.write_all(b"0\r\n\r\n").await }
        }
    }
}
