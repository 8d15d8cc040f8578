//! What runs on a developer's machine: `lambdauth emulator`, `provision` and `dev`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use lambdauth_local::dev::{DevOptions, DevServer};
use lambdauth_local::emulator::{self, DEFAULT_PORT, Emulator};
use lambdauth_local::provision::{Resources, provision};
use lambdauth_runtime::config::ProcessEnv;

use super::aws;

#[derive(Subcommand)]
pub(crate) enum EmulatorAction {
    /// Start it (creating its virtual environment on first use) and print its endpoint.
    Start {
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
    /// Stop the one started on this port.
    Stop {
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
    /// Say whether something answers on this port.
    Status {
        #[arg(long, default_value_t = DEFAULT_PORT)]
        port: u16,
    },
}

pub(crate) fn run_emulator(action: &EmulatorAction) -> Result<ExitCode> {
    match *action {
        EmulatorAction::Start { port } => {
            let emulator = Emulator::start(port, None)?;
            println!("{}", emulator.endpoint());
        }
        EmulatorAction::Stop { port } => {
            emulator::run_stop(port)?;
        }
        EmulatorAction::Status { port } => {
            if emulator::answers_on(port) {
                println!("the emulator answers on 127.0.0.1:{port}");
            } else {
                println!("nothing answers on 127.0.0.1:{port}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run_provision() -> Result<ExitCode> {
    let aws = aws().await;
    let resources = Resources::from_source(&ProcessEnv);
    let provisioned = provision(&aws, resources).await?;
    if let Some(endpoint) = aws.endpoint_url() {
        println!("AWS_ENDPOINT_URL={endpoint}");
    }
    if let Some(region) = aws.region() {
        println!("AWS_REGION={region}");
    }
    for (name, value) in provisioned.environment() {
        println!("{name}={value}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run_dev(
    port: u16,
    www: std::path::PathBuf,
    emulator_port: u16,
) -> Result<ExitCode> {
    init_console_logs();
    let emulator = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.trim().is_empty() => Emulator::existing(&endpoint),
        _ if emulator::answers_on(emulator_port) => {
            tracing::info!("using the emulator already answering on port {emulator_port}");
            Emulator::existing(&format!("http://127.0.0.1:{emulator_port}"))
        }
        _ => {
            tracing::info!(
                "starting the bundled emulator on port {emulator_port} \
                 (the first start installs it into localstack/.venv: about a minute)"
            );
            // It stops by itself should this process die without cleaning up.
            tokio::task::spawn_blocking(move || {
                Emulator::start(emulator_port, Some(std::process::id()))
            })
            .await??
        }
    };
    let served = serve_until_stopped(&emulator, port, www).await;
    if emulator.started_here() {
        tracing::info!("stopping the emulator");
        emulator.stop()?;
    }
    served
}

pub(crate) async fn serve_until_stopped(
    emulator: &Emulator,
    port: u16,
    www: std::path::PathBuf,
) -> Result<ExitCode> {
    if !www.join("index.html").is_file() {
        bail!("no sample pages at {} (use --www)", www.display());
    }
    let aws = emulator::sdk_config(emulator.endpoint()).await;
    let options = DevOptions {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        www,
        environment: std::env::vars().collect(),
        ses_rule: None,
    };
    let server = DevServer::start(&aws, options).await?;
    tracing::info!(
        emulator = emulator.endpoint(),
        table = server.provisioned().resources.table,
        "provisioned"
    );
    println!(
        "LambdAuth is listening on {}/ (sent mail: {}/_dev/mail; Ctrl-C stops)",
        server.url(),
        server.url()
    );
    stop_signal().await;
    tracing::info!("stopping");
    server.stop().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or a polite request to stop.
pub(crate) async fn stop_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// Readable logs for a person at a terminal (`RUST_LOG` filters; default `info`).
pub(crate) fn init_console_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .compact()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
