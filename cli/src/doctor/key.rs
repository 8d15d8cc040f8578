//! The link-token key: reading its state and aliases from KMS, and the findings on them.

use aws_sdk_kms::types::KeyState;

use super::{Finding, Subject, Unread, describe};

/// What KMS says of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KeyFacts {
    /// The key's id, whatever it was named by (alias, ARN or id).
    pub(super) id: String,
    pub(super) state: Option<KeyState>,
    /// Its aliases, or why they could not be listed.
    pub(super) aliases: Result<Vec<String>, String>,
}

/// Checks the key `key_id`.
pub(super) async fn check(kms: &aws_sdk_kms::Client, key_id: Option<&str>) -> Vec<Finding> {
    let Some(key_id) = key_id else {
        return vec![not_set()];
    };
    key_findings(key_id, &fetch_key(kms, key_id).await)
}

/// The key `key_id` and its aliases (`None`: `DescribeKey` answered without metadata).
pub(super) async fn fetch_key(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> Result<Option<KeyFacts>, Unread> {
    let metadata = match kms.describe_key().key_id(key_id).send().await {
        Ok(output) => output.key_metadata,
        Err(error)
            if error.as_service_error().is_some_and(
                aws_sdk_kms::operation::describe_key::DescribeKeyError::is_not_found_exception,
            ) =>
        {
            return Err(Unread::Missing);
        }
        Err(error) => return Err(Unread::Failed(describe(&error))),
    };
    let Some(metadata) = metadata else {
        return Ok(None);
    };
    let id = metadata.key_id().to_owned();
    let aliases = match kms.list_aliases().key_id(&id).send().await {
        Ok(output) => Ok(output
            .aliases()
            .iter()
            .filter_map(|alias| alias.alias_name().map(str::to_owned))
            .collect()),
        Err(error) => Err(describe(&error)),
    };
    Ok(Some(KeyFacts {
        id,
        state: metadata.key_state().cloned(),
        aliases,
    }))
}

fn not_set() -> Finding {
    Finding::not_set(Subject::Key, "KMS_KEY_ID", "kms-key-id", "KmsKeyId")
}

fn key_findings(key_id: &str, fetched: &Result<Option<KeyFacts>, Unread>) -> Vec<Finding> {
    let subject = Subject::Key;
    let key = match fetched {
        Ok(Some(key)) => key,
        Ok(None) => {
            return vec![Finding::problem(
                subject,
                format!("DescribeKey returned nothing for {key_id}"),
                "run again; if it persists, the endpoint is not KMS",
            )];
        }
        Err(Unread::Missing) => {
            return vec![Finding::problem(
                subject,
                format!("there is no key {key_id}: no verification or reset mail can be written"),
                "set KMS_KEY_ID to the stack's KmsKeyId output, or deploy the stack",
            )];
        }
        Err(Unread::Failed(detail)) => {
            return vec![Finding::problem(
                subject,
                format!("cannot describe {key_id}: {detail}"),
                "run with credentials allowed kms:DescribeKey on the key",
            )];
        }
    };
    let id = &key.id;
    let mut findings = Vec::new();
    match &key.state {
        Some(KeyState::Enabled) => {}
        Some(KeyState::Disabled) => findings.push(Finding::problem(
            subject,
            format!("{id} is disabled: link tokens can be neither written nor read"),
            format!("aws kms enable-key --key-id {id}"),
        )),
        Some(KeyState::PendingDeletion) => findings.push(Finding::problem(
            subject,
            format!("{id} is scheduled for deletion: link tokens can be neither written nor read"),
            format!(
                "aws kms cancel-key-deletion --key-id {id} && aws kms enable-key --key-id {id}"
            ),
        )),
        state => findings.push(Finding::problem(
            subject,
            format!(
                "{id} is {}, not enabled",
                state
                    .as_ref()
                    .map_or("in an unknown state", KeyState::as_str)
            ),
            "use an enabled key: set KMS_KEY_ID to the stack's KmsKeyId output",
        )),
    }
    let aliases = match &key.aliases {
        Ok(aliases) => aliases,
        Err(detail) => {
            findings.push(Finding::problem(
                subject,
                format!("cannot list the aliases of {id}: {detail}"),
                "run with credentials allowed kms:ListAliases",
            ));
            return findings;
        }
    };
    if aliases.is_empty() {
        findings.push(Finding::warning(
            subject,
            format!("{id} has no alias: operators cannot tell what it is for"),
            format!(
                "aws kms create-alias --alias-name alias/lambdauth-link-tokens --target-key-id {id}"
            ),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("{id}: enabled, {}", aliases.join(", ")),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    fn key(state: Option<KeyState>, aliases: Result<Vec<String>, String>) -> KeyFacts {
        KeyFacts {
            id: "k1".to_owned(),
            state,
            aliases,
        }
    }

    fn named() -> Vec<String> {
        vec!["alias/lambdauth-link-tokens".to_owned()]
    }

    #[test]
    fn an_enabled_key_with_an_alias_is_healthy() {
        let findings = key_findings(
            "alias/x",
            &Ok(Some(key(Some(KeyState::Enabled), Ok(named())))),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].subject, Subject::Key);
        assert_eq!(findings[0].verdict, Verdict::Ok);
        assert_eq!(
            findings[0].detail,
            "k1: enabled, alias/lambdauth-link-tokens"
        );
        assert_eq!(findings[0].fix, None);
    }

    #[test]
    fn an_unset_key_names_its_variable() {
        let finding = not_set();
        assert_eq!(finding.subject, Subject::Key);
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(finding.detail, "KMS_KEY_ID is not set");
        assert_eq!(
            finding.fix.as_deref(),
            Some("set KMS_KEY_ID or pass --kms-key-id (the stack's KmsKeyId output)")
        );
    }

    #[test]
    fn a_key_that_cannot_be_described_is_one_problem() {
        let missing = key_findings("k1", &Err(Unread::Missing));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].verdict, Verdict::Problem);
        assert_eq!(
            missing[0].detail,
            "there is no key k1: no verification or reset mail can be written"
        );
        assert_eq!(
            missing[0].fix.as_deref(),
            Some("set KMS_KEY_ID to the stack's KmsKeyId output, or deploy the stack")
        );

        let failed = key_findings("k1", &Err(Unread::Failed("AccessDenied: no".to_owned())));
        assert_eq!(failed[0].detail, "cannot describe k1: AccessDenied: no");
        assert_eq!(
            failed[0].fix.as_deref(),
            Some("run with credentials allowed kms:DescribeKey on the key")
        );

        let empty = key_findings("k1", &Ok(None));
        assert_eq!(empty[0].detail, "DescribeKey returned nothing for k1");
        assert_eq!(
            empty[0].fix.as_deref(),
            Some("run again; if it persists, the endpoint is not KMS")
        );
    }

    #[test]
    fn a_disabled_key_is_enabled() {
        let findings = key_findings("k1", &Ok(Some(key(Some(KeyState::Disabled), Ok(named())))));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            "k1 is disabled: link tokens can be neither written nor read"
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some("aws kms enable-key --key-id k1")
        );
    }

    #[test]
    fn a_key_pending_deletion_is_kept_and_enabled() {
        let findings = key_findings(
            "k1",
            &Ok(Some(key(Some(KeyState::PendingDeletion), Ok(named())))),
        );
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            "k1 is scheduled for deletion: link tokens can be neither written nor read"
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some("aws kms cancel-key-deletion --key-id k1 && aws kms enable-key --key-id k1")
        );
    }

    #[test]
    fn a_key_in_another_state_is_replaced() {
        let fix = Some("use an enabled key: set KMS_KEY_ID to the stack's KmsKeyId output");
        let pending = key_findings(
            "k1",
            &Ok(Some(key(Some(KeyState::PendingImport), Ok(named())))),
        );
        assert_eq!(pending[0].verdict, Verdict::Problem);
        assert_eq!(pending[0].detail, "k1 is PendingImport, not enabled");
        assert_eq!(pending[0].fix.as_deref(), fix);
        let unknown = key_findings("k1", &Ok(Some(key(None, Ok(named())))));
        assert_eq!(unknown[0].detail, "k1 is in an unknown state, not enabled");
        assert_eq!(unknown[0].fix.as_deref(), fix);
    }

    #[test]
    fn a_key_without_an_alias_is_a_warning() {
        let findings = key_findings("k1", &Ok(Some(key(Some(KeyState::Enabled), Ok(vec![])))));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Warning);
        assert_eq!(
            findings[0].detail,
            "k1 has no alias: operators cannot tell what it is for"
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some(
                "aws kms create-alias --alias-name alias/lambdauth-link-tokens --target-key-id k1"
            )
        );
    }

    #[test]
    fn aliases_that_cannot_be_listed_are_a_problem_after_the_state() {
        let denied = Err("AccessDenied: no".to_owned());
        let enabled = key_findings(
            "k1",
            &Ok(Some(key(Some(KeyState::Enabled), denied.clone()))),
        );
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].verdict, Verdict::Problem);
        assert_eq!(
            enabled[0].detail,
            "cannot list the aliases of k1: AccessDenied: no"
        );
        assert_eq!(
            enabled[0].fix.as_deref(),
            Some("run with credentials allowed kms:ListAliases")
        );
        let disabled = key_findings("k1", &Ok(Some(key(Some(KeyState::Disabled), denied))));
        assert_eq!(disabled.len(), 2);
        assert!(disabled[0].detail.contains("is disabled"), "{disabled:?}");
        assert!(disabled[1].detail.starts_with("cannot list the aliases"));
    }
}
