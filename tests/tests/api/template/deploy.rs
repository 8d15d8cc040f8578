//! A guided deploy (`sam deploy --guided`): every parameter is described, only those no default
//! can guess are asked for, and the outputs name what a client needs.

use std::collections::BTreeSet;

use super::{Template, text};

#[test]
fn a_guided_deploy_asks_only_what_it_must_and_tells_what_it_made() {
    let template = Template::load();
    for (name, parameter) in template.root["Parameters"]
        .as_mapping()
        .expect("Parameters")
    {
        let description = parameter["Description"].as_str().unwrap_or_default();
        assert!(description.len() >= 20, "{name:?} needs a description");
    }
    let without_default: BTreeSet<&str> = template.root["Parameters"]
        .as_mapping()
        .expect("Parameters")
        .iter()
        .filter(|(_, parameter)| parameter["Default"].is_null())
        .map(|(name, _)| text(name))
        .collect();
    assert_eq!(
        without_default,
        BTreeSet::from(["FromAddress", "VerificationPage", "ResetPage"]),
        "only what no default can guess is asked for"
    );
    for output in [
        "ApiUrl",
        "IdentityPoolId",
        "RetryQueueUrl",
        "DeadLetterQueueUrl",
        "TableName",
        "Issuer",
        "AccessTokenAudience",
        "SigningKeyArn",
    ] {
        assert!(
            !template.root["Outputs"][output]["Value"].is_null(),
            "no output {output}"
        );
    }
}
