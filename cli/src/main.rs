//! `lambdauth`: the command line of LambdAuth.

mod commands;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use commands::import::ImportArgs;
use commands::local::EmulatorAction;
use commands::mail::{DlqAction, MailAction, QueueArgs};
use commands::password::PasswordAction;
use commands::{doctor, import, local, mail, password, runtime};
use lambdauth_local::emulator::DEFAULT_PORT;

#[derive(Parser)]
#[command(
    name = "lambdauth",
    version,
    about = "Serverless email + password authentication for AWS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start, stop or check the local AWS emulator (moto; LocalStack with EMULATOR=localstack).
    Emulator {
        #[command(subcommand)]
        action: EmulatorAction,
    },
    /// Check a password against the policy, or hash it; the password is read from standard input.
    Password {
        #[command(subcommand)]
        action: PasswordAction,
    },
    /// Inspect, redrive or purge the mail dead-letter queue.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
        #[command(flatten)]
        queues: QueueArgs,
    },
    /// The outbox history and SES feedback of one address; lift its suppression.
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
    /// Create, idempotently, everything the functions need at the configured endpoint (table,
    /// queues, KMS key, identity pool, SES sender), then print the environment a function needs
    /// as `KEY=VALUE` lines. Names come from the variables the functions read (`TABLE_NAME`,
    /// `DEVELOPER_PROVIDER_NAME`, `FROM_ADDRESS`, …) and `IDENTITY_POOL_NAME`, `KMS_KEY_ALIAS`,
    /// `RETRY_QUEUE_NAME`, `DEAD_LETTER_QUEUE_NAME`, with the original's defaults.
    Provision,
    /// Run the whole service locally: the emulator (the one at `AWS_ENDPOINT_URL`, one already on
    /// port 4566, or the bundled one), the HTTP API, the sample pages and the mail pipeline.
    /// Ctrl-C stops everything it started.
    Dev {
        /// The port to serve the API and the pages on.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// The folder of sample pages.
        #[arg(long, default_value_os_t = lambdauth_local::dev::default_www())]
        www: std::path::PathBuf,
        /// Where to look for, or start, the emulator when `AWS_ENDPOINT_URL` is not set.
        #[arg(long, default_value_t = DEFAULT_PORT)]
        emulator_port: u16,
    },
    /// Check that the stack is present and wired as the functions need it (SES, table, stream,
    /// TTL, queues, key, identity pool); exit 1 when something is wrong.
    Doctor(lambdauth::doctor::DoctorSettings),
    /// Import the users of a LambdAuth table: passwords, verified flags and pending links carry
    /// over, and running it again changes nothing.
    ImportLegacy(ImportArgs),
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("lambdauth: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Emulator { action } => local::run_emulator(&action),
        Command::Password { action } => password::run_password(&action),
        Command::Dlq { action, queues } => runtime()?.block_on(mail::run_dlq(&action, &queues)),
        Command::Mail { action } => runtime()?.block_on(mail::run_mail(&action)),
        Command::Provision => runtime()?.block_on(local::run_provision()),
        Command::Dev {
            port,
            www,
            emulator_port,
        } => runtime()?.block_on(local::run_dev(port, www, emulator_port)),
        Command::ImportLegacy(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(import::run_import(args)),
        Command::Doctor(settings) => runtime()?.block_on(doctor::run_doctor(&settings)),
    }
}
