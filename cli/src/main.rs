//! `lambdauth`: the command line of LambdAuth.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use lambdauth::dlq;
use lambdauth::import::{self, ImportOptions, LegacySource, ProgressDisplay};
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::{Clock, SystemClock, Timestamp};
use lambdauth_domain::{
    Email, ErrorCode, HashingParams, NewPassword, PasswordHasher, PasswordPolicy,
};
use lambdauth_handlers::config::{CoreConfig, DEFAULT_TABLE_NAME, ProcessEnv};
use lambdauth_handlers::mailer::queue::MailQueue;
use lambdauth_handlers::store::UserStore;
use lambdauth_local::dev::{DevOptions, DevServer};
use lambdauth_local::emulator::{self, DEFAULT_PORT, Emulator};
use lambdauth_local::provision::{Resources, provision};

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

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["source_table", "scan_file"])))]
struct ImportArgs {
    /// The LambdAuth table to scan (at the configured endpoint).
    #[arg(long)]
    source_table: Option<String>,
    /// The JSON that `aws dynamodb scan --table-name NAME` printed.
    #[arg(long)]
    scan_file: Option<std::path::PathBuf>,
    /// This service's table.
    #[arg(long, env = "TABLE_NAME", default_value = DEFAULT_TABLE_NAME)]
    table: String,
    /// Read and check everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Parallel scan segments of the source table.
    #[arg(long, default_value_t = import::DEFAULT_SEGMENTS, value_parser = clap::value_parser!(u32).range(1..=i64::from(import::MAX_SEGMENTS)))]
    segments: u32,
    /// Conditional writes in flight at once.
    #[arg(long, default_value_t = import::DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    concurrency: usize,
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(n),
        _ => Err("a number from 1 to 1024".to_owned()),
    }
}

#[derive(clap::Args)]
struct QueueArgs {
    /// The table (for the mails behind the jobs).
    #[arg(long, env = "TABLE_NAME", default_value = DEFAULT_TABLE_NAME)]
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
        #[arg(long, env = "TABLE_NAME", default_value = DEFAULT_TABLE_NAME)]
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
        Command::Provision => runtime()?.block_on(run_provision()),
        Command::Dev {
            port,
            www,
            emulator_port,
        } => runtime()?.block_on(run_dev(port, www, emulator_port)),
        Command::ImportLegacy(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run_import(args)),
        Command::Doctor(settings) => runtime()?.block_on(run_doctor(&settings)),
    }
}

async fn run_import(args: ImportArgs) -> Result<ExitCode> {
    let settings = CoreConfig::from_source(&ProcessEnv)?.settings;
    let source = match (args.source_table, args.scan_file) {
        (Some(name), None) => LegacySource::Table {
            name,
            segments: args.segments,
        },
        (None, Some(path)) => LegacySource::ScanFile(path),
        _ => bail!("give exactly one of --source-table and --scan-file"),
    };
    let mut options = ImportOptions::new(source, args.table, settings);
    options.dry_run = args.dry_run;
    options.concurrency = args.concurrency;
    options.progress = if std::io::stderr().is_terminal() {
        ProgressDisplay::Bar
    } else {
        ProgressDisplay::Lines(Duration::from_secs(10))
    };
    let stop = Arc::clone(&options.stop);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "import-legacy: stopping after the writes in flight (Ctrl-C again to quit now)"
            );
            stop.store(true, Ordering::Relaxed);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    let client = aws_sdk_dynamodb::Client::new(&aws().await);
    let summary = import::import_legacy(&client, &options).await?;
    println!("{summary}");
    Ok(if summary.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
    let dead_letters = MailQueue::new(sqs.clone(), &queues.dead_letter_queue_url);
    match action {
        DlqAction::List => {
            let letters = dlq::dlq_list(&dead_letters).await?;
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
                    .map_or_else(|| "?".to_owned(), |at| dlq::age(at, now()));
                println!(
                    "{id:<32}  {kind:<18}  {recipient:<28}  {attempts:>8}  {age:>8}  {}",
                    letter.reason()
                );
            }
            println!("{} job(s) in the dead-letter queue", letters.len());
        }
        DlqAction::Redrive => {
            let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), &queues.table);
            let report = dlq::dlq_redrive(
                &store,
                &dead_letters,
                &MailQueue::new(sqs, &queues.retry_queue_url),
                now(),
            )
            .await?;
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
            let purged = dlq::dlq_purge(&dead_letters).await?;
            println!("{purged} job(s) purged");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_mail_status(email: &str, table: &str) -> Result<ExitCode> {
    let email = Email::parse(email).context("the address")?;
    let aws = aws().await;
    let store = UserStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let mails = dlq::mail_status(&store, &email).await?;
    println!(
        "{:<32}  {:<18}  {:<8}  {:>8}  {:>10}  {:>10}  last error",
        "mail id", "kind", "status", "attempts", "created", "updated"
    );
    for mail in &mails {
        let updated = mail
            .updated_at
            .map_or_else(|| "-".to_owned(), |at| dlq::age(at.as_millis(), now()));
        println!(
            "{:<32}  {:<18}  {:<8}  {:>8}  {:>10}  {:>10}  {}",
            mail.id,
            mail.kind.as_str(),
            mail.status.as_str(),
            mail.attempts,
            dlq::age(mail.created_at.as_millis(), now()),
            updated,
            mail.last_error.as_deref().unwrap_or("-"),
        );
    }
    println!("{} mail(s) to {}", mails.len(), email.masked());
    Ok(ExitCode::SUCCESS)
}

async fn run_provision() -> Result<ExitCode> {
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

async fn run_dev(port: u16, www: std::path::PathBuf, emulator_port: u16) -> Result<ExitCode> {
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

async fn serve_until_stopped(
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
async fn stop_signal() {
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
fn init_console_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .compact()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
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
