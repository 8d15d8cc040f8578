//! What SES's feedback says of one address, for `lambdauth mail status`, and the lift of its
//! suppression, `lambdauth mail unsuppress`. The record and its rules are the outbox table's
//! ([`OutboxStore::address_feedback`], [`OutboxStore::lift_suppression`]); this module puts them
//! in an operator's words.

use lambdauth_domain::feedback::{AddressFeedback, Lifted};
use lambdauth_domain::{Email, Timestamp};
use lambdauth_mail::store::OutboxStore;
use lambdauth_runtime::store::StoreError;

use crate::dlq::age;

/// The lines `lambdauth mail status` prints about `email`'s feedback `record` at `now`: the
/// counts, the suppression in force (why, since when, how to lift it) and the last one lifted.
pub fn feedback_lines(
    email: &Email,
    record: Option<&AddressFeedback>,
    now: Timestamp,
) -> Vec<String> {
    let Some(record) = record else {
        return vec!["SES feedback: none recorded; not suppressed".to_owned()];
    };
    let mut lines = vec![format!(
        "SES feedback: {} delivered, {} bounced permanently, {} bounced transiently, {} complaint(s), {} rejected",
        record.deliveries,
        record.permanent_bounces,
        record.transient_bounces,
        record.complaints,
        record.rejects
    )];
    match &record.suppression {
        Some(suppression) => lines.push(format!(
            "suppressed: {} ({} ago); no mail is sent to this address. Lift it with `lambdauth mail unsuppress {}`",
            suppression.reason,
            age(suppression.since.as_millis(), now),
            email.as_str()
        )),
        None => lines.push("not suppressed".to_owned()),
    }
    if let Some(lifted) = &record.lifted {
        lines.push(lifted_line(lifted, now));
    }
    lines
}

fn lifted_line(lifted: &Lifted, now: Timestamp) -> String {
    format!(
        "last suppression lifted {} ago by {} (it was for: {})",
        age(lifted.at.as_millis(), now),
        if lifted.by.is_empty() {
            "?"
        } else {
            &lifted.by
        },
        lifted.reason
    )
}

/// What `lambdauth mail unsuppress` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsuppressed {
    /// The suppression was lifted.
    Lifted(Lifted),
    /// The address was not suppressed: nothing changed.
    NotSuppressed,
}

/// Lifts `email`'s suppression as `by` at `now`; its counts stay.
pub async fn unsuppress(
    store: &OutboxStore,
    email: &Email,
    by: &str,
    now: Timestamp,
) -> Result<Unsuppressed, StoreError> {
    Ok(match store.lift_suppression(email, by, now).await? {
        Some(lifted) => Unsuppressed::Lifted(lifted),
        None => Unsuppressed::NotSuppressed,
    })
}

#[cfg(test)]
mod tests {
    use lambdauth_domain::feedback::{Suppression, SuppressionReason};

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_millis(seconds * 1000)
    }

    #[test]
    fn a_suppressed_address_shows_why_since_when_and_how_to_lift_it() {
        let email = Email::parse("bob@example.org").unwrap();
        let record = AddressFeedback {
            deliveries: 2,
            permanent_bounces: 1,
            suppression: Some(Suppression {
                reason: SuppressionReason::PermanentBounce,
                since: at(100),
            }),
            lifted: Some(Lifted {
                reason: SuppressionReason::Complaint,
                at: at(40),
                by: "ops".to_owned(),
            }),
            ..AddressFeedback::default()
        };
        let lines = feedback_lines(&email, Some(&record), at(400));
        assert!(
            lines[0].contains("2 delivered, 1 bounced permanently"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("suppressed: permanent-bounce (5m ago)"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("lambdauth mail unsuppress bob@example.org"),
            "{lines:?}"
        );
        assert_eq!(
            lines[2],
            "last suppression lifted 6m ago by ops (it was for: complaint)"
        );
    }

    #[test]
    fn an_address_without_feedback_is_not_suppressed() {
        let email = Email::parse("bob@example.org").unwrap();
        assert_eq!(
            feedback_lines(&email, None, at(0)),
            ["SES feedback: none recorded; not suppressed"]
        );
        let lines = feedback_lines(&email, Some(&AddressFeedback::default()), at(0));
        assert_eq!(lines[1], "not suppressed");
    }
}
