//! `LambdAuthMailer` (the outbox stream and the retry queue): wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use lambdauth_handlers::bootstrap;
use lambdauth_handlers::config::MailerConfig;
use lambdauth_handlers::mailer::{Mailer, Overrides};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = MailerConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let mailer = Mailer::assemble(&aws, config, Overrides::default())?;
    let mailer = &mailer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move {
            Ok::<Value, std::convert::Infallible>(mailer.handle_event(event.payload).await)
        })
    }))
    .await
}
