//! What can go wrong while handling a request, and the answer each failure becomes.

use lambdauth_domain::random::RandomnessUnavailable;
use lambdauth_domain::{HashError, InvalidEmail, InvalidToken, PasswordRejected, RetryAfter};

use crate::api::{ApiError, ApiResponse};
use crate::aws_error::AwsFailure;
use crate::store::StoreError;

/// A request that ended without a domain answer.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The client gets this error answer (400, 429).
    #[error("refused: {}", .0.code())]
    Refused(ApiError),
    /// An AWS call failed: a 503 when the service was throttling, otherwise a 500.
    #[error(transparent)]
    Aws(#[from] AwsFailure),
    /// A bug or corrupt data: a 500.
    #[error("internal error: {0}")]
    Internal(String),
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
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
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
            StoreError::Item(error) => Self::Internal(error.to_string()),
            StoreError::Conflict => Self::Internal("an unresolved write conflict".to_owned()),
        }
    }
}

impl From<HashError> for HandlerError {
    fn from(error: HashError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<RandomnessUnavailable> for HandlerError {
    fn from(error: RandomnessUnavailable) -> Self {
        Self::Internal(error.to_string())
    }
}
