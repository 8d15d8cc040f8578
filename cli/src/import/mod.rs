//! `lambdauth import-legacy`: moves the users of a LambdAuth table into this service's table, so
//! that nobody resets a password and no link already mailed stops working.
//!
//! The rows come from a live table (a parallel, paginated scan) or from the JSON that
//! `aws dynamodb scan` prints; the `source` module reads them and converts them to the domain's
//! neutral rows. They are mapped and de-duplicated here by [`MigrationPlanner`] and written with
//! bounded concurrency, each as one put conditioned on the user not existing yet. That
//! condition makes the import idempotent and safe to run again after an interruption: a user
//! already there, whether imported before, signed up since, or rehashed by a login since, is
//! never overwritten. Throttling is retried with exponential back-off and jitter.

mod progress;
mod source;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use lambdauth_accounts::store::UserStore;
use lambdauth_domain::backoff::{Backoff, Jitter};
use lambdauth_domain::legacy::{DroppedLink, MigratedUser, MigrationPlanner, SkippedRow};
use lambdauth_domain::random::{OsRandomness, Randomness};
use lambdauth_domain::usecases::{Change, Write};
use lambdauth_domain::{Clock, Settings, SystemClock};
use lambdauth_runtime::aws_error::{AwsFailure, classify};
use lambdauth_runtime::store::StoreError;
use tokio::task::JoinSet;

use progress::Progress;
use source::read_source;
pub use source::{legacy_row, parse_scan_json, read_scan_file};

/// Parallel scan segments used when none are asked for.
pub const DEFAULT_SEGMENTS: u32 = 4;
/// Conditional writes in flight at once when no other number is asked for.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The most scan segments DynamoDB allows.
pub const MAX_SEGMENTS: u32 = 1_000_000;
/// How many times a throttled call is tried before the user (or the scan) counts as failed.
const MAX_ATTEMPTS: u32 = 10;
/// Waits between throttled attempts: from 50 ms, doubling, at most 10 s, with full jitter so that
/// the writers in flight spread out instead of coming back together.
const BACKOFF: Backoff = Backoff::new(
    Duration::from_millis(50),
    Duration::from_secs(10),
    Jitter::Full,
);

/// Where the legacy users are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacySource {
    /// The JSON that `aws dynamodb scan --table-name NAME` prints (`{"Items": [...]}`).
    ScanFile(PathBuf),
    /// A live LambdAuth table at the configured endpoint, scanned in `segments` parallel parts.
    Table {
        /// The table's name.
        name: String,
        /// Parallel scan segments (1 to 1,000,000).
        segments: u32,
    },
}

impl fmt::Display for LegacySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ScanFile(path) => write!(f, "scan file {}", path.display()),
            Self::Table { name, .. } => write!(f, "table {name}"),
        }
    }
}

/// How progress is shown while an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressDisplay {
    /// A live progress bar on standard error (for a terminal).
    Bar,
    /// One plain line on standard error at this interval (for logs and pipes).
    Lines(Duration),
    /// Nothing.
    Hidden,
}

/// What to import, where, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Where the legacy users come from.
    pub source: LegacySource,
    /// This service's table.
    pub target_table: String,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// Conditional writes (or, in a dry run, existence checks) in flight at once.
    pub concurrency: usize,
    /// The rules' settings: pending links get the verification and reset periods from here.
    pub settings: Settings,
    /// How progress is shown.
    pub progress: ProgressDisplay,
    /// Set (by a Ctrl-C handler) to stop starting new writes; the run then reports how far it
    /// got, and running it again finishes the job.
    pub stop: Arc<AtomicBool>,
}

impl ImportOptions {
    /// Options with the defaults: not a dry run, [`DEFAULT_CONCURRENCY`], no progress display.
    pub fn new(source: LegacySource, target_table: impl Into<String>, settings: Settings) -> Self {
        Self {
            source,
            target_table: target_table.into(),
            dry_run: false,
            concurrency: DEFAULT_CONCURRENCY,
            settings,
            progress: ProgressDisplay::Hidden,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// Why an import could not run at all. Problems with single rows or users are not errors: they
/// are reported in the [`ImportSummary`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The scan file cannot be read.
    #[error("cannot read {path}: {source}")]
    ReadScanFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The scan file is not what `aws dynamodb scan` prints.
    #[error("{path} is not the JSON output of `aws dynamodb scan`: {problem}")]
    MalformedScanFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The legacy table cannot be scanned.
    #[error("scanning the legacy table failed: {0}")]
    Scan(AwsFailure),
    /// The target table does not exist.
    #[error(
        "the table {0} does not exist; deploy the stack (or create the table) before importing"
    )]
    TargetTableMissing(String),
    /// The target table cannot be described.
    #[error("cannot check the table: {0}")]
    Target(AwsFailure),
    /// A setting is out of range.
    #[error("{0}")]
    InvalidOption(String),
}

/// What happened to one user that was planned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Written (or, in a dry run, would be).
    Imported,
    /// A user with that address was already in the table, and was left alone.
    AlreadyPresent,
    /// The write failed; running the import again retries it.
    Failed(String),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// The source, as shown to the operator.
    pub source: String,
    /// The target table.
    pub target_table: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Legacy rows read.
    pub rows_read: usize,
    /// Users written (in a dry run: that would be written).
    pub imported: usize,
    /// Users whose address was already in the table, left as they were.
    pub already_present: usize,
    /// Rows not carried over, with the reason.
    pub skipped: Vec<SkippedRow>,
    /// Pending links that were not carried over: the legacy address and which link.
    pub dropped_links: Vec<(String, DroppedLink)>,
    /// Users whose write failed: the legacy address and why.
    pub failed: Vec<(String, String)>,
    /// Users not attempted because the run was stopped.
    pub not_attempted: usize,
    /// Things the operator should know (a partial scan file, a dry run without a table…).
    pub warnings: Vec<String>,
    /// How long reading the source took (part of [`ImportSummary::elapsed`]).
    pub reading: Duration,
    /// How long the run took.
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Whether every user that could be imported is now in the table (or, in a dry run, whether
    /// the run got through every user).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.not_attempted == 0
    }

    /// Users written per second of the whole run.
    pub fn users_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            usize_to_f64(self.imported) / seconds
        } else {
            0.0
        }
    }
}

#[allow(clippy::cast_precision_loss)]
fn usize_to_f64(n: usize) -> f64 {
    n as f64
}

/// The report printed at the end of a run: counts first, then one line per row or user that
/// needs the operator's attention.
impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.dry_run {
            " (dry run: nothing was written)"
        } else {
            ""
        };
        writeln!(
            f,
            "import-legacy: {} -> table {}{mode}",
            self.source, self.target_table
        )?;
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        let imported = if self.dry_run {
            "would import:"
        } else {
            "imported:"
        };
        writeln!(f, "rows read:        {}", self.rows_read)?;
        writeln!(f, "{imported:<17} {}", self.imported)?;
        writeln!(f, "already present:  {}", self.already_present)?;
        writeln!(f, "skipped:          {}", self.skipped.len())?;
        if !self.dropped_links.is_empty() {
            writeln!(f, "links dropped:    {}", self.dropped_links.len())?;
        }
        if !self.failed.is_empty() {
            writeln!(f, "failed:           {}", self.failed.len())?;
        }
        if self.not_attempted > 0 {
            writeln!(f, "not attempted:    {} (stopped)", self.not_attempted)?;
        }
        for row in &self.skipped {
            let email = row.legacy_email.as_deref().unwrap_or("(no email)");
            writeln!(f, "skipped  {email}: {}", row.reason)?;
        }
        for (email, link) in &self.dropped_links {
            writeln!(
                f,
                "dropped  {email}: `{}` is not a token the pages accept; the user can ask for a new link",
                link.attribute()
            )?;
        }
        for (email, why) in &self.failed {
            writeln!(f, "failed   {email}: {why}")?;
        }
        if !self.is_complete() {
            writeln!(
                f,
                "not finished: run the same command again to import the rest"
            )?;
        }
        write!(
            f,
            "took {:.1} s ({:.0} users/s; reading the source took {:.1} s)",
            self.elapsed.as_secs_f64(),
            self.users_per_second(),
            self.reading.as_secs_f64()
        )
    }
}

/// Runs an import with `client` (which reaches both the legacy table and the target table).
pub async fn import_legacy(
    client: &Client,
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    if options.concurrency == 0 {
        return Err(ImportError::InvalidOption(
            "--concurrency must be at least 1".to_owned(),
        ));
    }
    let mut summary = ImportSummary {
        source: options.source.to_string(),
        target_table: options.target_table.clone(),
        dry_run: options.dry_run,
        ..ImportSummary::default()
    };
    let target_exists = target_table_exists(client, &options.target_table).await?;
    if !target_exists {
        if !options.dry_run {
            return Err(ImportError::TargetTableMissing(
                options.target_table.clone(),
            ));
        }
        summary.warnings.push(format!(
            "the table {} does not exist yet: every user is counted as new",
            options.target_table
        ));
    }

    let progress = Progress::start(options.progress);
    progress.reading(&options.source);
    let batches = match read_source(client, options, &progress, &mut summary).await {
        Ok(batches) => batches,
        Err(error) => {
            progress.finish();
            return Err(error);
        }
    };
    summary.reading = started.elapsed();
    let mut planner = MigrationPlanner::new(SystemClock.now(), options.settings);
    for row in batches.iter().flatten() {
        summary.rows_read += 1;
        planner.add(row);
    }
    drop(batches);
    let plan = planner.finish();
    summary.skipped = plan.skipped;
    summary.dropped_links = plan
        .users
        .iter()
        .flat_map(|migrated| {
            migrated
                .dropped_links
                .iter()
                .map(|link| (migrated.legacy_email.clone(), *link))
        })
        .collect();

    progress.writing(plan.users.len(), options.dry_run);
    let store = UserStore::new(client.clone(), &options.target_table);
    let check_only = options.dry_run.then_some(target_exists);
    let mut in_flight = JoinSet::new();
    let mut users = plan.users.into_iter();
    loop {
        while in_flight.len() < options.concurrency && !options.stop.load(Ordering::Relaxed) {
            let Some(migrated) = users.next() else { break };
            let store = store.clone();
            in_flight.spawn(async move {
                let outcome = import_one(&store, &migrated, check_only).await;
                (migrated.legacy_email, outcome)
            });
        }
        let Some(joined) = in_flight.join_next().await else {
            break;
        };
        progress.wrote_one();
        match joined {
            Ok((_, Outcome::Imported)) => summary.imported += 1,
            Ok((_, Outcome::AlreadyPresent)) => summary.already_present += 1,
            Ok((email, Outcome::Failed(why))) => summary.failed.push((email, why)),
            Err(panicked) => summary.failed.push((
                "(unknown)".to_owned(),
                format!("the write task failed: {panicked}"),
            )),
        }
    }
    summary.not_attempted = users.len();
    progress.finish();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Writes one user on the condition that its address has no user yet, or in a dry run
/// (`check_only` is `Some(table_exists)`) only looks whether it has.
async fn import_one(
    store: &UserStore,
    migrated: &MigratedUser,
    check_only: Option<bool>,
) -> Outcome {
    let email = &migrated.user.email;
    let result = match check_only {
        Some(false) => return Outcome::Imported,
        Some(true) => with_backoff(|| store.user_exists(email))
            .await
            .map(|exists| {
                if exists {
                    Outcome::AlreadyPresent
                } else {
                    Outcome::Imported
                }
            }),
        None => {
            let change = Change {
                write: Write::Create(migrated.user.clone()),
                mail: None,
            };
            match with_backoff(|| store.apply(&change, None)).await {
                Ok(()) => Ok(Outcome::Imported),
                Err(StoreError::Conflict) => Ok(Outcome::AlreadyPresent),
                Err(error) => Err(error),
            }
        }
    };
    result.unwrap_or_else(|error| Outcome::Failed(error.to_string()))
}

/// Runs `call` until it does not fail with throttling, waiting longer each time (exponential
/// back-off with full jitter), at most [`MAX_ATTEMPTS`] times.
async fn with_backoff<T, F, Fut>(mut call: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(StoreError::Aws(AwsFailure::Throttled { .. })) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A random wait between zero and [`BACKOFF`]'s ceiling for `attempt`.
fn backoff(attempt: u32) -> Duration {
    let random = OsRandomness
        .bytes::<4>()
        .map_or(u32::MAX, u32::from_le_bytes);
    BACKOFF.delay(attempt, random)
}

async fn target_table_exists(client: &Client, table: &str) -> Result<bool, ImportError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(true),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(DescribeTableError::is_resource_not_found_exception) =>
        {
            Ok(false)
        }
        Err(error) => Err(ImportError::Target(classify("DynamoDB", &error))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_call_waits_at_most_the_ceiling() {
        for attempt in 1..=30 {
            assert!(backoff(attempt) <= BACKOFF.ceiling(attempt));
        }
        assert!(backoff(30) <= Duration::from_secs(10));
    }

    #[test]
    fn the_summary_names_what_needs_attention() {
        let summary = ImportSummary {
            source: "scan file x.json".to_owned(),
            target_table: "Users".to_owned(),
            dry_run: true,
            rows_read: 3,
            imported: 1,
            already_present: 1,
            failed: vec![("c@example.com".to_owned(), "throttled".to_owned())],
            ..ImportSummary::default()
        };
        let text = summary.to_string();
        assert!(text.contains("dry run"), "{text}");
        assert!(text.contains("would import:     1"), "{text}");
        assert!(text.contains("already present:  1"), "{text}");
        assert!(text.contains("failed   c@example.com: throttled"), "{text}");
        assert!(text.contains("run the same command again"), "{text}");
        assert!(!summary.is_complete());
    }
}
