//! The two tables, their streams and their TTL: reading them from DynamoDB, and the findings on
//! what was read. The outbox table needs a stream of new images (it feeds the mailer); the users
//! table needs none, and one left on it (a stack from before the outbox table) carries password
//! hashes that nothing reads any more.

use aws_sdk_dynamodb::types::{StreamViewType, TimeToLiveStatus};
use lambdauth_runtime::store::schema::{PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE};

use super::{Finding, Subject, Unread, describe};

/// What `DescribeTable` says of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TableState {
    /// The key schema: (attribute, key type), in order.
    pub(super) keys: Vec<(String, String)>,
    pub(super) status: Option<String>,
    pub(super) stream: Stream,
}

/// The table's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stream {
    /// No stream, or one that is disabled.
    Off,
    /// An enabled stream and what it carries.
    On(Option<StreamViewType>),
}

/// What `DescribeTimeToLive` says of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TimeToLive {
    pub(super) status: Option<TimeToLiveStatus>,
    pub(super) attribute: Option<String>,
}

/// Which of the two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// Users, throttles, sessions: `TABLE_NAME`, no stream needed.
    Users,
    /// The mail items: `OUTBOX_TABLE_NAME`, with the mailer's stream.
    Outbox,
}

impl Role {
    /// How to name the right table when `name` is the wrong one.
    fn naming_fix(self) -> &'static str {
        match self {
            Self::Users => "set TABLE_NAME or pass --table (the stack's TableName output)",
            Self::Outbox => {
                "set OUTBOX_TABLE_NAME or pass --outbox-table (the stack's OutboxTableName output)"
            }
        }
    }
}

/// Checks the table, its stream and its TTL; the TTL is asked only of a table that exists.
pub(super) async fn check(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
    role: Role,
) -> Vec<Finding> {
    let table = fetch_table(dynamodb, name).await;
    let mut findings = table_findings(name, role, &table);
    if matches!(table, Ok(Some(_))) {
        findings.push(time_to_live_finding(
            name,
            &fetch_time_to_live(dynamodb, name).await,
        ));
    }
    findings
}

/// The table named `name` (`None`: `DescribeTable` answered without one).
pub(super) async fn fetch_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<Option<TableState>, Unread> {
    let described = match dynamodb.describe_table().table_name(name).send().await {
        Ok(described) => described,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::describe_table::DescribeTableError::is_resource_not_found_exception) =>
        {
            return Err(Unread::Missing);
        }
        Err(error) => return Err(Unread::Failed(describe(&error))),
    };
    Ok(described.table().map(|table| TableState {
        keys: table
            .key_schema()
            .iter()
            .map(|key| {
                (
                    key.attribute_name().to_owned(),
                    key.key_type().as_str().to_owned(),
                )
            })
            .collect(),
        status: table
            .table_status()
            .map(|status| status.as_str().to_owned()),
        stream: match table
            .stream_specification()
            .filter(|stream| stream.stream_enabled())
        {
            None => Stream::Off,
            Some(stream) => Stream::On(stream.stream_view_type().cloned()),
        },
    }))
}

pub(super) async fn fetch_time_to_live(
    dynamodb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<TimeToLive, String> {
    let described = dynamodb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|error| describe(&error))?;
    let description = described.time_to_live_description();
    Ok(TimeToLive {
        status: description.and_then(|d| d.time_to_live_status()).cloned(),
        attribute: description
            .and_then(|d| d.attribute_name())
            .map(str::to_owned),
    })
}

/// The findings on the table `name` and, when it exists, on its stream.
fn table_findings(
    name: &str,
    role: Role,
    table: &Result<Option<TableState>, Unread>,
) -> Vec<Finding> {
    let table = match table {
        Ok(Some(table)) => table,
        Ok(None) => {
            return vec![Finding::problem(
                Subject::Table,
                format!("DescribeTable returned nothing for {name}"),
                "run again; if it persists, the endpoint is not DynamoDB",
            )];
        }
        Err(Unread::Missing) => {
            return vec![Finding::problem(
                Subject::Table,
                format!("there is no table {name}"),
                format!("{}, or deploy the stack", role.naming_fix()),
            )];
        }
        Err(Unread::Failed(detail)) => {
            return vec![Finding::problem(
                Subject::Table,
                format!("cannot describe {name}: {detail}"),
                "run with credentials allowed dynamodb:DescribeTable on the table",
            )];
        }
    };
    let keys: Vec<(&str, &str)> = table
        .keys
        .iter()
        .map(|(attribute, key_type)| (attribute.as_str(), key_type.as_str()))
        .collect();
    let keys_finding = if keys == [(PARTITION_KEY, "HASH"), (SORT_KEY, "RANGE")] {
        let status = table.status.as_deref().unwrap_or("of unknown status");
        Finding::ok(
            Subject::Table,
            format!("{name}: {status}, keys {PARTITION_KEY}/{SORT_KEY}"),
        )
    } else {
        Finding::problem(
            Subject::Table,
            format!(
                "{name} has the keys {keys:?}, not {PARTITION_KEY} (HASH) and {SORT_KEY} (RANGE)"
            ),
            format!("this is not a LambdAuth table: {}", role.naming_fix()),
        )
    };
    let stream = match role {
        Role::Users => users_stream_finding(name, &table.stream),
        Role::Outbox => stream_finding(name, &table.stream),
    };
    vec![keys_finding, stream]
}

/// The users table needs no stream; one still on it carries every password hash written and
/// nothing reads it.
fn users_stream_finding(table: &str, stream: &Stream) -> Finding {
    match stream {
        Stream::Off => Finding::ok(
            Subject::Stream,
            format!("{table}: none (the outbox table's feeds the mailer)"),
        ),
        Stream::On(_) => Finding::warning(
            Subject::Stream,
            format!("{table} still has a stream: it carries password hashes and nothing reads it"),
            format!(
                "once `lambdauth mail status` shows no pending mail from before the outbox table, aws dynamodb update-table --table-name {table} --stream-specification StreamEnabled=false"
            ),
        ),
    }
}

/// The outbox table's stream, which feeds the mailer.
fn stream_finding(table: &str, stream: &Stream) -> Finding {
    match stream {
        Stream::Off => Finding::problem(
            Subject::Stream,
            format!("{table} has no stream: the mailer never hears of new mail"),
            format!(
                "aws dynamodb update-table --table-name {table} --stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE, then sam deploy to attach the mailer"
            ),
        ),
        Stream::On(Some(view @ (StreamViewType::NewImage | StreamViewType::NewAndOldImages))) => {
            Finding::ok(
                Subject::Stream,
                format!("{table}: enabled, {}", view.as_str()),
            )
        }
        Stream::On(view) => Finding::problem(
            Subject::Stream,
            format!(
                "the stream carries {}, not the new images the mailer reads",
                view.as_ref().map_or("nothing", StreamViewType::as_str)
            ),
            format!(
                "a view type cannot change: disable the stream of {table}, enable it with NEW_IMAGE, then sam deploy"
            ),
        ),
    }
}

fn time_to_live_finding(table: &str, time_to_live: &Result<TimeToLive, String>) -> Finding {
    let enable = format!(
        "aws dynamodb update-time-to-live --table-name {table} --time-to-live-specification Enabled=true,AttributeName={TTL_ATTRIBUTE}"
    );
    let time_to_live = match time_to_live {
        Ok(time_to_live) => time_to_live,
        Err(detail) => {
            return Finding::problem(
                Subject::TimeToLive,
                format!("cannot read the TTL of {table}: {detail}"),
                "run with credentials allowed dynamodb:DescribeTimeToLive on the table",
            );
        }
    };
    match (&time_to_live.status, time_to_live.attribute.as_deref()) {
        (Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling), Some(TTL_ATTRIBUTE)) => {
            Finding::ok(Subject::TimeToLive, format!("{table}: on {TTL_ATTRIBUTE}"))
        }
        (Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling), Some(other)) => {
            Finding::problem(
                Subject::TimeToLive,
                format!("TTL is on {other}, not {TTL_ATTRIBUTE}: expired items are never deleted"),
                format!(
                    "disable TTL on {table}, then (an hour later, as DynamoDB requires) {enable}"
                ),
            )
        }
        _ => Finding::problem(
            Subject::TimeToLive,
            format!("TTL is off: expired mail and throttle items of {table} are never deleted"),
            enable,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn lambdauth_table(stream: Stream) -> TableState {
        TableState {
            keys: vec![
                (PARTITION_KEY.to_owned(), "HASH".to_owned()),
                (SORT_KEY.to_owned(), "RANGE".to_owned()),
            ],
            status: Some("ACTIVE".to_owned()),
            stream,
        }
    }

    fn enable_ttl() -> String {
        format!(
            "aws dynamodb update-time-to-live --table-name t --time-to-live-specification Enabled=true,AttributeName={TTL_ATTRIBUTE}"
        )
    }

    #[test]
    fn a_lambdauth_table_with_a_new_image_stream_is_healthy() {
        let findings = table_findings(
            "t",
            Role::Outbox,
            &Ok(Some(lambdauth_table(Stream::On(Some(
                StreamViewType::NewImage,
            ))))),
        );
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].subject, Subject::Table);
        assert_eq!(findings[0].verdict, Verdict::Ok);
        assert_eq!(
            findings[0].detail,
            format!("t: ACTIVE, keys {PARTITION_KEY}/{SORT_KEY}")
        );
        assert_eq!(findings[1].subject, Subject::Stream);
        assert_eq!(findings[1].verdict, Verdict::Ok);
        assert_eq!(findings[1].detail, "t: enabled, NEW_IMAGE");
    }

    #[test]
    fn a_table_without_a_status_still_passes_on_its_keys() {
        let mut table = lambdauth_table(Stream::On(Some(StreamViewType::NewAndOldImages)));
        table.status = None;
        let findings = table_findings("t", Role::Outbox, &Ok(Some(table)));
        assert_eq!(
            findings[0].detail,
            format!("t: of unknown status, keys {PARTITION_KEY}/{SORT_KEY}")
        );
        assert_eq!(findings[1].detail, "t: enabled, NEW_AND_OLD_IMAGES");
    }

    #[test]
    fn a_table_with_other_keys_is_not_a_lambdauth_table() {
        let table = TableState {
            keys: vec![("id".to_owned(), "HASH".to_owned())],
            status: Some("ACTIVE".to_owned()),
            stream: Stream::On(Some(StreamViewType::NewImage)),
        };
        let findings = table_findings("t", Role::Outbox, &Ok(Some(table)));
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            format!(
                "t has the keys [(\"id\", \"HASH\")], not {PARTITION_KEY} (HASH) and {SORT_KEY} (RANGE)"
            )
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some(
                "this is not a LambdAuth table: set OUTBOX_TABLE_NAME or pass --outbox-table (the stack's OutboxTableName output)"
            )
        );
        assert_eq!(findings[1].verdict, Verdict::Ok);
    }

    #[test]
    fn a_table_that_cannot_be_read_is_one_problem() {
        let missing = table_findings("t", Role::Outbox, &Err(Unread::Missing));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].verdict, Verdict::Problem);
        assert_eq!(missing[0].detail, "there is no table t");
        assert_eq!(
            missing[0].fix.as_deref(),
            Some(
                "set OUTBOX_TABLE_NAME or pass --outbox-table (the stack's OutboxTableName output), or deploy the stack"
            )
        );

        let failed = table_findings(
            "t",
            Role::Outbox,
            &Err(Unread::Failed("AccessDenied: no".to_owned())),
        );
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].detail, "cannot describe t: AccessDenied: no");
        assert_eq!(
            failed[0].fix.as_deref(),
            Some("run with credentials allowed dynamodb:DescribeTable on the table")
        );

        let empty = table_findings("t", Role::Outbox, &Ok(None));
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0].detail, "DescribeTable returned nothing for t");
        assert_eq!(
            empty[0].fix.as_deref(),
            Some("run again; if it persists, the endpoint is not DynamoDB")
        );
    }

    #[test]
    fn the_users_table_needs_no_stream_and_one_left_on_is_a_warning() {
        let findings = table_findings("u", Role::Users, &Ok(Some(lambdauth_table(Stream::Off))));
        assert_eq!(findings[1].subject, Subject::Stream);
        assert_eq!(findings[1].verdict, Verdict::Ok);
        let left_on = table_findings(
            "u",
            Role::Users,
            &Ok(Some(lambdauth_table(Stream::On(Some(
                StreamViewType::NewImage,
            ))))),
        );
        assert_eq!(left_on[1].verdict, Verdict::Warning);
        assert_eq!(
            left_on[1].detail,
            "u still has a stream: it carries password hashes and nothing reads it"
        );
        assert!(
            left_on[1].fix.as_deref().is_some_and(
                |fix| fix.contains("StreamEnabled=false") && fix.contains("mail status")
            )
        );
        let missing = table_findings("u", Role::Users, &Err(Unread::Missing));
        assert_eq!(
            missing[0].fix.as_deref(),
            Some(
                "set TABLE_NAME or pass --table (the stack's TableName output), or deploy the stack"
            )
        );
    }

    #[test]
    fn a_table_without_a_stream_never_wakes_the_mailer() {
        let finding = stream_finding("t", &Stream::Off);
        assert_eq!(finding.subject, Subject::Stream);
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(
            finding.detail,
            "t has no stream: the mailer never hears of new mail"
        );
        assert_eq!(
            finding.fix.as_deref(),
            Some(
                "aws dynamodb update-table --table-name t --stream-specification StreamEnabled=true,StreamViewType=NEW_IMAGE, then sam deploy to attach the mailer"
            )
        );
    }

    #[test]
    fn a_stream_without_new_images_is_recreated() {
        let fix = Some(
            "a view type cannot change: disable the stream of t, enable it with NEW_IMAGE, then sam deploy",
        );
        let keys_only = stream_finding("t", &Stream::On(Some(StreamViewType::KeysOnly)));
        assert_eq!(keys_only.verdict, Verdict::Problem);
        assert_eq!(
            keys_only.detail,
            "the stream carries KEYS_ONLY, not the new images the mailer reads"
        );
        assert_eq!(keys_only.fix.as_deref(), fix);
        let old_image = stream_finding("t", &Stream::On(Some(StreamViewType::OldImage)));
        assert_eq!(old_image.verdict, Verdict::Problem);
        let nothing = stream_finding("t", &Stream::On(None));
        assert_eq!(
            nothing.detail,
            "the stream carries nothing, not the new images the mailer reads"
        );
        assert_eq!(nothing.fix.as_deref(), fix);
    }

    #[test]
    fn ttl_on_the_expiry_attribute_is_healthy() {
        for status in [TimeToLiveStatus::Enabled, TimeToLiveStatus::Enabling] {
            let finding = time_to_live_finding(
                "t",
                &Ok(TimeToLive {
                    status: Some(status),
                    attribute: Some(TTL_ATTRIBUTE.to_owned()),
                }),
            );
            assert_eq!(finding.subject, Subject::TimeToLive);
            assert_eq!(finding.verdict, Verdict::Ok);
            assert_eq!(finding.detail, format!("t: on {TTL_ATTRIBUTE}"));
        }
    }

    #[test]
    fn ttl_on_another_attribute_is_moved() {
        let finding = time_to_live_finding(
            "t",
            &Ok(TimeToLive {
                status: Some(TimeToLiveStatus::Enabled),
                attribute: Some("other".to_owned()),
            }),
        );
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(
            finding.detail,
            format!("TTL is on other, not {TTL_ATTRIBUTE}: expired items are never deleted")
        );
        assert_eq!(
            finding.fix,
            Some(format!(
                "disable TTL on t, then (an hour later, as DynamoDB requires) {}",
                enable_ttl()
            ))
        );
    }

    #[test]
    fn ttl_that_is_off_is_enabled() {
        for time_to_live in [
            TimeToLive {
                status: Some(TimeToLiveStatus::Disabled),
                attribute: None,
            },
            TimeToLive {
                status: Some(TimeToLiveStatus::Disabling),
                attribute: Some(TTL_ATTRIBUTE.to_owned()),
            },
            TimeToLive {
                status: None,
                attribute: None,
            },
        ] {
            let finding = time_to_live_finding("t", &Ok(time_to_live));
            assert_eq!(finding.verdict, Verdict::Problem);
            assert_eq!(
                finding.detail,
                "TTL is off: expired mail and throttle items of t are never deleted"
            );
            assert_eq!(finding.fix, Some(enable_ttl()));
        }
    }

    #[test]
    fn ttl_that_cannot_be_read_asks_for_the_permission() {
        let finding = time_to_live_finding("t", &Err("AccessDenied: no".to_owned()));
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(finding.detail, "cannot read the TTL of t: AccessDenied: no");
        assert_eq!(
            finding.fix.as_deref(),
            Some("run with credentials allowed dynamodb:DescribeTimeToLive on the table")
        );
    }
}
