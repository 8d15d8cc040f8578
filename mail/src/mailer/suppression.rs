//! The mailer's side of SES feedback: before a claimed mail is sent, its recipient's feedback
//! record is read, and a mail to a suppressed address ends `suppressed` with the reason, with no
//! SES call, a metric and a security event. Nothing of it reaches the API's answers, which were
//! given before the mail was even claimed.

use lambdauth_domain::Timestamp;
use lambdauth_domain::feedback::{self, Sending};

use super::{Mailer, MailerError};
use lambdauth_domain::OutboxMail;
use lambdauth_runtime::metrics::{MailMetric, emit};
use lambdauth_runtime::security::{self, SecurityEvent};
use lambdauth_runtime::store::StoreError;

impl Mailer {
    /// Ends the claimed `mail` unsent when its recipient is suppressed; `true` when it did (the
    /// caller then sends nothing).
    pub(super) async fn end_if_suppressed(
        &self,
        mail: &OutboxMail,
        now: Timestamp,
    ) -> Result<bool, MailerError> {
        let recipient = mail.recipient.as_str();
        let record = self.store.address_feedback(recipient).await?;
        let Sending::Suppressed(suppression) = feedback::sending(record.as_ref()) else {
            return Ok(false);
        };
        let reason = suppression.reason.as_str();
        match self
            .store
            .mark_mail_suppressed(mail, &format!("recipient suppressed: {reason}"), now)
            .await
        {
            Ok(()) => {}
            // This claim lapsed and another mailer holds the mail: it reads the same suppression
            // and ends (and counts) it the same way. Nothing is sent from here either.
            Err(StoreError::Conflict) => return Ok(true),
            Err(error) => return Err(error.into()),
        }
        tracing::warn!(
            reason,
            since = suppression.since.as_millis(),
            "the recipient is suppressed; the mail is not sent"
        );
        security::record(
            &SecurityEvent::MailSuppressed { recipient, reason },
            None,
            now,
        );
        emit(MailMetric::Suppressed, mail.kind.as_str(), now.as_millis());
        Ok(true)
    }
}
