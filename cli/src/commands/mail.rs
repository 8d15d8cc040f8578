//! `lambdauth dlq` and `lambdauth mail`: the dead-letter queue, and the outbox history and SES
//! feedback of one address (with the lift of its suppression), printed as tables.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use lambdauth::dlq;
use lambdauth::mailbox::{self, Unsuppressed};
use lambdauth_domain::Email;
use lambdauth_mail::mailer::queue::MailQueue;
use lambdauth_mail::store::OutboxStore;
use lambdauth_runtime::config::DEFAULT_OUTBOX_TABLE_NAME;
use lambdauth_runtime::store::StoreError;

use super::{aws, now};

#[derive(clap::Args)]
pub(crate) struct QueueArgs {
    /// The outbox table (for the mails behind the jobs).
    #[arg(long = "outbox-table", env = "OUTBOX_TABLE_NAME", default_value = DEFAULT_OUTBOX_TABLE_NAME)]
    table: String,
    /// The retry queue's URL.
    #[arg(long, env = "RETRY_QUEUE_URL")]
    retry_queue_url: String,
    /// The dead-letter queue's URL.
    #[arg(long, env = "DEAD_LETTER_QUEUE_URL")]
    dead_letter_queue_url: String,
}

#[derive(Subcommand)]
pub(crate) enum DlqAction {
    /// A table of the parked jobs: mail id, kind, masked recipient, attempts, reason, age.
    List,
    /// Send every parked job back to the retry queue; jobs whose link expired are dropped.
    Redrive,
    /// Delete every parked job.
    Purge,
}

#[derive(Subcommand)]
pub(crate) enum MailAction {
    /// Every mail to an address (kind, status, attempts, last error, times), and what SES's
    /// feedback says of it: deliveries, bounces, complaints, and whether it is suppressed and why.
    Status {
        /// The address.
        email: String,
        /// The outbox table.
        #[arg(long = "outbox-table", env = "OUTBOX_TABLE_NAME", default_value = DEFAULT_OUTBOX_TABLE_NAME)]
        table: String,
    },
    /// Lift an address's suppression (after a permanent bounce or a complaint), so mail goes to
    /// it again; its counts stay, and who lifted it and when is recorded.
    Unsuppress {
        /// The address.
        email: String,
        /// Who lifts it, as recorded.
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
        /// The outbox table.
        #[arg(long = "outbox-table", env = "OUTBOX_TABLE_NAME", default_value = DEFAULT_OUTBOX_TABLE_NAME)]
        table: String,
    },
}

pub(crate) async fn run_dlq(action: &DlqAction, queues: &QueueArgs) -> Result<ExitCode> {
    let aws = aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let dead_letters = MailQueue::new(sqs.clone(), &queues.dead_letter_queue_url);
    match action {
        DlqAction::List => {
            let letters = dlq::dlq_list(&dead_letters).await?;
            println!(
                "{:<32}  {:<18}  {:<28}  {:>8}  {:>8}  reason",
                "mail id", "kind", "recipient", "attempts", "age"
            );
            for letter in &letters {
                let (id, kind, recipient, attempts) = letter.job.as_ref().map_or_else(
                    || {
                        (
                            letter.message_id.clone(),
                            "?".to_owned(),
                            "?".to_owned(),
                            "?".to_owned(),
                        )
                    },
                    |job| {
                        let masked = Email::parse(&job.recipient)
                            .map_or_else(|_| "?".to_owned(), |e| e.masked());
                        (
                            job.mail_id.clone(),
                            job.kind.clone(),
                            masked,
                            job.attempts.to_string(),
                        )
                    },
                );
                let age = letter
                    .sent_at
                    .map_or_else(|| "?".to_owned(), |at| dlq::age(at, now()));
                println!(
                    "{id:<32}  {kind:<18}  {recipient:<28}  {attempts:>8}  {age:>8}  {}",
                    letter.reason()
                );
            }
            println!("{} job(s) in the dead-letter queue", letters.len());
        }
        DlqAction::Redrive => {
            let store = OutboxStore::new(aws_sdk_dynamodb::Client::new(&aws), &queues.table);
            let report = dlq::dlq_redrive(
                &store,
                &dead_letters,
                &MailQueue::new(sqs, &queues.retry_queue_url),
                now(),
            )
            .await?;
            for id in &report.redriven {
                println!("redriven  {id}");
            }
            for (id, why) in &report.dropped {
                println!("dropped   {id}: {why}");
            }
            for id in &report.kept {
                println!("kept      {id}: not a mail job");
            }
            println!(
                "{} redriven, {} dropped, {} kept",
                report.redriven.len(),
                report.dropped.len(),
                report.kept.len()
            );
        }
        DlqAction::Purge => {
            let purged = dlq::dlq_purge(&dead_letters).await?;
            println!("{purged} job(s) purged");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn run_mail(action: &MailAction) -> Result<ExitCode> {
    match action {
        MailAction::Status { email, table } => run_mail_status(email, table).await,
        MailAction::Unsuppress { email, by, table } => run_unsuppress(email, by, table).await,
    }
}

async fn run_unsuppress(email: &str, by: &str, table: &str) -> Result<ExitCode> {
    let email = Email::parse(email).context("the address")?;
    let aws = aws().await;
    let store = OutboxStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    match mailbox::unsuppress(&store, &email, by, now())
        .await
        .map_err(|error| match error {
            StoreError::Conflict => anyhow::anyhow!(
                "the suppression changed while it was being lifted (new feedback arrived); look at `lambdauth mail status` and run it again"
            ),
            other => other.into(),
        })? {
        Unsuppressed::Lifted(lifted) => println!(
            "lifted the suppression of {} ({}); mail is sent to it again. Recorded as lifted by {by}.",
            email.as_str(),
            lifted.reason
        ),
        Unsuppressed::NotSuppressed => {
            println!("{} is not suppressed: nothing to lift", email.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_mail_status(email: &str, table: &str) -> Result<ExitCode> {
    let email = Email::parse(email).context("the address")?;
    let aws = aws().await;
    let store = OutboxStore::new(aws_sdk_dynamodb::Client::new(&aws), table);
    let mails = dlq::mail_status(&store, &email).await?;
    println!(
        "{:<32}  {:<18}  {:<10}  {:>8}  {:>10}  {:>10}  last error",
        "mail id", "kind", "status", "attempts", "created", "updated"
    );
    for mail in &mails {
        let updated = mail
            .updated_at
            .map_or_else(|| "-".to_owned(), |at| dlq::age(at.as_millis(), now()));
        println!(
            "{:<32}  {:<18}  {:<10}  {:>8}  {:>10}  {:>10}  {}",
            mail.id,
            mail.kind.as_str(),
            mail.status.as_str(),
            mail.attempts,
            dlq::age(mail.created_at.as_millis(), now()),
            updated,
            mail.last_error.as_deref().unwrap_or("-"),
        );
    }
    println!("{} mail(s) to {}", mails.len(), email.masked());
    let feedback = store.address_feedback(email.as_str()).await?;
    for line in mailbox::feedback_lines(&email, feedback.as_ref(), now()) {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
