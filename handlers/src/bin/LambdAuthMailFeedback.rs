//! `LambdAuthMailFeedback` (SES feedback through the SNS topic): wiring only.

use lambda_runtime::{LambdaEvent, service_fn};
use lambdauth_handlers::bootstrap;
use lambdauth_handlers::config::MailFeedbackConfig;
use lambdauth_handlers::feedback::MailFeedback;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    bootstrap::init_tracing();
    let config = MailFeedbackConfig::from_env()?;
    let aws = bootstrap::aws_config().await;
    let feedback = MailFeedback::assemble(&aws, &config);
    let feedback = &feedback;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        Box::pin(async move {
            let recorded = feedback.handle_event(event.payload).await?;
            Ok::<Value, lambda_runtime::Error>(serde_json::to_value(recorded)?)
        })
    }))
    .await
}
