//! `lambdauth`: the command line of LambdAuth.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lambdauth::emulator::{self, DEFAULT_PORT, Emulator};
use lambdauth::operations;
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::{Clock, SystemClock, Timestamp};
use lambdauth_domain::{
    Email, ErrorCode, HashingParams, NewPassword, PasswordHasher, PasswordPolicy,
};
use lambdauth_handlers::store::UserStore;

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
    /// The outbox history of one address.
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
    /// Check that the stack is present and wired as the functions need it (SES, table, stream,
    /// TTL, queues, key, identity pool); exit 1 when something is wrong.
    Doctor(lambdauth::doctor::DoctorSettings),
}

#[derive(clap::Args)]
struct QueueArgs {
    /// The table (for the mails behind the jobs).
    #[arg(long, env = "TABLE_NAME", default_value = lambdauth_handlers::config::DEFAULT_TABLE_NAME)]
    table: String,
    /// The retry queue's URL.
    #[arg(long, env = "RETRY_QUEUE_URL")]
    retry_queue_url: String,
    /// The dead-letter queue's URL.
    #[arg(long, env = "DEAD_LETTER_QUEUE_URL")]
    dead_letter_queue_url: String,
}

#[derive(Subcommand)]
enum DlqAction {
    /// A table of the parked jobs: mail id, kind, masked recipient, attempts, reason, age.
    List,
    /// Send every parked job back to the retry queue; jobs whose link expired are dropped.
    Redrive,
    /// Delete every parked job.
    Purge,
}

#[derive(Subcommand)]
enum MailAction {
    /// Every mail to an address: kind, status, attempts, last error, times.
    Status {
        /// The address.
        email: String,
        /// The table.
        #[arg(long, env = "TABLE_NAME", default_value = lambdauth_handlers::config::DEFAULT_TABLE_NAME)]
        table: String,
    },
}

#[derive(Subcommand)]
enum EmulatorAction {
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

#[derive(clap::Args)]
struct PolicyArgs {
    /// The address the password belongs to (a password may not contain it).
    #[arg(long)]
    email: String,
    /// The minimum length in code points (never below 8).
    #[arg(long, env = "PASSWORD_MIN_LENGTH", default_value_t = lambdauth_domain::password::DEFAULT_MIN_LENGTH)]
    min_length: usize,
}

#[derive(Subcommand)]
enum PasswordAction {
    /// Say whether the password passes the policy; exit 1 with the rule's code if not.
    Check {
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Print the Argon2id PHC string of a password that passes the policy, and how long hashing
    /// took on this machine (to choose cost parameters for a function's memory size).
    Hash {
        #[command(flatten)]
        policy: PolicyArgs,
        /// Memory in KiB.
        #[arg(long, env = "ARGON2_MEMORY_KIB", default_value_t = HashingParams::default().memory_kib)]
        memory_kib: u32,
        /// Passes.
        #[arg(long, env = "ARGON2_TIME_COST", default_value_t = HashingParams::default().time_cost)]
        time_cost: u32,
        /// Lanes.
        #[arg(long, env = "ARGON2_PARALLELISM", default_value_t = HashingParams::default().parallelism)]
        parallelism: u32,
    },
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
        Command::Emulator { action } => run_emulator(&action),
        Command::Password { action } => run_password(&action),
        Command::Dlq { action, queues } => runtime()?.block_on(run_dlq(&action, &queues)),
        Command::Mail {
            action: MailAction::Status { email, table },
        } => runtime()?.block_on(run_mail_status(&email, &table)),
        Command::Doctor(settings) => runtime()?.block_on(run_doctor(&settings)),
    }
}

fn run_emulator(action: &EmulatorAction) -> Result<ExitCode> {
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

fn run_password(action: &PasswordAction) -> Result<ExitCode> {
    let (policy_args, params) = match action {
        PasswordAction::Check { policy } => (policy, None),
        PasswordAction::Hash {
            policy,
            memory_kib,
            time_cost,
            parallelism,
        } => (
            policy,
            Some(HashingParams {
                memory_kib: *memory_kib,
                time_cost: *time_cost,
                parallelism: *parallelism,
            }),
        ),
    };
    let email = Email::parse(&policy_args.email).context("--email")?;
    let policy = PasswordPolicy::with_min_length(policy_args.min_length);
    let raw = read_password()?;
    let password = match NewPassword::new(&raw, &email, &policy) {
        Ok(password) => password,
        Err(rejected) => {
            println!("{}: {rejected}", rejected.code());
            return Ok(ExitCode::FAILURE);
        }
    };
    let Some(params) = params else {
        println!(
            "ok: the password passes the policy (minimum {} characters)",
            policy.min_length()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let hasher = PasswordHasher::new(params, &mut OsRandomness)?;
    let started = Instant::now();
    let stored = hasher.hash(&password, &mut OsRandomness)?;
    let elapsed = started.elapsed();
    println!("{}", stored.to_phc());
    eprintln!("hashed in {:.1} ms", elapsed.as_secs_f64() * 1000.0);
    Ok(ExitCode::SUCCESS)
}

/// One line of standard input, without its line ending (other white space is part of it).
fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password.to_owned())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn aws() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

fn now() -> Timestamp {
    SystemClock.now()
}

async fn run_dlq(action: &DlqAction, queues: &QueueArgs) -> Result<ExitCode> {
    let aws = aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let dlq = &queues.dead_letter_queue_url;
    match action {
        DlqAction::List => {
            let letters = operations::dlq_list(&sqs, dlq).await?;
            println!(
                "{:<32}  {:<18}  {:<28}  {:>8}  {:>8}  reason",
                "mail id", "kind", "recipient", "attempts", "age"
            );
            for letter in &letters {
                let (id, kind, recipient, attempts) = letter.job.as_ref().map_or_else(
                    || {
                        (
                            letter.message_id.clone(),
                            "?".to_owned(),
                            "?".to_owned(),
                            "?".to_owned(),
                        )
                    },
                    |job| {
                        let masked = Email::parse(&job.recipient)
                            .map_or_else(|_| "?".to_owned(), |e| e.masked());
                        (
                            job.mail_id.clone(),
                            job.kind.clone(),
                            masked,
                            job.attempts.to_string(),
                        )
                    },
                );
                let age = letter
                    .sent_at
                    .map_or_else(|| "?".to_owned(), |at| operations::age(at, now()));
                println!(
                    "{id:<32}  {kind:<18}  {recipient:<28}  {attempts:>8}  {age:>8}  {}",
                    letter.reason()
                );
            }
            println!("{} job(s) in the dead-letter queue", letters.len());
        }
        DlqAction::Redrive => {
            let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &queues.table);
            let report =
                operations::dlq_redrive(&sqs, &store, dlq, &queues.retry_queue_url, now()).await?;
            for id in &report.redriven {
                println!("redriven  {id}");
            }
            for (id, why) in &report.dropped {
                println!("dropped   {id}: {why}");
            }
            for id in &report.kept {
                println!("kept      {id}: not a mail job");
            }
            println!(
                "{} redriven, {} dropped, {} kept",
                report.redriven.len(),
                report.dropped.len(),
                report.kept.len()
            );
        }
        DlqAction::Purge => {
            let purged = operations::dlq_purge(&sqs, dlq).await?;
            println!("{purged} job(s) purged");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_mail_status(email: &str, table: &str) -> Result<ExitCode> {
    let email = Email::parse(email).context("the address")?;
    let aws = aws().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let mails = operations::mail_status(&store, &email).await?;
    println!(
        "{:<32}  {:<18}  {:<8}  {:>8}  {:>10}  {:>10}  last error",
        "mail id", "kind", "status", "attempts", "created", "updated"
    );
    for mail in &mails {
        let updated = mail.updated_at.map_or_else(
            || "-".to_owned(),
            |at| operations::age(at.as_millis(), now()),
        );
        println!(
            "{:<32}  {:<18}  {:<8}  {:>8}  {:>10}  {:>10}  {}",
            mail.id,
            mail.kind.as_str(),
            mail.status.as_str(),
            mail.attempts,
            operations::age(mail.created_at.as_millis(), now()),
            updated,
            mail.last_error.as_deref().unwrap_or("-"),
        );
    }
    println!("{} mail(s) to {}", mails.len(), email.masked());
    Ok(ExitCode::SUCCESS)
}

async fn run_doctor(settings: &lambdauth::doctor::DoctorSettings) -> Result<ExitCode> {
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
