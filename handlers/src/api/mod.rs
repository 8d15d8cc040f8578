//! The API contract shared by the HTTP routes and direct invokes: the Lambda event envelope,
//! request bodies, the error answers with their stable codes, and responses.

pub mod envelope;
mod error;
mod request;
mod response;

pub use error::ApiError;
pub use request::{
    ChangePasswordBody, CreateUserBody, LoginBody, LogoutBody, LostPasswordBody, MAX_BODY_BYTES,
    RefreshTokenBody, ResetPasswordBody, SessionsBody, VerifyUserBody, parse_body,
};
pub use response::ApiResponse;
