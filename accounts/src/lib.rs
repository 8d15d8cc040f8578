//! The HTTP functions: accounts (the original six) and sessions. Each function is one module
//! holding its body, its answer and its one definition (name, routes, limit class,
//! configuration, build, handler), built on what they share:
//!
//! - [`core`]: the store, the hasher, the rules' settings and the clock, and the steps the
//!   account handlers repeat;
//! - [`issuer`]: starting and continuing sessions;
//! - [`identity`], [`tokens`]: the Cognito and KMS adapters (OpenID tokens, access tokens and
//!   the key set);
//! - [`store`]: the users table;
//! - [`config`]: what they read.

pub mod config;
pub mod core;
pub mod identity;
pub mod issuer;
pub mod store;
pub mod tokens;

pub mod change_password;
pub mod create_user;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod lost_password;
pub mod refresh_token;
pub mod reset_password;
pub mod sessions;
pub mod verify_user;
