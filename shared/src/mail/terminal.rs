//! The local outbox of `zeroauth serve`: each mail is printed to stdout,
//! text part and all, so that a person trying ZeroAuth on their machine can
//! follow its links and type its codes with no mail server.
//!
//! This is the one place a mail's body is written anywhere; it is meant for
//! a person's own terminal, never a deployment's logs.

use std::io::Write;

use super::{Mail, MailError, Mailer, check, log_outcome};

/// Prints mails to stdout.
#[derive(Debug, Clone, Copy, Default)]
pub struct Terminal;

/// The block [`Terminal`] prints for `mail` sent to `to`.
pub fn render(to: &str, mail: &Mail) -> String {
    let text = mail.text.trim_end();
    format!("\n── mail to {to} ── Subject: {}\n{text}\n── end of mail ──\n", mail.subject)
}

#[async_trait::async_trait]
impl Mailer for Terminal {
    fn transport(&self) -> &'static str {
        "terminal"
    }

    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = check(mail)?;
        let block = render(&to, mail);
        // One write under the lock, so two mails never interleave.
        let outcome = std::io::stdout()
            .lock()
            .write_all(block.as_bytes())
            .map_err(|e| MailError::Unavailable(format!("cannot write to the terminal: {e}")));
        log_outcome(self.transport(), &to, &outcome);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_names_the_recipient_and_subject_and_holds_the_text() {
        let mail = Mail {
            to: "a@b.com".into(),
            subject: "Verify".into(),
            text: "Code: 123456\nhttp://x/verify\n\n".into(),
            html: String::new(),
        };
        assert_eq!(
            render("a@b.com", &mail),
            "\n── mail to a@b.com ── Subject: Verify\nCode: 123456\nhttp://x/verify\n── end of mail ──\n"
        );
    }
}
