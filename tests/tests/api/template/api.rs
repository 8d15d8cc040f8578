//! The HTTP API: one `POST` route per function at the path the code serves, with the CORS and
//! throttling settings taken from the parameters.

use lambdauth_handlers::Function;
use serde_norway::Value;

use super::{Template, list, ref_to};

#[test]
fn the_six_routes_are_posts_on_the_http_api() {
    let template = Template::load();
    for function in Function::ALL {
        let logical = template.function_of(function.name());
        let route = template.event(logical, "HttpApi");
        assert_eq!(ref_to(&route["ApiId"]), Some("HttpApi"));
        assert_eq!(route["Method"], "POST");
        assert_eq!(route["Path"], function.path(), "{}", function.name());
        assert_eq!(route["PayloadFormatVersion"], "2.0");
    }
    let api = template.resource("HttpApi");
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let cors = &api["Properties"]["CorsConfiguration"];
    let origins: Vec<Option<&str>> = list(&cors["AllowOrigins"]).iter().map(ref_to).collect();
    assert_eq!(origins, [Some("AllowedOrigin")]);
    assert!(list(&cors["AllowHeaders"]).contains(&Value::from("content-type")));
    let throttling = &api["Properties"]["DefaultRouteSettings"];
    assert_eq!(
        ref_to(&throttling["ThrottlingRateLimit"]),
        Some("ThrottlingRateLimit")
    );
    assert_eq!(
        ref_to(&throttling["ThrottlingBurstLimit"]),
        Some("ThrottlingBurstLimit")
    );
}
