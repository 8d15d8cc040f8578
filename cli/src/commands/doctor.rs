//! `lambdauth doctor`: the report of the stack, and the exit code that says whether it is healthy.

use std::process::ExitCode;

use anyhow::Result;

use super::aws;

pub(crate) async fn run_doctor(settings: &lambdauth::doctor::DoctorSettings) -> Result<ExitCode> {
    use lambdauth::doctor::{Clients, diagnose};
    let aws = aws().await;
    println!(
        "lambdauth doctor: region {}, endpoint {}\n",
        aws.region().map_or("not set", |region| region.as_ref()),
        aws.endpoint_url().unwrap_or("AWS")
    );
    let report = diagnose(&Clients::new(&aws), settings).await;
    print!("{report}");
    Ok(if report.is_healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
