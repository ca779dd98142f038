//! Mail over the real transports: every composed message through SMTP to a
//! real server (`scripts/smtp-sink`, started by `scripts/test`), parsed back
//! from the bytes it received; header injection refused with nothing
//! received; and SES v2's request as it leaves the SDK, against a local HTTP
//! server standing in for SES.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroauth_e2e::mailbox;
use zeroauth_shared::mail::{Mail, MailError, MailSettings, Mailer, Sender, Transport, compose};

const FROM: &str = "Acme Test <no-reply@acme.example>";
const PRODUCT: &str = "Acme Test";

fn vars(pairs: &[(&str, String)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    move |name| map.get(name).cloned()
}

/// The SMTP transport as `ZEROAUTH_MAIL=smtp` builds it, pointed at the sink.
fn smtp() -> (Arc<dyn Mailer>, MailSettings) {
    let vars = vars(&[
        ("ZEROAUTH_MAIL", "smtp".into()),
        ("ZEROAUTH_MAIL_FROM", FROM.into()),
        ("ZEROAUTH_PRODUCT_NAME", PRODUCT.into()),
        ("ZEROAUTH_SMTP_URL", format!("smtp://{}?tls=none", mailbox::smtp())),
    ]);
    let (mailer, settings) =
        zeroauth_mail::from_vars(Transport::Off, &vars).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mailer.transport(), "smtp");
    (mailer, settings)
}

/// A recipient no other test writes to.
fn recipient(kind: &str) -> String {
    format!("{kind}-{}@example.com", zeroauth_shared::crypto::random_string(8).expect("randomness"))
}

#[tokio::test]
async fn every_message_arrives_as_text_and_html_with_its_code_in_the_body_only() {
    let (mailer, s) = smtp();
    let link = "https://id.acme.example/flow/verify?handle=h1&x=1";
    let messages: Vec<(Mail, Option<&str>)> = vec![
        (compose::verify_address(&s, &recipient("verify"), "482913", link, 60), Some("482913")),
        (compose::reset_password(&s, &recipient("reset"), "710365", link, 30), Some("710365")),
        (compose::confirm_new_address(&s, &recipient("confirm"), "551208", link, 60), Some("551208")),
        (compose::invitation(&s, &recipient("invite"), link, 7), None),
        (compose::account_exists(&s, &recipient("exists"), link), None),
        (compose::password_changed(&s, &recipient("changed")), None),
        (compose::address_changed(&s, &recipient("moved"), "new.address@example.org"), None),
    ];
    for (sent, code) in &messages {
        mailer.send(sent).await.unwrap_or_else(|e| panic!("{}: {e}", sent.subject));
        let got = mailbox::wait_for(&sent.to, 0).await;
        let what = &got.subject;
        assert_eq!(got.content_type, "multipart/alternative", "{what}");
        assert_eq!(got.from, FROM, "{what}");
        assert_eq!(got.subject, sent.subject);
        assert!(got.subject.contains(PRODUCT), "{what}");
        assert!(
            got.text.contains(PRODUCT) && got.html.contains(PRODUCT),
            "{what}: the product in both parts"
        );
        assert!(got.text.contains("If "), "{what}: says what to do if not asked");
        assert!(!got.html.to_ascii_lowercase().contains("<img"), "{what}: no images");
        assert_eq!(mailbox::code(&got.subject), None, "{what}: no code in the subject");
        assert!(!got.subject.contains("http"), "{what}: no link in the subject");
        assert_eq!(mailbox::code(&got.text).as_deref(), *code, "{what}");
        if let Some(code) = code {
            assert!(got.html.contains(code), "{what}: the code in the HTML part");
        }
        if sent.text.contains(link) {
            assert_eq!(mailbox::link(&got.text, "/flow/verify").as_deref(), Some(link), "{what}");
            assert!(
                got.html.contains("href=\"https://id.acme.example/flow/verify?handle=h1&amp;x=1\""),
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn header_injection_is_refused_and_nothing_is_received() {
    let (mailer, s) = smtp();
    let (victim, spy) = (recipient("victim"), recipient("spy"));
    let attempts = [
        compose::password_changed(&s, &format!("{victim}\r\nBcc: {spy}")),
        compose::password_changed(&s, &format!("{victim}\nBcc: {spy}")),
        Mail { subject: format!("Hello\nBcc: {spy}"), ..compose::password_changed(&s, &victim) },
        compose::password_changed(&s, &format!("{}@example.com", "a".repeat(65))),
        compose::password_changed(&s, "not an address"),
    ];
    for mail in &attempts {
        let result = mailer.send(mail).await;
        assert!(matches!(result, Err(MailError::Invalid(_))), "{mail:?}: {result:?}");
    }
    // A well-formed mail sent after them arrives, and is the only one.
    let marker = compose::password_changed(&s, &victim);
    mailer.send(&marker).await.unwrap_or_else(|e| panic!("{e}"));
    mailbox::wait_for(&victim, 0).await;
    assert_eq!((mailbox::count(&victim), mailbox::count(&spy)), (1, 0));
}

/// A stand-in for SES: answers one request as `SendEmail` succeeds, and
/// hands the test the request's path and JSON body.
async fn fake_ses() -> (String, tokio::task::JoinHandle<(String, serde_json::Value)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let served = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("the SDK connects");
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        let (head_len, body_len) = loop {
            let n = conn.read(&mut buf).await.expect("read the request");
            assert!(n > 0, "the connection closed mid-request: {}", String::from_utf8_lossy(&request));
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .expect("a Content-Length");
                if request.len() >= end + 4 + length {
                    break (end, length);
                }
            }
        };
        let head = String::from_utf8_lossy(&request[..head_len]).into_owned();
        let body = &request[head_len + 4..head_len + 4 + body_len];
        let reply = r#"{"MessageId":"m1"}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
        conn.write_all(response.as_bytes()).await.expect("answer");
        assert!(head.to_ascii_lowercase().contains("\r\nauthorization: aws4-hmac-sha256"), "signed: {head}");
        let path = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
        (path, serde_json::from_slice(body).expect("a JSON body"))
    });
    (url, served)
}

/// The template's parameters this run stands for, for the IAM check
/// (infra/iam.py): the callback function's SES grant names them.
fn record_parameters(identity: &str, configuration_set: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os(zeroauth_shared::aws_calls::FILE_VAR).filter(|p| !p.is_empty()) else {
        return;
    };
    let line = serde_json::json!({"parameters": {"SesIdentity": identity, "SesConfigurationSet": configuration_set}});
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("open the recording");
    file.write_all(format!("{line}\n").as_bytes()).expect("write the recording");
}

#[tokio::test]
async fn ses_sends_both_parts_to_the_v2_outbound_emails_endpoint() {
    use aws_sdk_dynamodb::config::{Credentials, Region};
    let (url, served) = fake_ses().await;
    let vars =
        vars(&[("ZEROAUTH_SES_ENDPOINT", url), ("ZEROAUTH_SES_CONFIGURATION_SET", "zeroauth-test".into())]);
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "zeroauth-tests"))
        .load()
        .await;
    let sender = Sender::parse(FROM, false).expect("a sender");
    let ses = zeroauth_mail::ses::Ses::from_vars(&sender, &vars)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_sdk_config(&sdk);
    let settings = MailSettings { from: FROM.into(), product: PRODUCT.into() };
    let sent =
        compose::verify_address(&settings, "someone@example.com", "482913", "https://id.example/v", 60);

    // As the callback function sends it, so the IAM check sees its grant used.
    record_parameters("acme.example", "zeroauth-test");
    let function = zeroauth_shared::paths::Function::Callback;
    zeroauth_shared::aws_calls::serving(function, ses.send(&sent)).await.unwrap_or_else(|e| panic!("{e}"));

    let (path, body) = served.await.expect("the stand-in served");
    assert_eq!(path, "/v2/email/outbound-emails");
    assert_eq!(body["FromEmailAddress"], FROM);
    assert_eq!(body["Destination"]["ToAddresses"], serde_json::json!(["someone@example.com"]));
    assert_eq!(body["ConfigurationSetName"], "zeroauth-test");
    let simple = &body["Content"]["Simple"];
    assert_eq!(simple["Subject"]["Data"], sent.subject.as_str());
    assert_eq!(simple["Body"]["Text"]["Data"], sent.text.as_str());
    assert_eq!(simple["Body"]["Html"]["Data"], sent.html.as_str());
    assert_eq!(simple["Body"]["Text"]["Charset"], "UTF-8");
}
