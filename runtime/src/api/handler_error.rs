//! What can go wrong while handling a request, and the answer each failure becomes.

use lambdauth_domain::random::RandomnessUnavailable;
use lambdauth_domain::{HashError, InvalidEmail, InvalidToken, PasswordRejected, RetryAfter};

use super::{ApiError, ApiResponse};
use crate::aws_error::AwsFailure;
use crate::store::StoreError;

/// An error of any kind, sent across threads: the cause an internal error keeps, and what an
/// event function hands Lambda for an event it will deliver again.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request that ended without a domain answer.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The client gets this error answer (400, 429).
    #[error("refused: {}", .0.code())]
    Refused(ApiError),
    /// An AWS call failed: a 503 when the service was throttling, otherwise a 500.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// A bug or corrupt data: a 500. The cause is logged with its whole chain, never answered.
    #[error("internal error: {context}")]
    Internal {
        /// What was being done.
        context: &'static str,
        /// Why it failed, when something below failed.
        #[source]
        source: Option<BoxError>,
    },
}

impl HandlerError {
    /// An internal error while doing `context`, caused by `source`.
    pub fn internal(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            context,
            source: Some(Box::new(source)),
        }
    }

    /// A state that cannot happen unless the code or the data is wrong.
    pub fn bug(context: &'static str) -> Self {
        Self::Internal {
            context,
            source: None,
        }
    }
}

/// `error` and every cause under it, `: `-separated, for a log line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

impl HandlerError {
    /// The answer, logging what the client must not see. `request_id` is quoted in a 500.
    pub fn into_response(self, request_id: &str) -> ApiResponse {
        match self {
            Self::Refused(error) => error.into_response(),
            Self::Aws(AwsFailure::Throttled { service, detail }) => {
                tracing::warn!(service, detail, "a dependency is throttling");
                ApiError::ServiceUnavailable.into_response()
            }
            Self::Aws(failure @ AwsFailure::Unexpected { .. }) => {
                tracing::error!(error = %failure, "AWS call failed");
                internal(request_id)
            }
            error @ Self::Internal { .. } => {
                tracing::error!(error = %chain(&error), "internal error");
                internal(request_id)
            }
        }
    }
}

fn internal(request_id: &str) -> ApiResponse {
    ApiError::Internal {
        request_id: request_id.to_owned(),
    }
    .into_response()
}

impl From<ApiError> for HandlerError {
    fn from(error: ApiError) -> Self {
        Self::Refused(error)
    }
}

impl From<RetryAfter> for HandlerError {
    fn from(wait: RetryAfter) -> Self {
        Self::Refused(ApiError::TooManyRequests(wait))
    }
}

impl From<InvalidEmail> for HandlerError {
    fn from(error: InvalidEmail) -> Self {
        Self::Refused(error.into())
    }
}

impl From<PasswordRejected> for HandlerError {
    fn from(error: PasswordRejected) -> Self {
        Self::Refused(error.into())
    }
}

impl From<InvalidToken> for HandlerError {
    fn from(error: InvalidToken) -> Self {
        Self::Refused(error.into())
    }
}

impl From<StoreError> for HandlerError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Aws(failure) => Self::Aws(failure),
            error @ StoreError::Item(_) => Self::internal("reading a stored item", error),
            StoreError::Conflict => Self::bug("a write conflict reached the answer unresolved"),
        }
    }
}

impl From<HashError> for HandlerError {
    fn from(error: HashError) -> Self {
        Self::internal("hashing a password", error)
    }
}

impl From<RandomnessUnavailable> for HandlerError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::internal("drawing randomness", error)
    }
}
