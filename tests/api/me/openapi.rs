use reqwest::Method;

use crate::util::TestApp;

/// The OpenAPI document is public and describes every `/me/v1` route (snapshot of method + path).
#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::start().await;
    let r = app.request(Method::GET, "/me/v1/openapi.json", None, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    let paths = r.body["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/me/v1/factors", &["get"][..]),
        ("/me/v1/authentication-methods", &["get", "post"]),
        ("/me/v1/authentication-methods/{id}", &["get", "patch", "delete"]),
        ("/me/v1/authentication-methods/{id}/verify", &["post"]),
        ("/me/v1/profile", &["get", "patch"]),
    ] {
        for m in methods {
            assert!(paths.get(path).and_then(|p| p.get(m)).is_some(), "{m} {path} missing");
        }
    }
    assert_eq!(r.body["paths"]["/me/v1/factors"]["get"]["operationId"], "getFactors");
    for schema in ["CreateAuthenticationMethodRequest", "AuthenticationMethodResponse", "ProfileResponse"] {
        assert!(r.body["components"]["schemas"][schema].is_object(), "{schema} missing");
    }
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
    let mut ops = Vec::new();
    for (path, item) in paths {
        // `parameters` is the path's own list (declared path parameters), not an operation.
        for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| *k != "parameters") {
            ops.push(format!("{} {path} ({})", method.to_uppercase(), op["operationId"].as_str().unwrap_or("")));
        }
    }
    ops.sort();
    insta::assert_snapshot!("me_v1_operations", ops.join("\n"));
    // The catch-all still answers everything else under /me/ in this API's format.
    let r = app.request(Method::GET, "/me/v1/openapi.yaml", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["type"], "https://auth0.com/api-errors/A0E-404-0001");
    app.stop().await;
}
