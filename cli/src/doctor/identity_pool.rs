//! The Cognito identity pool: reading it, and the findings on its developer provider and on
//! whether it hands out identities without a login.

use super::{Finding, Subject, Unread, describe};

/// What Cognito says of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pool {
    pub(super) name: String,
    pub(super) developer_provider: Option<String>,
    pub(super) allow_unauthenticated: bool,
}

/// Checks the pool `pool_id` against the developer provider the functions use.
pub(super) async fn check(
    cognito: &aws_sdk_cognitoidentity::Client,
    pool_id: Option<&str>,
    provider: &str,
) -> Vec<Finding> {
    let Some(pool_id) = pool_id else {
        return vec![not_set()];
    };
    pool_findings(pool_id, provider, &fetch_pool(cognito, pool_id).await)
}

pub(super) async fn fetch_pool(
    cognito: &aws_sdk_cognitoidentity::Client,
    pool_id: &str,
) -> Result<Pool, Unread> {
    match cognito
        .describe_identity_pool()
        .identity_pool_id(pool_id)
        .send()
        .await
    {
        Ok(pool) => Ok(Pool {
            name: pool.identity_pool_name().to_owned(),
            developer_provider: pool.developer_provider_name().map(str::to_owned),
            allow_unauthenticated: pool.allow_unauthenticated_identities(),
        }),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(aws_sdk_cognitoidentity::operation::describe_identity_pool::DescribeIdentityPoolError::is_resource_not_found_exception) =>
        {
            Err(Unread::Missing)
        }
        Err(error) => Err(Unread::Failed(describe(&error))),
    }
}

fn not_set() -> Finding {
    Finding::not_set(
        Subject::IdentityPool,
        "IDENTITY_POOL_ID",
        "identity-pool-id",
        "IdentityPoolId",
    )
}

fn pool_findings(pool_id: &str, provider: &str, fetched: &Result<Pool, Unread>) -> Vec<Finding> {
    let subject = Subject::IdentityPool;
    let pool = match fetched {
        Ok(pool) => pool,
        Err(Unread::Missing) => {
            return vec![Finding::problem(
                subject,
                format!("there is no identity pool {pool_id}: no login can succeed"),
                "set IDENTITY_POOL_ID to the stack's IdentityPoolId output, or deploy the stack",
            )];
        }
        Err(Unread::Failed(detail)) => {
            return vec![Finding::problem(
                subject,
                format!("cannot describe {pool_id}: {detail}"),
                "run with credentials allowed cognito-identity:DescribeIdentityPool on the pool",
            )];
        }
    };
    let mut findings = Vec::new();
    match pool.developer_provider.as_deref() {
        Some(name) if name == provider => {}
        Some(name) => findings.push(Finding::problem(
            subject,
            format!("the pool's developer provider is {name}, the functions use {provider}: every login fails"),
            format!("set DEVELOPER_PROVIDER_NAME={name} on the login function (a pool's provider cannot change once set)"),
        )),
        None => findings.push(Finding::problem(
            subject,
            format!("the pool has no developer provider: logins as {provider} fail"),
            format!(
                "aws cognito-identity update-identity-pool --identity-pool-id {pool_id} --identity-pool-name '{}' --no-allow-unauthenticated-identities --developer-provider-name {provider}",
                pool.name
            ),
        )),
    }
    if pool.allow_unauthenticated {
        findings.push(Finding::warning(
            subject,
            "the pool hands out identities to anyone, logged in or not",
            format!(
                "aws cognito-identity update-identity-pool --identity-pool-id {pool_id} --identity-pool-name '{}' --no-allow-unauthenticated-identities --developer-provider-name {provider}",
                pool.name
            ),
        ));
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            subject,
            format!("{pool_id}: developer provider {provider}"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Verdict;

    const POOL_ID: &str = "eu-west-1:pool";
    const PROVIDER: &str = "login.lambdauth";

    fn pool(provider: Option<&str>, allow_unauthenticated: bool) -> Pool {
        Pool {
            name: "users".to_owned(),
            developer_provider: provider.map(str::to_owned),
            allow_unauthenticated,
        }
    }

    fn update() -> String {
        format!(
            "aws cognito-identity update-identity-pool --identity-pool-id {POOL_ID} --identity-pool-name 'users' --no-allow-unauthenticated-identities --developer-provider-name {PROVIDER}"
        )
    }

    #[test]
    fn a_pool_with_the_functions_provider_is_healthy() {
        let findings = pool_findings(POOL_ID, PROVIDER, &Ok(pool(Some(PROVIDER), false)));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].subject, Subject::IdentityPool);
        assert_eq!(findings[0].verdict, Verdict::Ok);
        assert_eq!(
            findings[0].detail,
            format!("{POOL_ID}: developer provider {PROVIDER}")
        );
    }

    #[test]
    fn an_unset_pool_names_its_variable() {
        let finding = not_set();
        assert_eq!(finding.subject, Subject::IdentityPool);
        assert_eq!(finding.verdict, Verdict::Problem);
        assert_eq!(finding.detail, "IDENTITY_POOL_ID is not set");
        assert_eq!(
            finding.fix.as_deref(),
            Some(
                "set IDENTITY_POOL_ID or pass --identity-pool-id (the stack's IdentityPoolId output)"
            )
        );
    }

    #[test]
    fn a_pool_that_cannot_be_described_is_one_problem() {
        let missing = pool_findings(POOL_ID, PROVIDER, &Err(Unread::Missing));
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].verdict, Verdict::Problem);
        assert_eq!(
            missing[0].detail,
            format!("there is no identity pool {POOL_ID}: no login can succeed")
        );
        assert_eq!(
            missing[0].fix.as_deref(),
            Some("set IDENTITY_POOL_ID to the stack's IdentityPoolId output, or deploy the stack")
        );
        let failed = pool_findings(
            POOL_ID,
            PROVIDER,
            &Err(Unread::Failed("AccessDenied: no".to_owned())),
        );
        assert_eq!(failed.len(), 1);
        assert_eq!(
            failed[0].detail,
            format!("cannot describe {POOL_ID}: AccessDenied: no")
        );
        assert_eq!(
            failed[0].fix.as_deref(),
            Some("run with credentials allowed cognito-identity:DescribeIdentityPool on the pool")
        );
    }

    #[test]
    fn another_provider_is_adopted_by_the_functions() {
        let findings = pool_findings(POOL_ID, PROVIDER, &Ok(pool(Some("other"), false)));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            format!(
                "the pool's developer provider is other, the functions use {PROVIDER}: every login fails"
            )
        );
        assert_eq!(
            findings[0].fix.as_deref(),
            Some(
                "set DEVELOPER_PROVIDER_NAME=other on the login function (a pool's provider cannot change once set)"
            )
        );
    }

    #[test]
    fn a_pool_without_a_provider_is_given_one() {
        let findings = pool_findings(POOL_ID, PROVIDER, &Ok(pool(None, false)));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Problem);
        assert_eq!(
            findings[0].detail,
            format!("the pool has no developer provider: logins as {PROVIDER} fail")
        );
        assert_eq!(findings[0].fix, Some(update()));
    }

    #[test]
    fn a_pool_open_to_anyone_is_a_warning() {
        let findings = pool_findings(POOL_ID, PROVIDER, &Ok(pool(Some(PROVIDER), true)));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].verdict, Verdict::Warning);
        assert_eq!(
            findings[0].detail,
            "the pool hands out identities to anyone, logged in or not"
        );
        assert_eq!(findings[0].fix, Some(update()));

        let both = pool_findings(POOL_ID, PROVIDER, &Ok(pool(None, true)));
        let verdicts: Vec<Verdict> = both.iter().map(|finding| finding.verdict).collect();
        assert_eq!(verdicts, [Verdict::Problem, Verdict::Warning]);
    }
}
