//! The API edge shared by the HTTP routes and direct invokes: the Lambda event envelope, the
//! request as a handler sees it, body parsing, the error answers with their stable codes, the
//! handler's error and the response.

pub mod envelope;
mod error;
mod handler_error;
mod request;
mod response;

pub use error::ApiError;
pub use handler_error::{BoxError, HandlerError, chain};
pub use request::{HttpDetails, MAX_BODY_BYTES, Request, parse_body};
pub use response::ApiResponse;

/// The result of a handler.
pub type Outcome = Result<ApiResponse, HandlerError>;
