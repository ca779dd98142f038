//! The mail the test SMTP server received: `scripts/smtp-sink` (started by
//! `scripts/test`) writes each message it gets to `ZEROAUTH_TEST_MAILDIR` as
//! `<seq>.eml`, and this module parses them as a mail client would
//! (`mail-parser`), so the tests read the MIME message that went over the wire.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders, PartType};

/// The variable naming the directory the sink writes to.
pub const DIR_VAR: &str = "ZEROAUTH_TEST_MAILDIR";
/// The variable naming the sink's `host:port`.
pub const SMTP_VAR: &str = "ZEROAUTH_TEST_SMTP";

/// One received message, as its recipient's mail client would show it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The first `To` address.
    pub to: String,
    /// The subject, decoded.
    pub subject: String,
    /// The first text/plain part, decoded ("" when there is none).
    pub text: String,
    /// The first text/html part, decoded ("" when there is none).
    pub html: String,
    /// The `From` header: `Name <address>` or the address.
    pub from: String,
    /// The top-level content type, such as `multipart/alternative`.
    pub content_type: String,
}

fn env(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: the mail tests need the test SMTP server. Run them through `scripts/test`, \
             or start it with `scripts/smtp-sink start DIR` and set {DIR_VAR}=DIR and \
             {SMTP_VAR}=127.0.0.1:<port> from what it prints ({what})"
        ),
    }
}

/// The directory the test SMTP server writes messages to.
pub fn dir() -> PathBuf {
    PathBuf::from(env(DIR_VAR, "the directory"))
}

/// The test SMTP server's `host:port`.
pub fn smtp() -> String {
    env(SMTP_VAR, "the port")
}

/// Every message received so far, oldest first.
fn all() -> Vec<Received> {
    let dir = dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read the mail directory {dir:?}: {e}"));
    let mut numbered: Vec<(u64, PathBuf)> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let seq = p.file_name()?.to_str()?.strip_suffix(".eml")?.parse().ok()?;
            Some((seq, p))
        })
        .collect();
    numbered.sort();
    numbered
        .into_iter()
        .map(|(_, p)| parse(&std::fs::read(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"))))
        .collect()
}

/// Parses one raw message.
pub fn parse(raw: &[u8]) -> Received {
    let message = MessageParser::default().parse(raw).unwrap_or_else(|| panic!("not a message: {raw:?}"));
    let address = |a: Option<&mail_parser::Address<'_>>| {
        a.and_then(|a| a.first())
            .map(|a| match (a.name(), a.address()) {
                (Some(n), Some(addr)) => format!("{n} <{addr}>"),
                (_, addr) => addr.unwrap_or_default().to_owned(),
            })
            .unwrap_or_default()
    };
    let to = message.to().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or_default().to_owned();
    let (mut text, mut html) = (None, None);
    for part in &message.parts {
        match &part.body {
            PartType::Text(t) if text.is_none() => text = Some(t.to_string()),
            PartType::Html(h) if html.is_none() => html = Some(h.to_string()),
            _ => {}
        }
    }
    let content_type = message
        .content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
        .unwrap_or_default();
    Received {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: text.unwrap_or_default(),
        html: html.unwrap_or_default(),
        from: address(message.from()),
        content_type,
    }
}

fn to_them(to: &str) -> impl Fn(&Received) -> bool + '_ {
    move |r| r.to.eq_ignore_ascii_case(to)
}

/// How many messages to `to` were received so far.
pub fn count(to: &str) -> usize {
    all().iter().filter(|r| to_them(to)(r)).count()
}

/// The first message to `to` after the `count_before` it had, waiting up to
/// 10 s for it.
pub async fn wait_for(to: &str, count_before: usize) -> Received {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = all().into_iter().filter(to_them(to)).nth(count_before) {
            return r;
        }
        if Instant::now() > deadline {
            panic!("no new mail to {to} within 10 s (it had {count_before}); the sink writes to {:?}", dir());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The first 6-digit code in `text` (six digits with no digit either side).
pub fn code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = bytes.get(i..i + 6)?;
        let alone = |j: Option<usize>| j.and_then(|j| bytes.get(j)).is_none_or(|b| !b.is_ascii_digit());
        (run.iter().all(u8::is_ascii_digit) && alone(i.checked_sub(1)) && alone(Some(i + 6)))
            .then(|| String::from_utf8_lossy(run).into_owned())
    })
}

/// The first URL in `text` containing `path`.
pub fn link(text: &str, path: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || "\"'<>".contains(c))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .find(|w| w.contains(path))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_standing_alone() {
        assert_eq!(code("Your code:\n    123456\n").as_deref(), Some("123456"));
        assert_eq!(code("1234567 then 654321").as_deref(), Some("654321"));
        assert_eq!(code("no code 12345"), None);
    }

    #[test]
    fn links_are_found_by_path() {
        let text = "Open https://a.example/other then\nhttps://a.example/verify?t=x&y=1\n";
        assert_eq!(link(text, "/verify").as_deref(), Some("https://a.example/verify?t=x&y=1"));
        assert_eq!(link(text, "/reset"), None);
    }
}
