//! `LambdAuthMailer` (the outbox stream and the retry queue): wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use lambdauth_handlers::config::MailerConfig;
use lambdauth_handlers::mailer::{Mailer, SES_ATTEMPT_TIMEOUT, ses_client};
use lambdauth_handlers::runtime;
use lambdauth_handlers::sealer::TokenSealer;
use lambdauth_handlers::store::UserStore;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    runtime::init_tracing();
    let config = MailerConfig::from_env()?;
    let aws = runtime::aws_config().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &config.table_name);
    let sealer = TokenSealer::decrypt_only(aws_sdk_kms::Client::new(&aws));
    let ses = ses_client(&aws, None, SES_ATTEMPT_TIMEOUT);
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let mailer = Mailer::new(config, store, sealer, ses, sqs)?;
    let mailer = &mailer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move {
            Ok::<Value, std::convert::Infallible>(mailer.handle_event(event.payload).await)
        })
    }))
    .await
}
