//! The mailer's side of the global mail cap: a claimed mail is counted toward its kind's window
//! before it is sent; past the cap it is given back and waits in the retry queue for the next
//! window (never dropped, never counted as a failed attempt), with a metric the stack's alarm
//! watches. A wait longer than SQS can delay a message is carried by the job itself
//! ([`MailJob::not_before`]), so a waiting mail costs no table call until its time comes. A
//! mail with a link never waits until its link is useless: it is then sent over the cap.

use std::time::Duration;

use lambdauth_domain::random::{OsRandomness, Randomness};
use lambdauth_domain::{OverCap, Timestamp};

use super::jobs::MailJob;
use super::queue::MAX_DELAY;
use super::{Delivery, Mailer, MailerError};
use lambdauth_domain::OutboxMail;
use lambdauth_runtime::metrics::{MailMetric, emit};

use crate::store::caps::CapCheck;

impl Mailer {
    /// Counts `mail` toward its kind's cap; `true` when the cap is reached and the mail was
    /// deferred instead (the caller then sends nothing).
    pub(super) async fn over_cap(
        &self,
        mail: &OutboxMail,
        now: Timestamp,
    ) -> Result<bool, MailerError> {
        let check = self
            .store
            .count_toward_cap(&self.config.cap, mail.kind, now)
            .await?;
        if check != CapCheck::Reached {
            return Ok(false);
        }
        let random = u32::from_le_bytes(OsRandomness.bytes().unwrap_or([0x80; 4]));
        let until = match self.config.cap.over_cap(now, mail.link_expires_at, random) {
            OverCap::WaitUntil(until) => until,
            OverCap::SendNow => {
                tracing::warn!(
                    kind = %mail.kind,
                    "the cap of this kind of mail is reached, but its link would expire while it waits: sent over the cap"
                );
                emit(MailMetric::SentOverCap, mail.kind.as_str(), now.as_millis());
                return Ok(false);
            }
        };
        let note = format!(
            "the cap of {} mail per window was reached; waiting for the next window",
            mail.kind
        );
        // Queued before it is given back: if giving back fails, the claim lapses and the
        // queued job claims it again, so the mail is never stranded.
        let mut job = MailJob::after_attempts(mail, Some(&note), None, self.now().as_millis());
        job.not_before = Some(until.as_millis());
        self.retry_queue
            .send(&job, until.since(now).min(MAX_DELAY))
            .await?;
        if let Err(error) = self.store.defer_mail(mail, &note, self.now()).await {
            tracing::warn!(%error, "giving the deferred mail back failed; its claim will lapse");
        }
        tracing::error!(
            alert = "mail cap reached",
            kind = %mail.kind,
            wait_seconds = until.since(now).as_secs(),
            "the global cap of this kind of mail is reached; the mail waits for the next window"
        );
        emit(
            MailMetric::Deferred,
            mail.kind.as_str(),
            self.now().as_millis(),
        );
        Ok(true)
    }

    /// A job received before its [`MailJob::not_before`]: back to the retry queue to wait the
    /// rest (at most SQS's fifteen minutes at a time), with no call to the table. `None` when
    /// the job is due.
    pub(super) async fn wait_longer(
        &self,
        job: &MailJob,
        now: Timestamp,
    ) -> Result<Option<Delivery>, MailerError> {
        let Some(not_before) = job.not_before.map(Timestamp::from_millis) else {
            return Ok(None);
        };
        if not_before <= now {
            return Ok(None);
        }
        let wait = not_before
            .since(now)
            .min(MAX_DELAY)
            .max(Duration::from_secs(1));
        self.retry_queue.send(job, wait).await?;
        Ok(Some(Delivery::OverCap))
    }
}
