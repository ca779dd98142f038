//! The `userinfo` Lambda function: wiring only; the logic lives in `zeroauth-shared`.

use zeroauth_shared::lambda;
use zeroauth_shared::router::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let app = lambda::init(Function::Userinfo).await?;
    lambda::run(app, Function::Userinfo).await
}
