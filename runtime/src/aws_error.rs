//! What an AWS call's failure means to a client: a dependency throttling (or out of reach) is a
//! 503 the client may retry; anything else is an internal error.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Error codes AWS services use for "slow down" or "try again".
const RETRYABLE_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "LimitExceededException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalServerError",
    "InternalFailure",
    "KMSInternalException",
];

/// A failed AWS call, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsFailure {
    /// The service is throttling or briefly unavailable: worth a retry later.
    #[error("{service} is throttling or unavailable: {detail}")]
    Throttled {
        /// Which service.
        service: &'static str,
        /// What it said.
        detail: String,
    },
    /// Anything else.
    #[error("{service} call failed: {detail}")]
    Unexpected {
        /// Which service.
        service: &'static str,
        /// What it said.
        detail: String,
    },
}

/// Classifies an SDK error from `service`.
pub fn classify<E, R>(service: &'static str, error: &SdkError<E, R>) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = match error {
        SdkError::ServiceError(context) => {
            let err = context.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("unknown code"),
                err.message().unwrap_or("no message")
            )
        }
        other => aws_smithy_types::error::display::DisplayErrorContext(other).to_string(),
    };
    let retryable = match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        SdkError::ServiceError(context) => context
            .err()
            .code()
            .is_some_and(|code| RETRYABLE_CODES.contains(&code)),
        _ => false,
    };
    if retryable {
        AwsFailure::Throttled { service, detail }
    } else {
        AwsFailure::Unexpected { service, detail }
    }
}
