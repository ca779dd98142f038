//! The `token` Lambda function: wiring only; the logic lives in `zeroauth-shared`.

use zeroauth_shared::lambda;
use zeroauth_shared::router::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = lambda::init(Function::Token).await?;
    lambda::run(app, Function::Token).await
}
