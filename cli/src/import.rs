//! `lambdauth import-legacy`: moves the users of a LambdAuth table into this service's table, so
//! that nobody resets a password and no link already mailed stops working.
//!
//! The rows come from a live table (a parallel, paginated scan) or from the JSON that
//! `aws dynamodb scan` prints. They are converted here from DynamoDB's attribute values to the
//! domain's neutral [`LegacyRow`]s, mapped and de-duplicated by [`MigrationPlanner`], and written
//! with bounded concurrency, each as one put conditioned on the user not existing yet. That
//! condition makes the import idempotent and safe to run again after an interruption: a user
//! already there, whether imported before, signed up since, or rehashed by a login since, is
//! never overwritten. Throttling is retried with exponential back-off and jitter.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::AttributeValue;
use indicatif::{ProgressBar, ProgressStyle};
use lambdauth_domain::legacy::{
    DroppedLink, LegacyRow, LegacyValue, MigratedUser, MigrationPlanner, SkippedRow,
};
use lambdauth_domain::random::{OsRandomness, Randomness};
use lambdauth_domain::usecases::{Change, Write};
use lambdauth_domain::{Clock, Settings, SystemClock};
use lambdauth_handlers::aws_error::{AwsFailure, classify};
use lambdauth_handlers::store::{StoreError, UserStore};
use tokio::task::JoinSet;

/// Parallel scan segments used when none are asked for.
pub const DEFAULT_SEGMENTS: u32 = 4;
/// Conditional writes in flight at once when no other number is asked for.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// The most scan segments DynamoDB allows.
pub const MAX_SEGMENTS: u32 = 1_000_000;
/// How many times a throttled call is tried before the user (or the scan) counts as failed.
const MAX_ATTEMPTS: u32 = 10;
/// The first back-off; it doubles with each throttled attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest single back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

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

/// The legacy rows, in batches in a fixed order (one for a scan file, one per scan segment).
async fn read_source(
    client: &Client,
    options: &ImportOptions,
    progress: &Progress,
    summary: &mut ImportSummary,
) -> Result<Vec<Vec<LegacyRow>>, ImportError> {
    match &options.source {
        LegacySource::ScanFile(path) => {
            let (rows, warnings) = read_scan_file(path)?;
            progress.read(rows.len());
            summary.warnings.extend(warnings);
            Ok(vec![rows])
        }
        LegacySource::Table { name, segments } => {
            scan_table(client, name, *segments, progress, &options.stop).await
        }
    }
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

/// A random wait between zero and `FIRST_BACKOFF · 2^(attempt-1)`, capped at [`MAX_BACKOFF`].
fn backoff(attempt: u32) -> Duration {
    let ceiling = FIRST_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(MAX_BACKOFF);
    let fraction = OsRandomness
        .bytes::<2>()
        .map_or(u16::MAX, u16::from_le_bytes);
    ceiling.mul_f64(f64::from(fraction) / f64::from(u16::MAX))
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

/// Scans `table` in `segments` parallel parts, each page retried with back-off when throttled.
/// The rows come back per segment, in segment order, so "the first row" of a case duplicate is
/// the same on every run with the same segments.
async fn scan_table(
    client: &Client,
    table: &str,
    segments: u32,
    progress: &Progress,
    stop: &Arc<AtomicBool>,
) -> Result<Vec<Vec<LegacyRow>>, ImportError> {
    if !(1..=MAX_SEGMENTS).contains(&segments) {
        return Err(ImportError::InvalidOption(format!(
            "--segments must be between 1 and {MAX_SEGMENTS}"
        )));
    }
    let mut scans = JoinSet::new();
    for segment in 0..segments {
        let client = client.clone();
        let table = table.to_owned();
        let progress = progress.clone();
        let stop = Arc::clone(stop);
        scans.spawn(async move {
            let rows = scan_segment(&client, &table, segment, segments, &progress, &stop).await;
            (segment, rows)
        });
    }
    let mut by_segment = Vec::with_capacity(scans.len());
    while let Some(joined) = scans.join_next().await {
        let (segment, rows) = joined.map_err(|e| {
            ImportError::Scan(AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: format!("a scan task failed: {e}"),
            })
        })?;
        by_segment.push((segment, rows.map_err(ImportError::Scan)?));
    }
    by_segment.sort_by_key(|(segment, _)| *segment);
    Ok(by_segment.into_iter().map(|(_, rows)| rows).collect())
}

async fn scan_segment(
    client: &Client,
    table: &str,
    segment: u32,
    segments: u32,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Vec<LegacyRow>, AwsFailure> {
    let (segment, total) = if segments > 1 {
        (i32::try_from(segment).ok(), i32::try_from(segments).ok())
    } else {
        (None, None)
    };
    let mut rows = Vec::new();
    let mut start_key = None;
    loop {
        let page = with_backoff(|| async {
            client
                .scan()
                .table_name(table)
                .set_segment(segment)
                .set_total_segments(total)
                .set_exclusive_start_key(start_key.clone())
                .send()
                .await
                .map_err(|e| StoreError::Aws(classify("DynamoDB", &e)))
        })
        .await
        .map_err(|error| match error {
            StoreError::Aws(failure) => failure,
            other => AwsFailure::Unexpected {
                service: "DynamoDB",
                detail: other.to_string(),
            },
        })?;
        let items = page.items.unwrap_or_default();
        progress.read(items.len());
        rows.extend(items.iter().map(legacy_row));
        start_key = page.last_evaluated_key;
        if start_key.is_none() || stop.load(Ordering::Relaxed) {
            return Ok(rows);
        }
    }
}

/// A DynamoDB item as a legacy row.
pub fn legacy_row<S: std::hash::BuildHasher>(
    item: &HashMap<String, AttributeValue, S>,
) -> LegacyRow {
    item.iter()
        .map(|(name, value)| (name.clone(), legacy_value(value)))
        .collect()
}

fn legacy_value(value: &AttributeValue) -> LegacyValue {
    match value {
        AttributeValue::S(text) => LegacyValue::Text(text.clone()),
        AttributeValue::Bool(flag) => LegacyValue::Bool(*flag),
        AttributeValue::N(number) => LegacyValue::Number(number.clone()),
        AttributeValue::B(_) => LegacyValue::Other("B".to_owned()),
        AttributeValue::Bs(_) => LegacyValue::Other("BS".to_owned()),
        AttributeValue::L(_) => LegacyValue::Other("L".to_owned()),
        AttributeValue::M(_) => LegacyValue::Other("M".to_owned()),
        AttributeValue::Ns(_) => LegacyValue::Other("NS".to_owned()),
        AttributeValue::Null(_) => LegacyValue::Other("NULL".to_owned()),
        AttributeValue::Ss(_) => LegacyValue::Other("SS".to_owned()),
        _ => LegacyValue::Other("unknown".to_owned()),
    }
}

/// Reads the JSON of `aws dynamodb scan`: the rows, and warnings (a partial scan).
pub fn read_scan_file(
    path: &std::path::Path,
) -> Result<(Vec<LegacyRow>, Vec<String>), ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::ReadScanFile {
        path: path.to_owned(),
        source,
    })?;
    parse_scan_json(&text).map_err(|problem| ImportError::MalformedScanFile {
        path: path.to_owned(),
        problem,
    })
}

/// Parses the JSON of `aws dynamodb scan` (`{"Items": [{"email": {"S": "…"}, …}, …]}`).
pub fn parse_scan_json(text: &str) -> Result<(Vec<LegacyRow>, Vec<String>), String> {
    let scan: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let items = scan
        .get("Items")
        .and_then(serde_json::Value::as_array)
        .ok_or("there is no `Items` array")?;
    let rows = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let attributes = item
                .as_object()
                .ok_or_else(|| format!("item {index} is not an object"))?;
            Ok(attributes
                .iter()
                .map(|(name, value)| (name.clone(), json_legacy_value(value)))
                .collect())
        })
        .collect::<Result<Vec<LegacyRow>, String>>()?;
    let mut warnings = Vec::new();
    if scan.get("LastEvaluatedKey").is_some() || scan.get("NextToken").is_some() {
        warnings.push(
            "the scan file holds one page of a longer scan; users on other pages are not imported"
                .to_owned(),
        );
    }
    Ok((rows, warnings))
}

/// One attribute value in DynamoDB's JSON form (`{"S": "…"}`, `{"BOOL": true}`, …).
fn json_legacy_value(value: &serde_json::Value) -> LegacyValue {
    let Some(typed) = value.as_object().filter(|typed| typed.len() == 1) else {
        return LegacyValue::Other("malformed".to_owned());
    };
    match typed.iter().next() {
        Some((kind, serde_json::Value::String(text))) if kind == "S" => {
            LegacyValue::Text(text.clone())
        }
        Some((kind, serde_json::Value::String(number))) if kind == "N" => {
            LegacyValue::Number(number.clone())
        }
        Some((kind, serde_json::Value::Bool(flag))) if kind == "BOOL" => LegacyValue::Bool(*flag),
        Some((kind, _)) => LegacyValue::Other(kind.clone()),
        None => LegacyValue::Other("malformed".to_owned()),
    }
}

/// Progress on standard error: a bar (or spinner while reading) on a terminal, or a plain line at
/// an interval otherwise. Cheap to clone; every clone moves the same counters.
#[derive(Clone)]
struct Progress {
    bar: ProgressBar,
    lines: Option<Duration>,
    ticker: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Progress {
    fn start(display: ProgressDisplay) -> Self {
        let (bar, lines) = match display {
            ProgressDisplay::Bar => (ProgressBar::new_spinner(), None),
            ProgressDisplay::Lines(every) => (ProgressBar::hidden(), Some(every)),
            ProgressDisplay::Hidden => (ProgressBar::hidden(), None),
        };
        Self {
            bar,
            lines,
            ticker: Arc::default(),
        }
    }

    fn reading(&self, source: &LegacySource) {
        if let Ok(style) = ProgressStyle::with_template("{spinner} reading {msg}: {pos} rows") {
            self.bar.set_style(style);
        }
        self.bar.set_message(source.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(120));
        self.print_lines_every(move |bar| format!("read {} rows", bar.position()));
    }

    fn read(&self, rows: usize) {
        self.bar.inc(rows as u64);
    }

    fn writing(&self, users: usize, dry_run: bool) {
        self.stop_lines();
        let verb = if dry_run { "checked" } else { "written" };
        self.bar.reset();
        self.bar.set_length(users as u64);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{{wide_bar}} {{pos}}/{{len}} users {verb} ({{per_sec}}, {{eta}} left)"
        )) {
            self.bar.set_style(style);
        }
        self.print_lines_every(move |bar| {
            let mut line = String::new();
            let _ = write!(
                line,
                "{}/{} users {verb} ({:.0}/s)",
                bar.position(),
                bar.length().unwrap_or(0),
                bar.per_sec()
            );
            line
        });
    }

    fn wrote_one(&self) {
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.stop_lines();
        self.bar.finish_and_clear();
    }

    fn print_lines_every(&self, line: impl Fn(&ProgressBar) -> String + Send + 'static) {
        let Some(every) = self.lines else { return };
        let bar = self.bar.clone();
        let handle = tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.tick().await;
            loop {
                interval.tick().await;
                eprintln!("import-legacy: {}", line(&bar));
            }
        });
        if let Ok(mut ticker) = self.ticker.lock() {
            *ticker = Some(handle);
        }
    }

    fn stop_lines(&self) {
        if let Ok(mut ticker) = self.ticker.lock()
            && let Some(handle) = ticker.take()
        {
            handle.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_json_becomes_rows_of_neutral_values() {
        let (rows, warnings) = parse_scan_json(
            r#"{"Items": [{"email": {"S": "A@example.com"}, "verified": {"BOOL": true},
                 "count": {"N": "3"}, "tags": {"SS": ["x"]}, "odd": "bare"}],
                "Count": 1, "ScannedCount": 1}"#,
        )
        .unwrap();
        assert!(warnings.is_empty());
        let row = &rows[0];
        assert_eq!(row["email"], LegacyValue::Text("A@example.com".to_owned()));
        assert_eq!(row["verified"], LegacyValue::Bool(true));
        assert_eq!(row["count"], LegacyValue::Number("3".to_owned()));
        assert_eq!(row["tags"], LegacyValue::Other("SS".to_owned()));
        assert_eq!(row["odd"], LegacyValue::Other("malformed".to_owned()));
    }

    #[test]
    fn a_partial_scan_is_warned_about() {
        let (rows, warnings) =
            parse_scan_json(r#"{"Items": [], "LastEvaluatedKey": {"email": {"S": "x"}}}"#).unwrap();
        assert!(rows.is_empty());
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn what_is_not_a_scan_is_an_error() {
        assert!(parse_scan_json("not json").is_err());
        assert!(parse_scan_json(r#"{"Count": 0}"#).is_err());
        assert!(parse_scan_json(r#"{"Items": [1]}"#).is_err());
    }

    #[test]
    fn dynamodb_values_become_neutral_values() {
        let item = HashMap::from([
            (
                "email".to_owned(),
                AttributeValue::S("a@example.com".to_owned()),
            ),
            ("verified".to_owned(), AttributeValue::Bool(false)),
            ("n".to_owned(), AttributeValue::N("1".to_owned())),
            ("nothing".to_owned(), AttributeValue::Null(true)),
        ]);
        let row = legacy_row(&item);
        assert_eq!(row["email"], LegacyValue::Text("a@example.com".to_owned()));
        assert_eq!(row["verified"], LegacyValue::Bool(false));
        assert_eq!(row["n"], LegacyValue::Number("1".to_owned()));
        assert_eq!(row["nothing"], LegacyValue::Other("NULL".to_owned()));
    }

    #[test]
    fn the_back_off_grows_and_is_capped() {
        for attempt in 1..=30 {
            let ceiling = FIRST_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            assert!(backoff(attempt) <= ceiling);
        }
        assert!(backoff(30) <= MAX_BACKOFF);
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
