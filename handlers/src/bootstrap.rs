//! The Lambda side of a function's `main`: logging, the SDK's settings, and the event loop.

use std::future::Future;

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::Function;
use crate::endpoints::{Outcome, Request};
use crate::limits::Limiter;

/// JSON logs to standard output (CloudWatch), filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The SDK's settings from its standard environment variables (region, credentials,
/// `AWS_ENDPOINT_URL[_<SERVICE>]`).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Runs the Lambda event loop of `function`, answering each event with `handler` once an HTTP
/// request has its turn from `limiter` (`None` for a function that is not limited).
pub async fn serve<F, Fut>(
    function: Function,
    limiter: Option<&Limiter>,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        // Boxed: the runtime's layers nest the handler's future deep enough otherwise to exceed
        // the compiler's layout depth.
        Box::pin(async move {
            let (payload, context) = event.into_parts();
            Ok::<Value, std::convert::Infallible>(
                crate::api::envelope::handle_event(
                    function,
                    limiter,
                    payload,
                    &context.request_id,
                    handler,
                )
                .await,
            )
        })
    }))
    .await
}
