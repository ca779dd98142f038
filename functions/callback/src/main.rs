//! The `callback` Lambda function: wiring only; the logic lives in `zeroauth-shared`.

use zeroauth_shared::lambda;
use zeroauth_shared::router::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = lambda::init(Function::Callback).await?;
    lambda::run(app, Function::Callback).await
}
