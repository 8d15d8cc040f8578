//! What the doctor reports: the subjects it looks at, the verdicts, one finding each, and the
//! report that gathers them and prints them one per line with their fixes.

use std::fmt;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The SES account: sending enabled, sandbox, quota.
    SesAccount,
    /// The SES identity of the sender.
    Sender,
    /// The user table.
    Table,
    /// The table's stream, which feeds the mailer.
    Stream,
    /// The table's TTL.
    TimeToLive,
    /// The retry queue and its redrive.
    RetryQueue,
    /// The dead-letter queue.
    DeadLetterQueue,
    /// The link-token key.
    Key,
    /// The identity pool.
    IdentityPool,
    /// The SES configuration set the mailer sends through.
    ConfigurationSet,
    /// Its event destination, which carries SES's feedback to the feedback function.
    FeedbackDestination,
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SesAccount => "SES account",
            Self::Sender => "sender",
            Self::Table => "table",
            Self::Stream => "stream",
            Self::TimeToLive => "TTL",
            Self::RetryQueue => "retry queue",
            Self::DeadLetterQueue => "dead-letter queue",
            Self::Key => "KMS key",
            Self::IdentityPool => "identity pool",
            Self::ConfigurationSet => "configuration set",
            Self::FeedbackDestination => "feedback destination",
        })
    }
}

/// How a finding stands, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// As the functions need it.
    Ok,
    /// The endpoint cannot say (an emulator that lacks the call).
    Unknown,
    /// Works, but needs attention.
    Warning,
    /// Something the functions need is missing or wrong.
    Problem,
}

/// One thing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What it is about.
    pub subject: Subject,
    /// How it stands.
    pub verdict: Verdict,
    /// What was found.
    pub detail: String,
    /// How to fix it, in one line (warnings and problems).
    pub fix: Option<String>,
}

impl Finding {
    pub(super) fn ok(subject: Subject, detail: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(super) fn unknown(subject: Subject, detail: impl Into<String>) -> Self {
        Self {
            subject,
            verdict: Verdict::Unknown,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(super) fn warning(
        subject: Subject,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            subject,
            verdict: Verdict::Warning,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub(super) fn problem(
        subject: Subject,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            subject,
            verdict: Verdict::Problem,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A setting the functions need is missing; `output` is the stack output that holds it.
    pub(super) fn not_set(subject: Subject, variable: &str, flag: &str, output: &str) -> Self {
        Self::problem(
            subject,
            format!("{variable} is not set"),
            format!("set {variable} or pass --{flag} (the stack's {output} output)"),
        )
    }
}

/// Everything found, in the order checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when nothing is a problem (warnings and unknowns allowed).
    pub fn is_healthy(&self) -> bool {
        self.findings
            .iter()
            .all(|finding| finding.verdict != Verdict::Problem)
    }

    /// The worst verdict on `subject`, if anything was found about it.
    pub fn verdict(&self, subject: Subject) -> Option<Verdict> {
        self.about(subject).map(|finding| finding.verdict).max()
    }

    /// The findings about `subject`.
    pub fn about(&self, subject: Subject) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(move |finding| finding.subject == subject)
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|finding| finding.verdict == verdict)
            .count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for finding in &self.findings {
            let verdict = match finding.verdict {
                Verdict::Ok => "ok",
                Verdict::Unknown => "unknown",
                Verdict::Warning => "warning",
                Verdict::Problem => "PROBLEM",
            };
            let subject = finding.subject.to_string();
            writeln!(f, "{verdict:<8} {subject:<18} {}", finding.detail)?;
            if let Some(fix) = &finding.fix {
                writeln!(f, "{:<8} {:<18} fix: {fix}", "", "")?;
            }
        }
        let problems = self.count(Verdict::Problem);
        let warnings = self.count(Verdict::Warning);
        let unknown = self.count(Verdict::Unknown);
        writeln!(
            f,
            "\n{problems} problem(s), {warnings} warning(s), {unknown} unknown: {}",
            if problems == 0 {
                "the stack is ready"
            } else {
                "fix the problems above"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_healthy_without_problems_and_shows_each_fix() {
        let mut report = Report {
            findings: vec![
                Finding::ok(Subject::Table, "t: ACTIVE"),
                Finding::unknown(Subject::SesAccount, "unknown on this endpoint"),
                Finding::warning(
                    Subject::DeadLetterQueue,
                    "1 job(s) parked",
                    "lambdauth dlq list",
                ),
            ],
        };
        assert!(report.is_healthy());
        assert_eq!(
            report.verdict(Subject::DeadLetterQueue),
            Some(Verdict::Warning)
        );
        assert_eq!(report.verdict(Subject::Key), None);
        report.findings.push(Finding::problem(
            Subject::Key,
            "k is disabled",
            "aws kms enable-key --key-id k",
        ));
        assert!(!report.is_healthy());
        let shown = report.to_string();
        assert!(shown.contains("PROBLEM  KMS key"), "{shown}");
        assert!(
            shown.contains("fix: aws kms enable-key --key-id k"),
            "{shown}"
        );
        assert!(
            shown.contains("1 problem(s), 1 warning(s), 1 unknown"),
            "{shown}"
        );
    }

    #[test]
    fn an_empty_report_says_the_stack_is_ready() {
        let shown = Report::default().to_string();
        assert_eq!(
            shown,
            "\n0 problem(s), 0 warning(s), 0 unknown: the stack is ready\n"
        );
    }

    #[test]
    fn a_finding_is_shown_in_aligned_columns_with_its_fix_below() {
        let report = Report {
            findings: vec![
                Finding::ok(Subject::TimeToLive, "on expires"),
                Finding::problem(Subject::Sender, "not verified", "verify it"),
            ],
        };
        let expected = [
            format!("{:<8} {:<18} on expires", "ok", "TTL"),
            format!("{:<8} {:<18} not verified", "PROBLEM", "sender"),
            format!("{} fix: verify it", " ".repeat(8 + 1 + 18)),
            String::new(),
            "1 problem(s), 0 warning(s), 0 unknown: fix the problems above".to_owned(),
        ];
        assert_eq!(report.to_string(), expected.join("\n") + "\n");
        assert!(
            report
                .to_string()
                .starts_with("ok       TTL                on expires\n")
        );
    }

    #[test]
    fn the_worst_verdict_on_a_subject_wins() {
        let report = Report {
            findings: vec![
                Finding::ok(Subject::Key, "k: enabled"),
                Finding::warning(Subject::Key, "k has no alias", "create one"),
                Finding::ok(Subject::Table, "t"),
            ],
        };
        assert_eq!(report.verdict(Subject::Key), Some(Verdict::Warning));
        assert_eq!(report.about(Subject::Key).count(), 2);
        assert_eq!(report.about(Subject::Stream).count(), 0);
    }

    #[test]
    fn an_unset_variable_names_the_flag_and_the_stack_output() {
        let finding = Finding::not_set(Subject::Key, "KMS_KEY_ID", "kms-key-id", "KmsKeyId");
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(finding.detail, "KMS_KEY_ID is not set");
        assert_eq!(
            finding.fix.as_deref(),
            Some("set KMS_KEY_ID or pass --kms-key-id (the stack's KmsKeyId output)")
        );
    }

    #[test]
    fn subjects_are_named_as_the_report_shows_them() {
        let names: Vec<String> = [
            Subject::SesAccount,
            Subject::Sender,
            Subject::Table,
            Subject::Stream,
            Subject::TimeToLive,
            Subject::RetryQueue,
            Subject::DeadLetterQueue,
            Subject::Key,
            Subject::IdentityPool,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            names,
            [
                "SES account",
                "sender",
                "table",
                "stream",
                "TTL",
                "retry queue",
                "dead-letter queue",
                "KMS key",
                "identity pool"
            ]
        );
    }
}
