//! What SES's feedback on a sent mail does to its recipient's address: every delivery, bounce,
//! complaint and rejection is counted, and a permanent bounce or a complaint **suppresses** the
//! address, so that no further mail is sent to it until an operator lifts the suppression.
//!
//! Mailbox providers and SES judge a sender by its bounce and complaint rates; SES pauses an
//! account whose rates pass its thresholds, and then every mail, password resets included,
//! stops. Sending again to an address that bounced for good, or whose owner called the mail
//! spam, only raises those rates. A transient bounce (a full mailbox, a greylisting server) says
//! nothing lasting about the address and is only counted; so is a rejection, which SES makes for
//! the mail's content, not for its recipient.
//!
//! The decisions here are pure: [`decide`] says what one piece of feedback changes, and
//! [`AddressFeedback`] is the record it changes, with the rule the mailer asks before sending
//! ([`AddressFeedback::sending`]) and the operator's lift ([`AddressFeedback::lift`]).

use std::fmt;

use crate::Timestamp;

/// SES's classification of a bounce (`bounce.bounceType` in its events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BounceType {
    /// The address does not exist, or the provider refuses it for good (or it is on SES's
    /// account-level suppression list).
    Permanent,
    /// A passing failure: a full mailbox, a message too large, a server that defers.
    Transient,
    /// SES could not tell; treated like a transient bounce, since suppressing on a guess would
    /// cut off a working address.
    Undetermined,
}

impl BounceType {
    /// The type SES names `name` (`Permanent`, `Transient`, `Undetermined`); a name SES adds
    /// later reads as [`BounceType::Undetermined`], never as a reason to suppress.
    pub fn parse(name: &str) -> Self {
        match name {
            "Permanent" => Self::Permanent,
            "Transient" => Self::Transient,
            _ => Self::Undetermined,
        }
    }

    /// SES's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Permanent => "Permanent",
            Self::Transient => "Transient",
            Self::Undetermined => "Undetermined",
        }
    }
}

impl fmt::Display for BounceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of feedback on a sent mail, for one of its recipients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feedback {
    /// The recipient's server accepted the mail.
    Delivered,
    /// The mail bounced.
    Bounced(BounceType),
    /// The recipient marked the mail as spam.
    Complained,
    /// SES refused to send the mail (it found a virus, say): about the content, not the address.
    Rejected,
}

/// The counters kept per address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Deliveries.
    Deliveries,
    /// Transient and undetermined bounces.
    TransientBounces,
    /// Permanent bounces.
    PermanentBounces,
    /// Complaints.
    Complaints,
    /// Rejections.
    Rejects,
}

impl Counter {
    /// Every counter.
    pub const ALL: [Self; 5] = [
        Self::Deliveries,
        Self::TransientBounces,
        Self::PermanentBounces,
        Self::Complaints,
        Self::Rejects,
    ];
}

/// Why an address is suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SuppressionReason {
    /// A mail to it bounced permanently.
    PermanentBounce,
    /// Its owner marked a mail as spam.
    Complaint,
}

impl SuppressionReason {
    /// The stable name (`permanent-bounce`, `complaint`), as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PermanentBounce => "permanent-bounce",
            Self::Complaint => "complaint",
        }
    }

    /// The reason named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::PermanentBounce, Self::Complaint]
            .into_iter()
            .find(|reason| reason.as_str() == name)
    }
}

impl fmt::Display for SuppressionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one piece of feedback changes on its address's record: one counter goes up by one, and
/// the address may become suppressed. A change is a delta, not a new state, so that it can be
/// applied atomically to whatever the record holds by then (feedback on several mails to one
/// address can arrive at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedbackChange {
    /// The counter to increment.
    pub counter: Counter,
    /// The suppression to put in force, unless one already is.
    pub suppress: Option<SuppressionReason>,
}

/// What `feedback` does to its address.
pub fn decide(feedback: Feedback) -> FeedbackChange {
    let (counter, suppress) = match feedback {
        Feedback::Delivered => (Counter::Deliveries, None),
        Feedback::Bounced(BounceType::Permanent) => (
            Counter::PermanentBounces,
            Some(SuppressionReason::PermanentBounce),
        ),
        Feedback::Bounced(BounceType::Transient | BounceType::Undetermined) => {
            (Counter::TransientBounces, None)
        }
        Feedback::Complained => (Counter::Complaints, Some(SuppressionReason::Complaint)),
        Feedback::Rejected => (Counter::Rejects, None),
    };
    FeedbackChange { counter, suppress }
}

/// A suppression in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// Why.
    pub reason: SuppressionReason,
    /// Since when.
    pub since: Timestamp,
}

/// The last suppression an operator lifted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lifted {
    /// The reason the address had been suppressed for.
    pub reason: SuppressionReason,
    /// When it was lifted.
    pub at: Timestamp,
    /// Who lifted it, as the operator named themselves.
    pub by: String,
}

/// Whether mail may go to an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sending {
    /// It may.
    Allowed,
    /// It is suppressed: no mail goes to it.
    Suppressed(Suppression),
}

/// The lift was asked for an address that is not suppressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the address is not suppressed")]
pub struct NotSuppressed;

/// What is known of one address from SES's feedback.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddressFeedback {
    /// Deliveries.
    pub deliveries: u64,
    /// Transient and undetermined bounces.
    pub transient_bounces: u64,
    /// Permanent bounces.
    pub permanent_bounces: u64,
    /// Complaints.
    pub complaints: u64,
    /// Rejections.
    pub rejects: u64,
    /// The suppression in force, if any.
    pub suppression: Option<Suppression>,
    /// The last suppression lifted, if any.
    pub lifted: Option<Lifted>,
}

impl AddressFeedback {
    /// The value of `counter`.
    pub fn count(&self, counter: Counter) -> u64 {
        match counter {
            Counter::Deliveries => self.deliveries,
            Counter::TransientBounces => self.transient_bounces,
            Counter::PermanentBounces => self.permanent_bounces,
            Counter::Complaints => self.complaints,
            Counter::Rejects => self.rejects,
        }
    }

    fn count_mut(&mut self, counter: Counter) -> &mut u64 {
        match counter {
            Counter::Deliveries => &mut self.deliveries,
            Counter::TransientBounces => &mut self.transient_bounces,
            Counter::PermanentBounces => &mut self.permanent_bounces,
            Counter::Complaints => &mut self.complaints,
            Counter::Rejects => &mut self.rejects,
        }
    }

    /// Applies `change`, made at `at`. A suppression already in force keeps its first reason
    /// and time: the record says why the address was cut off, not what came after.
    pub fn apply(&mut self, change: FeedbackChange, at: Timestamp) {
        let count = self.count_mut(change.counter);
        *count = count.saturating_add(1);
        if let (None, Some(reason)) = (&self.suppression, change.suppress) {
            self.suppression = Some(Suppression { reason, since: at });
        }
    }

    /// Whether mail may go to the address.
    pub fn sending(&self) -> Sending {
        match &self.suppression {
            Some(suppression) => Sending::Suppressed(suppression.clone()),
            None => Sending::Allowed,
        }
    }

    /// Lifts the suppression, recording who did it and when. The counts stay: they are the
    /// address's history, and a new permanent bounce or complaint suppresses it again.
    pub fn lift(&mut self, by: &str, at: Timestamp) -> Result<Lifted, NotSuppressed> {
        let suppression = self.suppression.take().ok_or(NotSuppressed)?;
        let lifted = Lifted {
            reason: suppression.reason,
            at,
            by: by.to_owned(),
        };
        self.lifted = Some(lifted.clone());
        Ok(lifted)
    }
}

/// Whether mail may go to an address whose record is `record` (`None`: no feedback yet).
pub fn sending(record: Option<&AddressFeedback>) -> Sending {
    record.map_or(Sending::Allowed, AddressFeedback::sending)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn record_of(events: &[Feedback]) -> AddressFeedback {
        let mut record = AddressFeedback::default();
        for (i, event) in events.iter().enumerate() {
            record.apply(decide(*event), at(i64::try_from(i).unwrap()));
        }
        record
    }

    #[test]
    fn a_permanent_bounce_suppresses_the_address() {
        let record = record_of(&[Feedback::Bounced(BounceType::Permanent)]);
        assert_eq!(record.permanent_bounces, 1);
        assert_eq!(
            record.sending(),
            Sending::Suppressed(Suppression {
                reason: SuppressionReason::PermanentBounce,
                since: at(0),
            })
        );
    }

    #[test]
    fn a_complaint_suppresses_the_address() {
        let record = record_of(&[Feedback::Delivered, Feedback::Complained]);
        assert_eq!((record.deliveries, record.complaints), (1, 1));
        assert!(matches!(
            record.sending(),
            Sending::Suppressed(Suppression {
                reason: SuppressionReason::Complaint,
                ..
            })
        ));
    }

    #[test]
    fn transient_and_undetermined_bounces_are_counted_and_never_suppress() {
        let record = record_of(&[
            Feedback::Bounced(BounceType::Transient),
            Feedback::Bounced(BounceType::Undetermined),
            Feedback::Bounced(BounceType::Transient),
        ]);
        assert_eq!(record.transient_bounces, 3);
        assert_eq!(record.permanent_bounces, 0);
        assert_eq!(record.sending(), Sending::Allowed);
    }

    #[test]
    fn deliveries_and_rejections_are_counted_and_never_suppress() {
        let record = record_of(&[Feedback::Delivered, Feedback::Rejected, Feedback::Delivered]);
        assert_eq!((record.deliveries, record.rejects), (2, 1));
        assert_eq!(record.sending(), Sending::Allowed);
    }

    #[test]
    fn an_address_without_feedback_may_be_mailed() {
        assert_eq!(sending(None), Sending::Allowed);
    }

    #[test]
    fn a_suppression_in_force_keeps_its_first_reason_and_time() {
        let record = record_of(&[
            Feedback::Complained,
            Feedback::Bounced(BounceType::Permanent),
        ]);
        assert_eq!(
            record.suppression,
            Some(Suppression {
                reason: SuppressionReason::Complaint,
                since: at(0),
            })
        );
        assert_eq!((record.complaints, record.permanent_bounces), (1, 1));
    }

    #[test]
    fn lifting_keeps_the_counts_records_who_and_a_new_bounce_suppresses_again() {
        let mut record = record_of(&[
            Feedback::Delivered,
            Feedback::Bounced(BounceType::Permanent),
        ]);
        let lifted = record.lift("ops@example.com", at(50)).unwrap();
        assert_eq!(
            lifted,
            Lifted {
                reason: SuppressionReason::PermanentBounce,
                at: at(50),
                by: "ops@example.com".to_owned(),
            }
        );
        assert_eq!(record.sending(), Sending::Allowed);
        assert_eq!((record.deliveries, record.permanent_bounces), (1, 1));
        assert_eq!(record.lifted, Some(lifted));

        record.apply(decide(Feedback::Bounced(BounceType::Permanent)), at(60));
        assert_eq!(record.permanent_bounces, 2);
        assert_eq!(
            record.sending(),
            Sending::Suppressed(Suppression {
                reason: SuppressionReason::PermanentBounce,
                since: at(60),
            })
        );
    }

    #[test]
    fn an_address_that_is_not_suppressed_cannot_be_lifted() {
        let mut record = record_of(&[Feedback::Delivered]);
        assert_eq!(record.lift("ops", at(1)), Err(NotSuppressed));
        assert_eq!(record.lifted, None);
    }

    #[test]
    fn names_read_back() {
        for reason in [
            SuppressionReason::PermanentBounce,
            SuppressionReason::Complaint,
        ] {
            assert_eq!(SuppressionReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(SuppressionReason::parse("spam"), None);
        for bounce in [
            BounceType::Permanent,
            BounceType::Transient,
            BounceType::Undetermined,
        ] {
            assert_eq!(BounceType::parse(bounce.as_str()), bounce);
        }
        assert_eq!(BounceType::parse("Blocked"), BounceType::Undetermined);
    }

    fn any_feedback() -> impl Strategy<Value = Feedback> {
        prop_oneof![
            Just(Feedback::Delivered),
            Just(Feedback::Bounced(BounceType::Permanent)),
            Just(Feedback::Bounced(BounceType::Transient)),
            Just(Feedback::Bounced(BounceType::Undetermined)),
            Just(Feedback::Complained),
            Just(Feedback::Rejected),
        ]
    }

    proptest! {
        #[test]
        fn every_event_is_counted_once_and_only_bad_ones_suppress(
            events in proptest::collection::vec(any_feedback(), 0..40),
        ) {
            let record = record_of(&events);
            let total: u64 = Counter::ALL.iter().map(|c| record.count(*c)).sum();
            prop_assert_eq!(total, events.len() as u64);
            let first_bad = events.iter().position(|e| {
                matches!(e, Feedback::Complained | Feedback::Bounced(BounceType::Permanent))
            });
            match (first_bad, record.sending()) {
                (None, Sending::Allowed) => {}
                (Some(index), Sending::Suppressed(suppression)) => {
                    prop_assert_eq!(suppression.since, at(i64::try_from(index).unwrap()));
                }
                (expected, actual) => prop_assert!(false, "{expected:?} vs {actual:?}"),
            }
        }
    }
}
