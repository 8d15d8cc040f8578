//! Progress of an import on standard error: a live bar for a terminal, plain lines at an
//! interval for logs and pipes, or nothing, as [`ProgressDisplay`] asks.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{LegacySource, ProgressDisplay};

/// Progress on standard error: a bar (or spinner while reading) on a terminal, or a plain line at
/// an interval otherwise. Cheap to clone; every clone moves the same counters.
#[derive(Clone)]
pub(super) struct Progress {
    bar: ProgressBar,
    lines: Option<Duration>,
    ticker: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Progress {
    pub(super) fn start(display: ProgressDisplay) -> Self {
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

    pub(super) fn reading(&self, source: &LegacySource) {
        if let Ok(style) = ProgressStyle::with_template("{spinner} reading {msg}: {pos} rows") {
            self.bar.set_style(style);
        }
        self.bar.set_message(source.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(120));
        self.print_lines_every(move |bar| format!("read {} rows", bar.position()));
    }

    pub(super) fn read(&self, rows: usize) {
        self.bar.inc(rows as u64);
    }

    pub(super) fn writing(&self, users: usize, dry_run: bool) {
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

    pub(super) fn wrote_one(&self) {
        self.bar.inc(1);
    }

    pub(super) fn finish(&self) {
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
