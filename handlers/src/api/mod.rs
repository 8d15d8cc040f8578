//! The API contract shared by the HTTP routes and direct invokes: request bodies, the error
//! envelope with its stable codes, and responses.

mod error;
mod request;
mod response;

pub use error::ApiError;
pub use request::{
    ChangePasswordBody, CreateUserBody, LoginBody, LostPasswordBody, MAX_BODY_BYTES,
    ResetPasswordBody, VerifyUserBody, parse_body,
};
pub use response::ApiResponse;
