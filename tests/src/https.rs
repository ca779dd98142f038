//! A small https server for client metadata documents: a certificate for
//! `localhost` made at start (the server under test trusts it through its
//! configuration), canned answers per path, and a count of requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// What a path answers.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this JSON body and optional `Cache-Control`.
    Json(String, Option<&'static str>),
    /// 302 to this location.
    Redirect(String),
    /// This JSON body, after a pause.
    Slow(Duration, String),
}

/// The running server.
pub struct DocServer {
    /// `https://localhost:<port>`.
    pub base: String,
    /// The certificate to trust (PEM).
    pub ca_pem: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DocServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
        let ca_pem = certified.cert.pem();
        let cert: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("tls config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (a, h) = (answers.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, a, h) = (acceptor.clone(), a.clone(), h.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(buf.get(..n).unwrap_or_default()),
                        }
                    }
                    let text = String::from_utf8_lossy(&head);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                    *lock(&h).entry(path.clone()).or_default() += 1;
                    let answer = lock(&a).get(&path).cloned();
                    let response = match answer {
                        Some(Answer::Json(body, cache)) => ok(&body, cache),
                        Some(Answer::Redirect(to)) => {
                            format!(
                                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            )
                        }
                        Some(Answer::Slow(pause, body)) => {
                            tokio::time::sleep(pause).await;
                            ok(&body, None)
                        }
                        None => {
                            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
                        }
                    };
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Self { base: format!("https://localhost:{port}"), ca_pem, answers, hits }
    }

    /// Makes `path` answer `answer`; returns the document's URL.
    pub fn serve(&self, path: &str, answer: Answer) -> String {
        lock(&self.answers).insert(path.to_owned(), answer);
        format!("{}{path}", self.base)
    }

    /// How many requests `path` got.
    pub fn hits(&self, path: &str) -> usize {
        lock(&self.hits).get(path).copied().unwrap_or(0)
    }
}

fn ok(body: &str, cache: Option<&str>) -> String {
    let cache = cache.map(|c| format!("Cache-Control: {c}\r\n")).unwrap_or_default();
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{cache}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}
