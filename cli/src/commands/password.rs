//! `lambdauth password`: check a password against the policy, or hash it.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::{
    Email, ErrorCode, HashingParams, NewPassword, PasswordHasher, PasswordPolicy,
};

#[derive(clap::Args)]
pub(crate) struct PolicyArgs {
    /// The address the password belongs to (a password may not contain it).
    #[arg(long)]
    email: String,
    /// The minimum length in code points (never below 8).
    #[arg(long, env = "PASSWORD_MIN_LENGTH", default_value_t = lambdauth_domain::password::DEFAULT_MIN_LENGTH)]
    min_length: usize,
}

#[derive(Subcommand)]
pub(crate) enum PasswordAction {
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

pub(crate) fn run_password(action: &PasswordAction) -> Result<ExitCode> {
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
pub(crate) fn read_password() -> Result<String> {
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
