//! The HTTP API: every route the code serves, each on the function that serves it, behind the
//! JWT authorizer exactly when the code says so, with an invoke permission for that route only;
//! the CORS, throttling and access-log settings taken from the parameters; and an authorizer
//! that accepts exactly the tokens the functions issue.

use std::collections::{BTreeMap, BTreeSet};

use lambdauth_functions as functions;
use serde_norway::Value;

use super::{Template, get_att, list, number, ref_to, tagged, text};

/// The API every route, integration, authorizer and stage belongs to.
const API: &str = "Api";

/// The integration a route's `Target: !Sub integrations/${X}` names.
fn integration_of(target: &Value) -> &str {
    tagged(target, "Sub")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix("integrations/${"))
        .and_then(|target| target.strip_suffix('}'))
        .unwrap_or_else(|| panic!("not `!Sub integrations/${{X}}`: {target:?}"))
}

/// The function an integration proxies to (`IntegrationUri: !GetAtt X.Arn`), checked to be a
/// Lambda proxy integration with the 2.0 payload on the API.
fn function_of_integration<'a>(template: &'a Template, integration: &str) -> &'a str {
    let resource = template.resource(integration);
    assert_eq!(resource["Type"], "AWS::ApiGatewayV2::Integration");
    let properties = &resource["Properties"];
    assert_eq!(ref_to(&properties["ApiId"]), Some(API), "{integration}");
    assert_eq!(properties["IntegrationType"], "AWS_PROXY", "{integration}");
    assert_eq!(properties["PayloadFormatVersion"], "2.0", "{integration}");
    let (function, attribute) =
        get_att(&properties["IntegrationUri"]).expect("IntegrationUri: !GetAtt <function>.Arn");
    assert_eq!(attribute, "Arn");
    function
}

/// The execute-api ARN pattern, after the API's id, that lets API Gateway invoke `route` only:
/// any stage, the route's method and its path with each `{parameter}` as `*`.
fn source_arn_suffix(method: &str, path: &str) -> String {
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "*"
            } else {
                segment
            }
        })
        .collect();
    format!("/*/{method}{}", path.join("/"))
}

#[test]
fn every_route_of_every_function_is_on_the_api_behind_the_authorizer_iff_the_code_says_so() {
    let template = Template::load();
    // Route key -> (function logical id, authorized).
    let mut declared: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for (name, route) in template.resources_of_type("AWS::ApiGatewayV2::Route") {
        let route = &route["Properties"];
        assert_eq!(ref_to(&route["ApiId"]), Some(API), "{name}");
        let function = function_of_integration(&template, integration_of(&route["Target"]));
        let authorized = match route["AuthorizationType"].as_str() {
            None | Some("NONE") => {
                assert!(route["AuthorizerId"].is_null(), "{name}");
                false
            }
            Some("JWT") => {
                assert_eq!(
                    ref_to(&route["AuthorizerId"]),
                    Some("AccessTokenAuthorizer"),
                    "{name}"
                );
                true
            }
            Some(other) => panic!("{name}: authorization {other}"),
        };
        let key = text(&route["RouteKey"]).to_owned();
        let previous = declared.insert(key.clone(), (function.to_owned(), authorized));
        assert!(previous.is_none(), "{key} is declared twice");
    }
    let mut expected = BTreeMap::new();
    for function in functions::http() {
        let logical = template.function_of(function.name);
        for route in function.routes {
            expected.insert(route.key(), (logical.to_owned(), route.authorized));
        }
    }
    assert_eq!(declared, expected);
}

#[test]
fn api_gateway_may_invoke_each_function_for_its_own_routes_only() {
    let template = Template::load();
    let mut permitted: BTreeSet<(String, String)> = BTreeSet::new();
    for (name, permission) in template.resources_of_type("AWS::Lambda::Permission") {
        let permission = &permission["Properties"];
        assert_eq!(permission["Action"], "lambda:InvokeFunction", "{name}");
        assert_eq!(
            permission["Principal"], "apigateway.amazonaws.com",
            "{name}"
        );
        let function = ref_to(&permission["FunctionName"])
            .unwrap_or_else(|| panic!("{name}: FunctionName: !Ref <function>"));
        let source = tagged(&permission["SourceArn"], "Sub")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name}: SourceArn: !Sub …"));
        let prefix = format!(
            "arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{API}}}"
        );
        let suffix = source
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{name}: {source} is not on the API"));
        assert!(
            permitted.insert((function.to_owned(), suffix.to_owned())),
            "{name}: a second permission for {suffix}"
        );
    }
    let expected: BTreeSet<(String, String)> = functions::http()
        .flat_map(|function| {
            let logical = template.function_of(function.name).to_owned();
            function
                .routes
                .iter()
                .map(move |route| (logical.clone(), source_arn_suffix(route.method, route.path)))
        })
        .collect();
    assert_eq!(permitted, expected);
}

#[test]
fn the_api_takes_its_cors_throttling_and_access_logs_from_the_parameters() {
    let template = Template::load();
    let api = template.resource(API);
    assert_eq!(api["Type"], "AWS::ApiGatewayV2::Api");
    let properties = &api["Properties"];
    assert_eq!(properties["ProtocolType"], "HTTP");
    assert_eq!(properties["FailOnWarnings"], true);
    assert!(
        properties["Body"].is_null() && properties["BodyS3Location"].is_null(),
        "an imported body would delete the routes declared as resources"
    );
    let cors = &properties["CorsConfiguration"];
    let origins: Vec<Option<&str>> = list(&cors["AllowOrigins"]).iter().map(ref_to).collect();
    assert_eq!(origins, [Some("AllowedOrigin")]);
    let methods: BTreeSet<&str> = list(&cors["AllowMethods"]).iter().map(text).collect();
    let served: BTreeSet<&str> = functions::http()
        .flat_map(|function| function.routes.iter().map(|route| route.method))
        .collect();
    assert_eq!(methods, served);
    let headers: BTreeSet<&str> = list(&cors["AllowHeaders"]).iter().map(text).collect();
    for header in ["content-type", "authorization"] {
        assert!(headers.contains(header), "{header} is not allowed");
    }
    assert!(list(&cors["ExposeHeaders"]).contains(&Value::from("retry-after")));

    let stages = template.resources_of_type("AWS::ApiGatewayV2::Stage");
    assert_eq!(stages.len(), 1, "one stage");
    let (stage_name, stage) = stages[0];
    let stage_properties = &stage["Properties"];
    assert_eq!(ref_to(&stage_properties["ApiId"]), Some(API));
    assert_eq!(stage_properties["StageName"], "$default");
    assert_eq!(stage_properties["AutoDeploy"], true);
    let throttling = &stage_properties["DefaultRouteSettings"];
    assert_eq!(
        ref_to(&throttling["ThrottlingRateLimit"]),
        Some("ThrottlingRateLimit")
    );
    assert_eq!(
        ref_to(&throttling["ThrottlingBurstLimit"]),
        Some("ThrottlingBurstLimit")
    );
    let logs = &stage_properties["AccessLogSettings"];
    let (log_group, _) = get_att(&logs["DestinationArn"]).expect("a log group");
    assert_eq!(template.resource(log_group)["Type"], "AWS::Logs::LogGroup");
    let format = text(&logs["Format"]);
    for variable in ["$context.requestId", "$context.routeKey", "$context.status"] {
        assert!(format.contains(variable), "the access log lacks {variable}");
    }
    // Its first automatic deployment waits for every route.
    let waits_for: BTreeSet<&str> = list(&stage["DependsOn"]).iter().map(text).collect();
    for (route, _) in template.resources_of_type("AWS::ApiGatewayV2::Route") {
        assert!(
            waits_for.contains(route),
            "{stage_name} does not wait for {route}"
        );
    }
}

#[test]
fn the_authorizer_accepts_the_tokens_the_functions_issue() {
    let template = Template::load();
    let authorizers = template.resources_of_type("AWS::ApiGatewayV2::Authorizer");
    assert_eq!(authorizers.len(), 1, "one authorizer");
    let authorizer = template.properties("AccessTokenAuthorizer");
    assert_eq!(ref_to(&authorizer["ApiId"]), Some(API));
    assert_eq!(authorizer["AuthorizerType"], "JWT");
    assert_eq!(
        list(&authorizer["IdentitySource"]),
        [Value::from("$request.header.Authorization")]
    );
    let jwt = &authorizer["JwtConfiguration"];
    for function in [
        functions::LOGIN,
        functions::REFRESH_TOKEN,
        functions::SESSIONS,
        functions::JWKS,
    ] {
        let env = template.environment(template.function_of(function.name));
        assert_eq!(
            jwt["Issuer"], env["ISSUER_URL"],
            "{}: the issuer is the ISSUER_URL",
            function.name
        );
        if let Some(audience) = env.get("ACCESS_TOKEN_AUDIENCE") {
            assert_eq!(
                ref_to(audience),
                Some("AccessTokenAudience"),
                "{}: the audiences are the parameter's",
                function.name
            );
        }
    }
    // The first audience of the comma-separated list the functions read as
    // ACCESS_TOKEN_AUDIENCE: this API's own, as `LambdAuthSessions` accepts.
    let [own] = list(&jwt["Audience"]) else {
        panic!("one audience: {:?}", jwt["Audience"]);
    };
    let select = tagged(own, "Select").expect("Audience: [!Select [0, …]]");
    let [index, split] = list(select) else {
        panic!("!Select [index, list]: {select:?}");
    };
    assert_eq!(*index, 0);
    let split = tagged(split, "Split").expect("!Split");
    let [separator, audiences] = list(split) else {
        panic!("!Split [separator, text]: {split:?}");
    };
    assert_eq!(*separator, ",");
    assert_eq!(ref_to(audiences), Some("AccessTokenAudience"));
    // The custom domain when one is given, else the API's own URL, where the key set is served.
    let issuer = tagged(&jwt["Issuer"], "If").expect("Issuer: !If");
    let [condition, custom, own] = list(issuer) else {
        panic!("!If [condition, then, else]: {issuer:?}");
    };
    assert_eq!(*condition, "HasIssuerUrl");
    assert_eq!(ref_to(custom), Some("IssuerUrl"));
    assert_eq!(
        tagged(own, "Sub").and_then(Value::as_str),
        Some("https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}")
    );
    assert_eq!(
        template.root["Outputs"]["ApiUrl"]["Value"], *own,
        "the API's own URL is the ApiUrl output"
    );
    assert_eq!(template.root["Outputs"]["Issuer"]["Value"], jwt["Issuer"]);
    assert_eq!(template.parameter_default("IssuerUrl").as_deref(), Some(""));
    assert_eq!(
        template.parameter_default("AccessTokenAudience").as_deref(),
        Some(lambdauth_accounts::config::DEFAULT_ACCESS_TOKEN_AUDIENCE)
    );
}

/// The default of parameter `name` as a number.
fn number_default(template: &Template, name: &str) -> f64 {
    template
        .parameter_default(name)
        .unwrap_or_else(|| panic!("{name} has a default"))
        .parse()
        .unwrap_or_else(|_| panic!("{name}'s default is a number"))
}

#[test]
fn a_single_source_is_refused_long_before_a_route_is_throttled_for_everyone() {
    let template = Template::load();
    let stage = template.properties("ApiStage");
    let defaults = &stage["DefaultRouteSettings"];
    assert_eq!(
        ref_to(&defaults["ThrottlingRateLimit"]),
        Some("ThrottlingRateLimit")
    );
    assert_eq!(
        ref_to(&defaults["ThrottlingBurstLimit"]),
        Some("ThrottlingBurstLimit")
    );
    let (route_rate, route_burst) = (
        number_default(&template, "ThrottlingRateLimit"),
        number_default(&template, "ThrottlingBurstLimit"),
    );
    for parameter in [
        "RateLimitMail",
        "RateLimitPassword",
        "RateLimitLink",
        "RateLimitSession",
    ] {
        let setting = template
            .parameter_default(parameter)
            .unwrap_or_else(|| panic!("{parameter} has a default"));
        let (count, seconds) = setting.split_once('/').expect("count/seconds");
        let (count, seconds): (f64, f64) = (count.parse().unwrap(), seconds.parse().unwrap());
        assert!(
            route_burst >= 10.0 * count,
            "{parameter} {setting}: one source's burst is over a tenth of a route's ({route_burst})"
        );
        assert!(
            route_rate >= 10.0 * count / seconds,
            "{parameter} {setting}: one source's rate is over a tenth of a route's ({route_rate}/s)"
        );
    }
    // The key set's routes are limited on their own, below every other route.
    for route in functions::JWKS.routes {
        let own = &stage["RouteSettings"][route.key().as_str()];
        let as_f64 = |value| f64::from(u32::try_from(number(value)).expect("a small number"));
        let rate = as_f64(&own["ThrottlingRateLimit"]);
        let burst = as_f64(&own["ThrottlingBurstLimit"]);
        assert!((1.0..route_rate).contains(&rate), "{}", route.key());
        assert!((1.0..route_burst).contains(&burst), "{}", route.key());
    }
}
