//! The mail retry queue and dead-letter queue: reading their attributes from SQS, and the
//! findings on them, among them whether the retry queue redrives to this dead-letter queue.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::QueueAttributeName;
use lambdauth_local::provision::{
    DEAD_LETTER_RETENTION_SECONDS, MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_SECONDS,
};

use super::{Finding, Subject, Unread, describe};

/// A queue's attributes by name.
pub(super) type Attributes = HashMap<QueueAttributeName, String>;

/// The dead-letter queue's findings and its ARN (for the retry queue's redrive check).
pub(super) struct DeadLetterCheck {
    pub(super) findings: Vec<Finding>,
    pub(super) arn: Option<String>,
}

/// Checks the dead-letter queue at `url`.
pub(super) async fn dead_letter_queue(
    sqs: &aws_sdk_sqs::Client,
    url: Option<&str>,
) -> DeadLetterCheck {
    let Some(url) = url else {
        return DeadLetterCheck {
            findings: vec![dead_letter_not_set()],
            arn: None,
        };
    };
    dead_letter_findings(url, &fetch_attributes(sqs, url).await)
}

/// Checks the retry queue at `url`, whose redrive should lead to `dead_letter_arn`.
pub(super) async fn retry_queue(
    sqs: &aws_sdk_sqs::Client,
    url: Option<&str>,
    dead_letter_arn: Option<&str>,
) -> Vec<Finding> {
    let Some(url) = url else {
        return vec![retry_not_set()];
    };
    retry_findings(url, &fetch_attributes(sqs, url).await, dead_letter_arn)
}

/// All the attributes of the queue at `url`.
pub(super) async fn fetch_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<Attributes, Unread> {
    match sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
    {
        Ok(output) => Ok(output.attributes.unwrap_or_default()),
        Err(error)
            if error.as_service_error().is_some_and(|service| {
                service.is_queue_does_not_exist()
                    || service
                        .code()
                        .is_some_and(|code| code.contains("NonExistentQueue"))
            }) =>
        {
            Err(Unread::Missing)
        }
        Err(error) => Err(Unread::Failed(describe(&error))),
    }
}

fn dead_letter_not_set() -> Finding {
    Finding::not_set(
        Subject::DeadLetterQueue,
        "DEAD_LETTER_QUEUE_URL",
        "dead-letter-queue-url",
        "DeadLetterQueueUrl",
    )
}

fn retry_not_set() -> Finding {
    Finding::not_set(
        Subject::RetryQueue,
        "RETRY_QUEUE_URL",
        "retry-queue-url",
        "RetryQueueUrl",
    )
}

fn unreadable(subject: Subject, url: &str, detail: &str) -> Finding {
    Finding::problem(
        subject,
        format!("cannot read {url}: {detail}"),
        "run with credentials allowed sqs:GetQueueAttributes on the queue",
    )
}

/// A numeric attribute, 0 when absent or not a number.
fn number(attributes: &Attributes, name: &QueueAttributeName) -> u64 {
    attributes
        .get(name)
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

fn dead_letter_findings(url: &str, attributes: &Result<Attributes, Unread>) -> DeadLetterCheck {
    let subject = Subject::DeadLetterQueue;
    let attributes = match attributes {
        Ok(attributes) => attributes,
        Err(Unread::Missing) => {
            return DeadLetterCheck {
                findings: vec![Finding::problem(
                    subject,
                    format!("there is no queue at {url}"),
                    "set DEAD_LETTER_QUEUE_URL to the stack's DeadLetterQueueUrl output, or deploy the stack",
                )],
                arn: None,
            };
        }
        Err(Unread::Failed(detail)) => {
            return DeadLetterCheck {
                findings: vec![unreadable(subject, url, detail)],
                arn: None,
            };
        }
    };
    let mut findings = Vec::new();
    let parked = number(attributes, &QueueAttributeName::ApproximateNumberOfMessages);
    let retention = number(attributes, &QueueAttributeName::MessageRetentionPeriod);
    if parked > 0 {
        findings.push(Finding::warning(
            subject,
            format!("{parked} job(s) parked: mail that could not be delivered"),
            "see why with `lambdauth dlq list`; once the cause is fixed, `lambdauth dlq redrive`",
        ));
    }
    if retention < u64::from(DEAD_LETTER_RETENTION_SECONDS) {
        findings.push(Finding::warning(
            subject,
            format!("keeps a parked job {retention} s, less than 14 days: it may vanish before anyone looks"),
            format!("aws sqs set-queue-attributes --queue-url {url} --attributes MessageRetentionPeriod={DEAD_LETTER_RETENTION_SECONDS}"),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("empty, keeps jobs {} days", retention / 86_400),
        ));
    }
    DeadLetterCheck {
        findings,
        arn: attributes.get(&QueueAttributeName::QueueArn).cloned(),
    }
}

fn retry_findings(
    url: &str,
    attributes: &Result<Attributes, Unread>,
    dead_letter_arn: Option<&str>,
) -> Vec<Finding> {
    let subject = Subject::RetryQueue;
    let attributes = match attributes {
        Ok(attributes) => attributes,
        Err(Unread::Missing) => {
            return vec![Finding::problem(
                subject,
                format!(
                    "there is no queue at {url}: mail that fails for a moment is never retried"
                ),
                "set RETRY_QUEUE_URL to the stack's RetryQueueUrl output, or deploy the stack",
            )];
        }
        Err(Unread::Failed(detail)) => return vec![unreadable(subject, url, detail)],
    };
    let redeploy = "sam deploy (the template sets the redrive and the visibility timeout)";
    let redrive: Option<serde_json::Value> = attributes
        .get(&QueueAttributeName::RedrivePolicy)
        .and_then(|policy| serde_json::from_str(policy).ok());
    let Some(redrive) = redrive else {
        return vec![Finding::problem(
            subject,
            "no redrive policy: a job that keeps failing is never parked for an operator",
            redeploy,
        )];
    };
    let mut findings = Vec::new();
    let target = redrive["deadLetterTargetArn"].as_str().unwrap_or_default();
    if let Some(expected) = dead_letter_arn
        && target != expected
    {
        findings.push(Finding::problem(
            subject,
            format!("redrives to {target}, not to the dead-letter queue {expected}"),
            format!("point DEAD_LETTER_QUEUE_URL at the queue of {target}, or {redeploy}"),
        ));
    }
    // SQS gives the count as a number or as a string, depending on who set it.
    let max_receive_count = redrive["maxReceiveCount"]
        .as_u64()
        .or_else(|| redrive["maxReceiveCount"].as_str()?.parse().ok())
        .unwrap_or_default();
    if max_receive_count < u64::from(MAX_RECEIVE_COUNT) {
        findings.push(Finding::warning(
            subject,
            format!("a job is parked after {max_receive_count} receive(s), fewer than {MAX_RECEIVE_COUNT}"),
            redeploy,
        ));
    }
    let visibility = number(attributes, &QueueAttributeName::VisibilityTimeout);
    if visibility < u64::from(VISIBILITY_TIMEOUT_SECONDS) {
        findings.push(Finding::warning(
            subject,
            format!("visibility timeout {visibility} s, under {VISIBILITY_TIMEOUT_SECONDS} s (six times the mailer's timeout): a job may be handled twice"),
            redeploy,
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("redrives to the dead-letter queue after {max_receive_count} receives"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    const URL: &str = "http://sqs/q";
    const DLQ_ARN: &str = "arn:aws:sqs:eu-west-1:1:dlq";
    const REDEPLOY: &str = "sam deploy (the template sets the redrive and the visibility timeout)";

    fn attributes(pairs: &[(QueueAttributeName, String)]) -> Attributes {
        pairs.iter().cloned().collect()
    }

    fn healthy_dead_letter() -> Attributes {
        attributes(&[
            (
                QueueAttributeName::ApproximateNumberOfMessages,
                "0".to_owned(),
            ),
            (
                QueueAttributeName::MessageRetentionPeriod,
                DEAD_LETTER_RETENTION_SECONDS.to_string(),
            ),
            (QueueAttributeName::QueueArn, DLQ_ARN.to_owned()),
        ])
    }

    fn retry(redrive: Option<String>, visibility: u32) -> Attributes {
        let mut pairs = vec![(
            QueueAttributeName::VisibilityTimeout,
            visibility.to_string(),
        )];
        pairs.extend(redrive.map(|policy| (QueueAttributeName::RedrivePolicy, policy)));
        attributes(&pairs)
    }

    fn redrive(target: &str, count: &serde_json::Value) -> String {
        serde_json::json!({"deadLetterTargetArn": target, "maxReceiveCount": count}).to_string()
    }

    #[test]
    fn unset_queues_name_their_variables() {
        let dead_letter = dead_letter_not_set();
        assert_eq!(dead_letter.subject, Subject::DeadLetterQueue);
        assert_eq!(dead_letter.verdict, Verdict::Problem);
        assert_eq!(dead_letter.detail, "DEAD_LETTER_QUEUE_URL is not set");
        assert_eq!(
            dead_letter.fix.as_deref(),
            Some(
                "set DEAD_LETTER_QUEUE_URL or pass --dead-letter-queue-url (the stack's DeadLetterQueueUrl output)"
            )
        );
        let retry = retry_not_set();
        assert_eq!(retry.subject, Subject::RetryQueue);
        assert_eq!(retry.detail, "RETRY_QUEUE_URL is not set");
        assert_eq!(
            retry.fix.as_deref(),
            Some(
                "set RETRY_QUEUE_URL or pass --retry-queue-url (the stack's RetryQueueUrl output)"
            )
        );
    }

    #[test]
    fn an_empty_dead_letter_queue_that_keeps_jobs_14_days_is_healthy() {
        let check = dead_letter_findings(URL, &Ok(healthy_dead_letter()));
        assert_eq!(check.arn.as_deref(), Some(DLQ_ARN));
        assert_eq!(check.findings.len(), 1);
        assert_eq!(check.findings[0].subject, Subject::DeadLetterQueue);
        assert_eq!(check.findings[0].verdict, Verdict::Ok);
        assert_eq!(check.findings[0].detail, "empty, keeps jobs 14 days");
    }

    #[test]
    fn parked_jobs_and_a_short_retention_are_warnings() {
        let check = dead_letter_findings(
            URL,
            &Ok(attributes(&[
                (
                    QueueAttributeName::ApproximateNumberOfMessages,
                    "3".to_owned(),
                ),
                (QueueAttributeName::MessageRetentionPeriod, "60".to_owned()),
                (QueueAttributeName::QueueArn, DLQ_ARN.to_owned()),
            ])),
        );
        assert_eq!(check.arn.as_deref(), Some(DLQ_ARN));
        assert_eq!(check.findings.len(), 2);
        assert_eq!(check.findings[0].verdict, Verdict::Warning);
        assert_eq!(
            check.findings[0].detail,
            "3 job(s) parked: mail that could not be delivered"
        );
        assert_eq!(
            check.findings[0].fix.as_deref(),
            Some(
                "see why with `lambdauth dlq list`; once the cause is fixed, `lambdauth dlq redrive`"
            )
        );
        assert_eq!(check.findings[1].verdict, Verdict::Warning);
        assert_eq!(
            check.findings[1].detail,
            "keeps a parked job 60 s, less than 14 days: it may vanish before anyone looks"
        );
        assert_eq!(
            check.findings[1].fix,
            Some(format!(
                "aws sqs set-queue-attributes --queue-url {URL} --attributes MessageRetentionPeriod={DEAD_LETTER_RETENTION_SECONDS}"
            ))
        );
    }

    #[test]
    fn a_dead_letter_queue_that_cannot_be_read_has_no_arn() {
        let missing = dead_letter_findings(URL, &Err(Unread::Missing));
        assert_eq!(missing.arn, None);
        assert_eq!(missing.findings.len(), 1);
        assert_eq!(missing.findings[0].verdict, Verdict::Problem);
        assert_eq!(
            missing.findings[0].detail,
            format!("there is no queue at {URL}")
        );
        assert_eq!(
            missing.findings[0].fix.as_deref(),
            Some(
                "set DEAD_LETTER_QUEUE_URL to the stack's DeadLetterQueueUrl output, or deploy the stack"
            )
        );
        let failed = dead_letter_findings(URL, &Err(Unread::Failed("AccessDenied: no".to_owned())));
        assert_eq!(failed.arn, None);
        assert_eq!(
            failed.findings[0].detail,
            format!("cannot read {URL}: AccessDenied: no")
        );
        assert_eq!(
            failed.findings[0].fix.as_deref(),
            Some("run with credentials allowed sqs:GetQueueAttributes on the queue")
        );
    }

    #[test]
    fn a_retry_queue_that_redrives_to_the_dead_letter_queue_is_healthy() {
        let queue = Ok(retry(
            Some(redrive(DLQ_ARN, &MAX_RECEIVE_COUNT.into())),
            VISIBILITY_TIMEOUT_SECONDS,
        ));
        let findings = retry_findings(URL, &queue, Some(DLQ_ARN));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].subject, Subject::RetryQueue);
        assert_eq!(findings[0].verdict, Verdict::Ok);
        assert_eq!(
            findings[0].detail,
            format!("redrives to the dead-letter queue after {MAX_RECEIVE_COUNT} receives")
        );
        // Without a dead-letter ARN to compare, any target passes.
        assert_eq!(retry_findings(URL, &queue, None), findings);
    }

    #[test]
    fn the_receive_count_may_be_a_string() {
        let queue = Ok(retry(
            Some(redrive(DLQ_ARN, &MAX_RECEIVE_COUNT.to_string().into())),
            VISIBILITY_TIMEOUT_SECONDS,
        ));
        let findings = retry_findings(URL, &queue, Some(DLQ_ARN));
        assert_eq!(findings[0].verdict, Verdict::Ok, "{findings:?}");
    }

    #[test]
    fn a_retry_queue_without_a_redrive_never_parks_a_job() {
        for policy in [None, Some("not json".to_owned())] {
            let findings = retry_findings(
                URL,
                &Ok(retry(policy, VISIBILITY_TIMEOUT_SECONDS)),
                Some(DLQ_ARN),
            );
            assert_eq!(findings.len(), 1);
            assert_eq!(findings[0].verdict, Verdict::Problem);
            assert_eq!(
                findings[0].detail,
                "no redrive policy: a job that keeps failing is never parked for an operator"
            );
            assert_eq!(findings[0].fix.as_deref(), Some(REDEPLOY));
        }
    }

    #[test]
    fn a_redrive_to_another_queue_is_a_problem() {
        let other = "arn:aws:sqs:eu-west-1:1:other";
        let findings = retry_findings(
            URL,
            &Ok(retry(
                Some(redrive(other, &MAX_RECEIVE_COUNT.into())),
                VISIBILITY_TIMEOUT_SECONDS,
            )),
            Some(DLQ_ARN),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            format!("redrives to {other}, not to the dead-letter queue {DLQ_ARN}")
        );
        assert_eq!(
            findings[0].fix,
            Some(format!(
                "point DEAD_LETTER_QUEUE_URL at the queue of {other}, or {REDEPLOY}"
            ))
        );
    }

    #[test]
    fn few_receives_and_a_short_visibility_are_warnings() {
        let findings = retry_findings(
            URL,
            &Ok(retry(Some(redrive(DLQ_ARN, &1.into())), 30)),
            Some(DLQ_ARN),
        );
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].verdict, Verdict::Warning);
        assert_eq!(
            findings[0].detail,
            format!("a job is parked after 1 receive(s), fewer than {MAX_RECEIVE_COUNT}")
        );
        assert_eq!(findings[0].fix.as_deref(), Some(REDEPLOY));
        assert_eq!(findings[1].verdict, Verdict::Warning);
        assert_eq!(
            findings[1].detail,
            format!(
                "visibility timeout 30 s, under {VISIBILITY_TIMEOUT_SECONDS} s (six times the mailer's timeout): a job may be handled twice"
            )
        );
        assert_eq!(findings[1].fix.as_deref(), Some(REDEPLOY));
    }

    #[test]
    fn a_retry_queue_that_cannot_be_read_is_one_problem() {
        let missing = retry_findings(URL, &Err(Unread::Missing), Some(DLQ_ARN));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].verdict, Verdict::Problem);
        assert_eq!(
            missing[0].detail,
            format!("there is no queue at {URL}: mail that fails for a moment is never retried")
        );
        assert_eq!(
            missing[0].fix.as_deref(),
            Some("set RETRY_QUEUE_URL to the stack's RetryQueueUrl output, or deploy the stack")
        );
        let failed = retry_findings(
            URL,
            &Err(Unread::Failed("AccessDenied: no".to_owned())),
            None,
        );
        assert_eq!(failed.len(), 1);
        assert_eq!(
            failed[0].detail,
            format!("cannot read {URL}: AccessDenied: no")
        );
        assert_eq!(
            failed[0].fix.as_deref(),
            Some("run with credentials allowed sqs:GetQueueAttributes on the queue")
        );
    }
}
