//! The commands' bodies, one module per group; `main` only parses the arguments and dispatches.

pub(crate) mod doctor;
pub(crate) mod import;
pub(crate) mod local;
pub(crate) mod mail;
pub(crate) mod password;

use anyhow::Result;
use lambdauth_domain::{Clock, SystemClock, Timestamp};

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub(crate) async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}
