use crate::util::TestApp;

/// The OpenAPI document lists every management operation (snapshot of method + path).
#[tokio::test]
async fn openapi_lists_every_operation() {
    let app = TestApp::start().await;
    let r = app.request(reqwest::Method::GET, "/api/v2/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    let mut ops = Vec::new();
    for (path, item) in r.body["paths"].as_object().unwrap() {
        // `parameters` is the path's own list (declared path parameters), not an operation.
        for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| *k != "parameters") {
            ops.push(format!("{} {path} ({})", method.to_uppercase(), op["operationId"].as_str().unwrap_or("")));
        }
    }
    ops.sort();
    insta::assert_snapshot!("management_operations", ops.join("\n"));
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await;
}
