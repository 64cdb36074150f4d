//! Regression tests for what generated hostile input (`scripts/hostile-input`, schemathesis) found:
//! each defect it reported stays fixed here.

use reqwest::Method;
use serde_json::{Value, json};

use crate::account::{account, assert_error};

/// WebAuthn has no relying party on an IP address: a request to an IP host was a 500; now it is
/// the API's own 400 saying to use a name.
#[tokio::test]
async fn webauthn_on_an_ip_host_is_a_clear_refusal_not_a_server_error() {
    let a = account().await; // on 127.0.0.1
    let r = a.me.post("/authentication-methods", json!({"type": "webauthn-roaming"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], json!("/host"), "{}", r.text);
    let r = a.me.post("/authentication-methods", json!({"type": "passkey"})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = a.call(Method::POST, "/api/verifications/web-authn/registration", None, None).await;
    assert_error(&r, 400, "guard.invalid_input");
    assert!(r.body["details"].as_str().unwrap_or("").contains("domain name"), "{}", r.text);
}

/// Every OpenAPI document declares each path's parameters and every schema it refers to: clients
/// generated from them (and schemathesis) could not call 32 operations before.
#[tokio::test]
async fn every_openapi_document_declares_its_path_parameters_and_schemas() {
    let a = account().await;
    for doc in
        ["/me/v1/openapi.json", "/api/.well-known/user.openapi.json", "/api/v2/openapi.json", "/oauth/openapi.json"]
    {
        let d = a.me.app.request(Method::GET, doc, None, None).await.body;
        let paths = d["paths"].as_object().unwrap_or_else(|| panic!("{doc} has no paths"));
        for (path, item) in paths {
            let names: Vec<&str> = path.split('{').skip(1).filter_map(|s| s.split('}').next()).collect();
            let declared = |params: &Value, name: &str| {
                params
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == json!(name) && p["in"] == json!("path")))
            };
            for (method, op) in item.as_object().unwrap().iter().filter(|(k, _)| *k != "parameters") {
                for name in &names {
                    assert!(
                        declared(&item["parameters"], name) || declared(&op["parameters"], name),
                        "{doc}: {method} {path} does not declare {name}"
                    );
                }
            }
        }
        let text = d.to_string();
        for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = r.split('"').next().unwrap();
            assert!(d["components"]["schemas"].get(name).is_some(), "{doc} refers to a missing schema {name}");
        }
    }
}
