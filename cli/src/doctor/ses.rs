//! The SES account (sending, sandbox, quota), the sender's identity, and the configuration set
//! the mailer sends through with its feedback destination: reading them from SES, and the
//! findings on what was read.

use super::{Finding, Subject, describe, not_implemented};

/// What SES says of the account.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Account {
    pub(super) sending_enabled: bool,
    pub(super) production_access: bool,
    /// The 24-hour quota: (sent, max).
    pub(super) quota: Option<(f64, f64)>,
}

/// How the account read went.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum AccountAnswer {
    Read(Account),
    /// The endpoint lacks SES v2 `GetAccount` (an emulator).
    Unsupported,
    /// Any other error, described.
    Failed(String),
}

/// Checks the account: reads it, then judges it.
pub(super) async fn account(ses: &aws_sdk_sesv2::Client) -> Vec<Finding> {
    account_answer_findings(&fetch_account(ses).await)
}

pub(super) async fn fetch_account(ses: &aws_sdk_sesv2::Client) -> AccountAnswer {
    match ses.get_account().send().await {
        Ok(account) => AccountAnswer::Read(Account {
            sending_enabled: account.sending_enabled(),
            production_access: account.production_access_enabled(),
            quota: account
                .send_quota()
                .map(|quota| (quota.sent_last24_hours(), quota.max24_hour_send())),
        }),
        Err(error) if not_implemented(&error) => AccountAnswer::Unsupported,
        Err(error) => AccountAnswer::Failed(describe(&error)),
    }
}

fn account_answer_findings(answer: &AccountAnswer) -> Vec<Finding> {
    match answer {
        AccountAnswer::Read(account) => account_findings(
            account.sending_enabled,
            account.production_access,
            account.quota,
        ),
        AccountAnswer::Unsupported => vec![Finding::unknown(
            Subject::SesAccount,
            "unknown on this endpoint (it does not implement SES v2 GetAccount)",
        )],
        AccountAnswer::Failed(detail) => vec![Finding::problem(
            Subject::SesAccount,
            format!("cannot read the account: {detail}"),
            "run with credentials allowed ses:GetAccount in this region",
        )],
    }
}

/// The findings on an SES account: sending paused, the sandbox, the 24-hour quota (sent, max).
pub fn account_findings(
    sending_enabled: bool,
    production_access: bool,
    quota: Option<(f64, f64)>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !sending_enabled {
        findings.push(Finding::problem(
            Subject::SesAccount,
            "sending is paused for the account: every mail is parked in the dead-letter queue",
            "resolve the cause on the SES console's reputation page, then: aws sesv2 put-account-sending-attributes --sending-enabled",
        ));
    }
    if !production_access {
        findings.push(Finding::warning(
            Subject::SesAccount,
            "in the SES sandbox: mail reaches only verified addresses, 200 a day",
            "request production access: aws sesv2 put-account-details (or the SES console's \"Get set up\" page)",
        ));
    }
    match quota {
        Some((sent, max)) if max >= 0.0 && sent >= max => findings.push(Finding::problem(
            Subject::SesAccount,
            format!("the 24-hour quota is used up ({sent:.0} of {max:.0} sent)"),
            "wait for the 24-hour window to move on, or ask for a higher quota in the SES console",
        )),
        Some((sent, max)) if findings.is_empty() => findings.push(Finding::ok(
            Subject::SesAccount,
            if max < 0.0 {
                "sending enabled, production access, no 24-hour quota".to_owned()
            } else {
                format!(
                    "sending enabled, production access, {:.0} of {max:.0} mails left for the next 24 hours",
                    max - sent
                )
            },
        )),
        _ if findings.is_empty() => findings.push(Finding::ok(
            Subject::SesAccount,
            "sending enabled, production access",
        )),
        _ => {}
    }
    findings
}

/// What SES says about one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityState {
    /// The identity (the address, or its domain).
    pub identity: String,
    /// `VerificationStatus` (`SUCCESS`, `PENDING`, …), when given.
    pub verification_status: Option<String>,
    /// `VerifiedForSendingStatus`.
    pub verified_for_sending: bool,
}

/// An identity SES would not describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IdentityError {
    pub(super) identity: String,
    pub(super) detail: String,
}

/// Checks the sender: reads its identity, then judges it.
pub(super) async fn sender(ses: &aws_sdk_sesv2::Client, address: Option<&str>) -> Finding {
    let Some(address) = address else {
        return sender_not_set();
    };
    match fetch_sender_identity(ses, address).await {
        Ok(identity) => sender_finding(address, identity.as_ref()),
        Err(error) => identity_error_finding(&error),
    }
}

/// The identity that lets `address` send: the address itself if verified, else its domain;
/// when neither is verified, the last one SES knows (`None`: SES knows neither).
pub(super) async fn fetch_sender_identity(
    ses: &aws_sdk_sesv2::Client,
    address: &str,
) -> Result<Option<IdentityState>, IdentityError> {
    let domain = address.rsplit_once('@').map(|(_, domain)| domain);
    let mut found = None;
    for identity in std::iter::once(address).chain(domain) {
        match ses.get_email_identity().email_identity(identity).send().await {
            Ok(output) => {
                let state = IdentityState {
                    identity: identity.to_owned(),
                    verification_status: output
                        .verification_status()
                        .map(|status| status.as_str().to_owned()),
                    verified_for_sending: output.verified_for_sending_status(),
                };
                let verified = is_verified(&state);
                found = Some(state);
                if verified {
                    break;
                }
            }
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(aws_sdk_sesv2::operation::get_email_identity::GetEmailIdentityError::is_not_found_exception) => {}
            Err(error) => {
                return Err(IdentityError {
                    identity: identity.to_owned(),
                    detail: describe(&error),
                });
            }
        }
    }
    Ok(found)
}

fn sender_not_set() -> Finding {
    Finding::not_set(
        Subject::Sender,
        "FROM_ADDRESS",
        "from-address",
        "FromAddress",
    )
}

fn identity_error_finding(error: &IdentityError) -> Finding {
    Finding::problem(
        Subject::Sender,
        format!(
            "cannot read the identity {}: {}",
            error.identity, error.detail
        ),
        "run with credentials allowed ses:GetEmailIdentity in this region",
    )
}

fn is_verified(identity: &IdentityState) -> bool {
    // SES reports both; `VerificationStatus` is the newer, precise one (PENDING, SUCCESS,
    // FAILED, …), and identities from before it only have the flag.
    match identity.verification_status.as_deref() {
        Some(status) => status == "SUCCESS",
        None => identity.verified_for_sending,
    }
}

/// The finding on the sender `address`, given what SES says of its identity (`None`: neither
/// the address nor its domain is an identity).
pub fn sender_finding(address: &str, identity: Option<&IdentityState>) -> Finding {
    let Some(identity) = identity else {
        return Finding::problem(
            Subject::Sender,
            format!(
                "{address} is not an SES identity, nor is its domain: SES refuses to send from it"
            ),
            format!(
                "aws sesv2 create-email-identity --email-identity {address}, then open the link SES mails to it"
            ),
        );
    };
    if is_verified(identity) {
        return Finding::ok(
            Subject::Sender,
            format!(
                "{address} may send (identity {} verified)",
                identity.identity
            ),
        );
    }
    let status = identity
        .verification_status
        .as_deref()
        .unwrap_or("not verified");
    let fix = if identity.identity.contains('@') {
        format!(
            "open the verification link SES mailed to {address} (to get a new one, delete and create the identity again)"
        )
    } else {
        format!(
            "publish the DNS records the SES console shows for {}",
            identity.identity
        )
    };
    Finding::problem(
        Subject::Sender,
        format!(
            "the identity {} is {status}: SES refuses to send from {address}",
            identity.identity
        ),
        fix,
    )
}

/// The event types the feedback path needs, as SES v2 names them.
pub const FEEDBACK_EVENT_TYPES: [&str; 4] = ["BOUNCE", "COMPLAINT", "REJECT", "DELIVERY"];

/// One event destination of the configuration set, as SES describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDestination {
    /// Its name.
    pub name: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// The SNS topic it publishes to, when it is an SNS destination.
    pub sns_topic: Option<String>,
    /// The event types it publishes (`BOUNCE`, `DELIVERY`, …).
    pub event_types: Vec<String>,
}

/// How the read of the event destinations went.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum DestinationsAnswer {
    Read(Vec<EventDestination>),
    /// The endpoint lacks SES v2 `GetConfigurationSetEventDestinations` (an emulator).
    Unsupported,
    /// Any other error, described.
    Failed(String),
}

/// Checks the configuration set the mailer sends through, and that SES publishes its feedback
/// (bounces, complaints, rejections, deliveries) to SNS, where the feedback function reads it.
pub(super) async fn configuration_set(
    ses: &aws_sdk_sesv2::Client,
    name: Option<&str>,
) -> Vec<Finding> {
    let Some(name) = name else {
        return vec![Finding::not_set(
            Subject::ConfigurationSet,
            "SES_CONFIGURATION_SET",
            "configuration-set",
            "MailConfigurationSet",
        )];
    };
    match configuration_set_listed(ses, name).await {
        Ok(true) => {}
        Ok(false) => {
            return vec![Finding::problem(
                Subject::ConfigurationSet,
                format!(
                    "the configuration set {name} does not exist: SES refuses every mail sent through it"
                ),
                "deploy the stack (it makes MailConfigurationSet) and set SES_CONFIGURATION_SET to its name",
            )];
        }
        Err(detail) => {
            return vec![Finding::problem(
                Subject::ConfigurationSet,
                format!("cannot list the configuration sets: {detail}"),
                "run with credentials allowed ses:ListConfigurationSets in this region",
            )];
        }
    }
    let answer = match ses
        .get_configuration_set_event_destinations()
        .configuration_set_name(name)
        .send()
        .await
    {
        Ok(output) => DestinationsAnswer::Read(
            output
                .event_destinations()
                .iter()
                .map(|destination| EventDestination {
                    name: destination.name().to_owned(),
                    enabled: destination.enabled(),
                    sns_topic: destination
                        .sns_destination()
                        .map(|sns| sns.topic_arn().to_owned()),
                    event_types: destination
                        .matching_event_types()
                        .iter()
                        .map(|kind| kind.as_str().to_owned())
                        .collect(),
                })
                .collect(),
        ),
        Err(error) if not_implemented(&error) => DestinationsAnswer::Unsupported,
        Err(error) => DestinationsAnswer::Failed(describe(&error)),
    };
    vec![
        Finding::ok(
            Subject::ConfigurationSet,
            format!("{name} exists; the mailer sends through it"),
        ),
        destinations_finding(name, &answer),
    ]
}

/// Whether SES lists a configuration set named `name`: provisioning's own check.
async fn configuration_set_listed(ses: &aws_sdk_sesv2::Client, name: &str) -> Result<bool, String> {
    lambdauth_local::provision::configuration_set_exists(ses, name)
        .await
        .map_err(|failure| failure.to_string())
}

/// The finding on the event destinations of the configuration set `name`.
pub(super) fn destinations_finding(name: &str, answer: &DestinationsAnswer) -> Finding {
    let destinations = match answer {
        DestinationsAnswer::Read(destinations) => destinations,
        DestinationsAnswer::Unsupported => {
            return Finding::unknown(
                Subject::FeedbackDestination,
                "unknown on this endpoint (it does not implement SES v2 GetConfigurationSetEventDestinations)",
            );
        }
        DestinationsAnswer::Failed(detail) => {
            return Finding::problem(
                Subject::FeedbackDestination,
                format!("cannot read the event destinations of {name}: {detail}"),
                "run with credentials allowed ses:GetConfigurationSetEventDestinations in this region",
            );
        }
    };
    let to_sns: Vec<&EventDestination> = destinations
        .iter()
        .filter(|destination| destination.enabled && destination.sns_topic.is_some())
        .collect();
    let missing: Vec<&str> = FEEDBACK_EVENT_TYPES
        .into_iter()
        .filter(|kind| {
            !to_sns
                .iter()
                .any(|destination| destination.event_types.iter().any(|t| t == kind))
        })
        .collect();
    if missing.is_empty() {
        let topics: Vec<&str> = to_sns
            .iter()
            .filter_map(|destination| destination.sns_topic.as_deref())
            .collect();
        return Finding::ok(
            Subject::FeedbackDestination,
            format!(
                "{name} publishes bounces, complaints, rejections and deliveries to {}",
                topics.join(", ")
            ),
        );
    }
    Finding::problem(
        Subject::FeedbackDestination,
        format!(
            "{name} publishes no {} to an SNS topic: bouncing and complaining addresses are never suppressed",
            missing.join(", ")
        ),
        "deploy the stack: its MailFeedbackEvents destination sends them to the feedback function's topic",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn identity(status: Option<&str>, flag: bool) -> IdentityState {
        IdentityState {
            identity: "no-reply@example.com".to_owned(),
            verification_status: status.map(str::to_owned),
            verified_for_sending: flag,
        }
    }

    #[test]
    fn a_sender_is_verified_by_its_verification_status() {
        let address = "no-reply@example.com";
        assert_eq!(
            sender_finding(address, Some(&identity(Some("SUCCESS"), true))).verdict,
            Verdict::Ok
        );
        let pending = sender_finding(address, Some(&identity(Some("PENDING"), false)));
        assert_eq!(pending.verdict, Verdict::Problem);
        assert!(pending.detail.contains("PENDING"), "{pending:?}");
        assert!(pending.fix.unwrap().contains("verification link"));
        assert_eq!(
            sender_finding(address, Some(&identity(None, true))).verdict,
            Verdict::Ok
        );
        assert_eq!(
            sender_finding(address, Some(&identity(None, false))).verdict,
            Verdict::Problem
        );
        let missing = sender_finding(address, None);
        assert_eq!(missing.verdict, Verdict::Problem);
        assert!(missing.fix.unwrap().contains("create-email-identity"));
    }

    #[test]
    fn the_status_wins_over_the_older_flag() {
        assert!(!is_verified(&identity(Some("FAILED"), true)));
        assert!(is_verified(&identity(Some("SUCCESS"), false)));
        assert!(is_verified(&identity(None, true)));
        assert!(!is_verified(&identity(None, false)));
    }

    #[test]
    fn a_verified_sender_names_its_identity() {
        let finding = sender_finding(
            "no-reply@example.com",
            Some(&identity(Some("SUCCESS"), true)),
        );
        assert_eq!(finding.subject, Subject::Sender);
        assert_eq!(
            finding.detail,
            "no-reply@example.com may send (identity no-reply@example.com verified)"
        );
        assert_eq!(finding.fix, None);
    }

    #[test]
    fn an_unknown_sender_is_created_as_an_identity() {
        let finding = sender_finding("no-reply@example.com", None);
        assert_eq!(
            finding.detail,
            "no-reply@example.com is not an SES identity, nor is its domain: SES refuses to send from it"
        );
        assert_eq!(
            finding.fix.as_deref(),
            Some(
                "aws sesv2 create-email-identity --email-identity no-reply@example.com, then open the link SES mails to it"
            )
        );
    }

    #[test]
    fn an_address_without_a_status_is_reported_not_verified() {
        let finding = sender_finding("no-reply@example.com", Some(&identity(None, false)));
        assert_eq!(
            finding.detail,
            "the identity no-reply@example.com is not verified: SES refuses to send from no-reply@example.com"
        );
        assert_eq!(
            finding.fix.as_deref(),
            Some(
                "open the verification link SES mailed to no-reply@example.com (to get a new one, delete and create the identity again)"
            )
        );
    }

    #[test]
    fn a_pending_domain_is_fixed_in_dns() {
        let domain = IdentityState {
            identity: "example.com".to_owned(),
            verification_status: Some("PENDING".to_owned()),
            verified_for_sending: false,
        };
        let finding = sender_finding("no-reply@example.com", Some(&domain));
        assert_eq!(finding.verdict, Verdict::Problem);
        assert!(finding.fix.unwrap().contains("DNS"));
        let finding = sender_finding("no-reply@example.com", Some(&domain));
        assert_eq!(
            finding.detail,
            "the identity example.com is PENDING: SES refuses to send from no-reply@example.com"
        );
        assert_eq!(
            finding.fix.as_deref(),
            Some("publish the DNS records the SES console shows for example.com")
        );
    }

    #[test]
    fn an_unset_sender_names_its_variable() {
        let finding = sender_not_set();
        assert_eq!(finding.subject, Subject::Sender);
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(finding.detail, "FROM_ADDRESS is not set");
        assert_eq!(
            finding.fix.as_deref(),
            Some("set FROM_ADDRESS or pass --from-address (the stack's FromAddress output)")
        );
    }

    #[test]
    fn an_unreadable_identity_asks_for_the_permission() {
        let finding = identity_error_finding(&IdentityError {
            identity: "example.com".to_owned(),
            detail: "AccessDenied: no".to_owned(),
        });
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(
            finding.detail,
            "cannot read the identity example.com: AccessDenied: no"
        );
        assert_eq!(
            finding.fix.as_deref(),
            Some("run with credentials allowed ses:GetEmailIdentity in this region")
        );
    }

    #[test]
    fn the_account_is_judged_on_sending_the_sandbox_and_the_quota() {
        let healthy = account_findings(true, true, Some((10.0, 50_000.0)));
        assert_eq!(healthy.len(), 1);
        assert_eq!(healthy[0].verdict, Verdict::Ok);
        assert!(healthy[0].detail.contains("49990 of 50000"), "{healthy:?}");

        let sandbox = account_findings(true, false, Some((0.0, 200.0)));
        assert_eq!(sandbox.len(), 1);
        assert_eq!(sandbox[0].verdict, Verdict::Warning);

        let paused = account_findings(false, true, Some((0.0, 200.0)));
        assert_eq!(paused[0].verdict, Verdict::Problem);

        let used_up = account_findings(true, true, Some((200.0, 200.0)));
        assert_eq!(used_up[0].verdict, Verdict::Problem);

        let unlimited = account_findings(true, true, Some((5.0, -1.0)));
        assert_eq!(unlimited[0].verdict, Verdict::Ok);
    }

    #[test]
    fn each_account_problem_carries_its_fix() {
        let paused = account_findings(false, true, None);
        assert_eq!(paused.len(), 1);
        assert_eq!(
            paused[0].detail,
            "sending is paused for the account: every mail is parked in the dead-letter queue"
        );
        assert_eq!(
            paused[0].fix.as_deref(),
            Some(
                "resolve the cause on the SES console's reputation page, then: aws sesv2 put-account-sending-attributes --sending-enabled"
            )
        );

        let sandbox = account_findings(true, false, None);
        assert_eq!(
            sandbox[0].detail,
            "in the SES sandbox: mail reaches only verified addresses, 200 a day"
        );
        assert_eq!(
            sandbox[0].fix.as_deref(),
            Some(
                "request production access: aws sesv2 put-account-details (or the SES console's \"Get set up\" page)"
            )
        );

        let used_up = account_findings(true, true, Some((200.0, 200.0)));
        assert_eq!(used_up.len(), 1);
        assert_eq!(
            used_up[0].detail,
            "the 24-hour quota is used up (200 of 200 sent)"
        );
        assert_eq!(
            used_up[0].fix.as_deref(),
            Some(
                "wait for the 24-hour window to move on, or ask for a higher quota in the SES console"
            )
        );
    }

    #[test]
    fn every_account_problem_is_reported_at_once() {
        let all = account_findings(false, false, Some((200.0, 200.0)));
        let verdicts: Vec<Verdict> = all.iter().map(|finding| finding.verdict).collect();
        assert_eq!(
            verdicts,
            [Verdict::Problem, Verdict::Warning, Verdict::Problem]
        );
    }

    #[test]
    fn a_healthy_account_says_what_is_left() {
        let left = account_findings(true, true, Some((10.0, 200.0)));
        assert_eq!(
            left[0].detail,
            "sending enabled, production access, 190 of 200 mails left for the next 24 hours"
        );
        assert_eq!(left[0].fix, None);
        let unlimited = account_findings(true, true, Some((5.0, -1.0)));
        assert_eq!(
            unlimited[0].detail,
            "sending enabled, production access, no 24-hour quota"
        );
        let no_quota = account_findings(true, true, None);
        assert_eq!(no_quota.len(), 1);
        assert_eq!(no_quota[0].verdict, Verdict::Ok);
        assert_eq!(no_quota[0].detail, "sending enabled, production access");
    }

    #[test]
    fn an_account_the_endpoint_cannot_read_is_unknown_or_a_problem() {
        let read = account_answer_findings(&AccountAnswer::Read(Account {
            sending_enabled: true,
            production_access: true,
            quota: None,
        }));
        assert_eq!(read, account_findings(true, true, None));

        let unsupported = account_answer_findings(&AccountAnswer::Unsupported);
        assert_eq!(unsupported.len(), 1);
        assert_eq!(unsupported[0].verdict, Verdict::Unknown);
        assert_eq!(
            unsupported[0].detail,
            "unknown on this endpoint (it does not implement SES v2 GetAccount)"
        );
        assert_eq!(unsupported[0].fix, None);

        let failed = account_answer_findings(&AccountAnswer::Failed("AccessDenied: no".to_owned()));
        assert_eq!(failed[0].verdict, Verdict::Problem);
        assert_eq!(
            failed[0].detail,
            "cannot read the account: AccessDenied: no"
        );
        assert_eq!(
            failed[0].fix.as_deref(),
            Some("run with credentials allowed ses:GetAccount in this region")
        );
    }

    fn destination(enabled: bool, topic: Option<&str>, types: &[&str]) -> EventDestination {
        EventDestination {
            name: "feedback".to_owned(),
            enabled,
            sns_topic: topic.map(str::to_owned),
            event_types: types.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    #[test]
    fn a_feedback_destination_must_send_the_four_event_types_to_sns() {
        let arn = "arn:aws:sns:us-east-1:123456789012:feedback";
        let topic = Some(arn);
        let all = destination(
            true,
            topic,
            &["BOUNCE", "COMPLAINT", "REJECT", "DELIVERY", "SEND"],
        );
        let ok = destinations_finding("set", &DestinationsAnswer::Read(vec![all.clone()]));
        assert_eq!(ok.verdict, Verdict::Ok, "{ok:?}");
        assert!(ok.detail.contains(arn), "{ok:?}");

        let partial = destinations_finding(
            "set",
            &DestinationsAnswer::Read(vec![destination(true, topic, &["BOUNCE", "DELIVERY"])]),
        );
        assert_eq!(partial.verdict, Verdict::Problem);
        assert!(partial.detail.contains("COMPLAINT, REJECT"), "{partial:?}");

        let disabled = destinations_finding(
            "set",
            &DestinationsAnswer::Read(vec![EventDestination {
                enabled: false,
                ..all.clone()
            }]),
        );
        assert_eq!(disabled.verdict, Verdict::Problem);
        let not_sns = destinations_finding(
            "set",
            &DestinationsAnswer::Read(vec![EventDestination {
                sns_topic: None,
                ..all
            }]),
        );
        assert_eq!(not_sns.verdict, Verdict::Problem);
        assert_eq!(
            destinations_finding("set", &DestinationsAnswer::Read(vec![])).verdict,
            Verdict::Problem
        );
    }

    #[test]
    fn an_endpoint_without_event_destinations_is_unknown_not_a_failure() {
        let finding = destinations_finding("set", &DestinationsAnswer::Unsupported);
        assert_eq!(finding.verdict, Verdict::Unknown);
        assert!(finding.detail.contains("unknown on this endpoint"));
        let failed = destinations_finding("set", &DestinationsAnswer::Failed("denied".to_owned()));
        assert_eq!(failed.verdict, Verdict::Problem);
    }
}
