//! The Lambda side of every function: one binary serves them all, each deployed function naming
//! itself by its handler (`Handler: LambdAuthLogin` in the template, which Lambda hands a custom
//! runtime as `_HANDLER`), so that each keeps its own name, role and configuration while the
//! build links once.

use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

use crate::config::ProcessEnv;
use crate::function::{Context, Definition};

/// The variable Lambda sets to the function's handler setting.
pub const HANDLER_VARIABLE: &str = "_HANDLER";

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

/// The function of `registry` that `handler` names.
#[derive(Debug, thiserror::Error)]
#[error("{HANDLER_VARIABLE} is `{handler}`, which names no function here")]
pub struct UnknownFunction {
    handler: String,
}

/// Finds the function `handler` names in `registry`.
pub fn find<'a>(
    registry: &[&'a Definition],
    handler: &str,
) -> Result<&'a Definition, UnknownFunction> {
    registry
        .iter()
        .copied()
        .find(|definition| definition.name == handler)
        .ok_or_else(|| UnknownFunction {
            handler: handler.to_owned(),
        })
}

/// Runs the Lambda event loop of the function of `registry` that `_HANDLER` names, configured
/// from the process environment, on the system clock: the whole of a function's `main`.
pub async fn run(registry: &[&Definition]) -> Result<(), lambda_runtime::Error> {
    init_tracing();
    let handler = std::env::var(HANDLER_VARIABLE).unwrap_or_default();
    let definition = find(registry, &handler)?;
    let context = Context::new(aws_config().await);
    let function = definition.start(&context, &ProcessEnv)?;
    let function = &*function;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (payload, context) = event.into_parts();
        function.handle(payload, &context.request_id).await
    }))
    .await
}
