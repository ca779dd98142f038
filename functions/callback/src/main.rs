//! The `callback` Lambda function: wiring only; the logic lives in
//! `zeroauth-shared`, the mail transports in `zeroauth-mail`.

use zeroauth_shared::lambda;
use zeroauth_shared::mail::Transport;
use zeroauth_shared::router::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = lambda::init(Function::Callback).await?;
    // The self-service pages mail through ZEROAUTH_MAIL (ses in infra/template.yaml).
    let (mailer, settings) = zeroauth_mail::from_env(Transport::Off).map_err(|e| e.to_string())?;
    lambda::run(app.with_mailer(mailer, settings), Function::Callback).await
}
