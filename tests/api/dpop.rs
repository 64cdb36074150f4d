//! DPoP (RFC 9449) at the token endpoint and on protected endpoints.

use base64::Engine;
use serde_json::{Value, json};

use crate::util::TestApp;
use crate::util::dpop::{DpopKey, now};

/// POSTs a JSON token request with an optional DPoP proof.
async fn token_request(app: &TestApp, body: Value, proof: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/oauth/token", app.base)).json(&body);
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// GETs a management URL with `Authorization: {scheme} token` and an optional proof.
async fn call(
    app: &TestApp,
    path: &str,
    scheme: &str,
    token: &str,
    proof: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req =
        reqwest::Client::new().get(format!("{}{path}", app.base)).header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        req = req.header("dpop", p);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn mgmt_body(app: &TestApp) -> Value {
    json!({"grant_type": "client_credentials", "client_id": app.bootstrap.client_id,
           "client_secret": app.bootstrap.client_secret, "audience": format!("{}/api/v2/", app.base)})
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_dpop_bound_token_works_only_with_its_key() {
    let app = TestApp::start().await;
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", app.base);
    let (status, headers, body) =
        token_request(&app, mgmt_body(&app), Some(&key.proof("POST", &token_url, None, None))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    assert!(headers.contains_key("dpop-nonce"), "a nonce comes with DPoP answers");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(payload(token)["cnf"]["jkt"], key.jkt.as_str());

    let url = format!("{}/api/v2/clients", app.base);
    let (status, _, _) =
        call(&app, "/api/v2/clients", "DPoP", token, Some(&key.proof("GET", &url, Some(token), None))).await;
    assert_eq!(status, 200);
    // A query string does not change htu.
    let (status, _, _) =
        call(&app, "/api/v2/clients?per_page=5", "DPoP", token, Some(&key.proof("GET", &url, Some(token), None))).await;
    assert_eq!(status, 200);

    // The same token as a Bearer token: refused.
    let (status, headers, body) = call(&app, "/api/v2/clients", "Bearer", token, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["errorCode"], "invalid_token");
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("DPoP error=\"invalid_token\""));
    // An unbound token presented as DPoP: refused.
    let bearer = app.mgmt_token().await;
    let (status, _, _) =
        call(&app, "/api/v2/clients", "DPoP", &bearer, Some(&key.proof("GET", &url, Some(&bearer), None))).await;
    assert_eq!(status, 401);
    app.stop().await;
}

#[tokio::test]
async fn bad_proofs_are_refused_with_the_right_error() {
    let app = TestApp::start().await;
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", app.base);
    let (_, _, body) = token_request(&app, mgmt_body(&app), Some(&key.proof("POST", &token_url, None, None))).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let url = format!("{}/api/v2/clients", app.base);
    let good = key.claims("GET", &url, Some(&token), None);
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        c[k] = v;
        c
    };
    let other = DpopKey::new();
    let mut private_jwk = key.header();
    private_jwk["jwk"]["d"] = json!("AAAA");
    let mut alg_none = key.header();
    alg_none["alg"] = json!("none");
    let mut wrong_typ = key.header();
    wrong_typ["typ"] = json!("JWT");
    let replayed = key.sign(&key.header(), &good);
    // The key's own header (already checked and kept once `replayed` is used) over a signature
    // that is not this message's: another key's, and the key's own for other claims.
    // Fresh claims each, so that only the signature can refuse them.
    let fresh = || key.claims("GET", &url, Some(&token), None);
    let signed_by_other = other.sign(&key.header(), &fresh());
    let borrowed_signature = {
        let proof = key.sign(&key.header(), &fresh());
        let other_claims = key.proof("GET", &url, Some(&token), None);
        format!("{}.{}", proof.rsplit_once('.').unwrap().0, other_claims.rsplit_once('.').unwrap().1)
    };
    let cases: Vec<(&str, String)> = vec![
        ("wrong htm", key.sign(&key.header(), &with("htm", json!("POST")))),
        ("wrong htu", key.sign(&key.header(), &with("htu", json!(format!("{}/api/v2/users", app.base))))),
        ("other host in htu", key.sign(&key.header(), &with("htu", json!("https://evil.example/api/v2/clients")))),
        ("stale iat", key.sign(&key.header(), &with("iat", json!(now() - 3600)))),
        ("future iat", key.sign(&key.header(), &with("iat", json!(now() + 3600)))),
        ("wrong ath", key.sign(&key.header(), &with("ath", json!("x".repeat(43))))),
        (
            "missing ath",
            key.sign(&key.header(), &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("ath");
                c
            }),
        ),
        ("key differs from cnf.jkt", other.proof("GET", &url, Some(&token), None)),
        ("private key in jwk", key.sign(&private_jwk, &key.claims("GET", &url, Some(&token), None))),
        ("alg none", key.sign(&alg_none, &key.claims("GET", &url, Some(&token), None))),
        ("typ not dpop+jwt", key.sign(&wrong_typ, &key.claims("GET", &url, Some(&token), None))),
        ("signed by another key", signed_by_other),
        ("signature of another proof", borrowed_signature),
        ("no signature", format!("{}.", key.sign(&key.header(), &fresh()).rsplit_once('.').unwrap().0)),
        ("four parts", format!("{}.x", key.sign(&key.header(), &fresh()))),
        ("not a JWT", "garbage".into()),
    ];
    let (status, _, _) = call(&app, "/api/v2/clients", "DPoP", &token, Some(&replayed)).await;
    assert_eq!(status, 200, "the first use of a proof is fine");
    let (status, headers, body) = call(&app, "/api/v2/clients", "DPoP", &token, Some(&replayed)).await;
    assert_eq!((status, body["errorCode"].as_str()), (401, Some("invalid_dpop_proof")), "replayed jti");
    assert!(headers["www-authenticate"].to_str().unwrap().contains("error=\"invalid_dpop_proof\""));
    for (what, proof) in cases {
        let (status, headers, body) = call(&app, "/api/v2/clients", "DPoP", &token, Some(&proof)).await;
        assert_eq!(status, 401, "{what}");
        assert_eq!(body["errorCode"], "invalid_dpop_proof", "{what}: {body}");
        let challenge = headers["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("DPoP error=\"invalid_dpop_proof\""), "{what}: {challenge}");
        assert!(challenge.contains("algs=\"ES256 EdDSA RS256 PS256\""));
        if what == "key differs from cnf.jkt" {
            assert!(challenge.contains("The proof key does not match the token"), "{challenge}");
        }
    }
    let (status, _, _) = call(&app, "/api/v2/clients", "DPoP", &token, None).await;
    assert_eq!(status, 401, "no proof at all");
    // The token endpoint refuses bad proofs too.
    let (status, _, body) = token_request(&app, mgmt_body(&app), Some(&key.proof("GET", &token_url, None, None))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_dpop_proof")));
    app.stop().await;
}

#[tokio::test]
async fn server_nonces_make_clients_retry() {
    let app = TestApp::start_with(|c| c.server.dpop_require_nonce = true).await;
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", app.base);
    let (status, headers, body) =
        token_request(&app, mgmt_body(&app), Some(&key.proof("POST", &token_url, None, None))).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("use_dpop_nonce")));
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_string();
    let (status, headers, body) =
        token_request(&app, mgmt_body(&app), Some(&key.proof("POST", &token_url, None, Some(&nonce)))).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_string();

    let url = format!("{}/api/v2/clients", app.base);
    let (status, headers, _) =
        call(&app, "/api/v2/clients", "DPoP", &token, Some(&key.proof("GET", &url, Some(&token), None))).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("error=\"use_dpop_nonce\""));
    let fresh = headers["dpop-nonce"].to_str().unwrap().to_string();
    let (status, _, _) =
        call(&app, "/api/v2/clients", "DPoP", &token, Some(&key.proof("GET", &url, Some(&token), Some(&fresh)))).await;
    assert_eq!(status, 200);
    let (status, _, _) =
        call(&app, "/api/v2/clients", "DPoP", &token, Some(&key.proof("GET", &url, Some(&token), Some("v1.forged"))))
            .await;
    assert_eq!(status, 401, "a forged nonce");
    let _ = nonce;
    app.stop().await;
}

#[tokio::test]
async fn an_api_can_require_dpop() {
    let app = TestApp::start().await;
    let t = app.mgmt_token().await;
    app.post(
        "/api/v2/resource-servers",
        &t,
        json!({"identifier": "urn:strict", "scopes": [{"value": "x"}], "proof_of_possession": {"mechanism": "dpop", "required": true}}),
    )
    .await;
    let m2m = app.post("/api/v2/clients", &t, json!({"name": "svc", "app_type": "non_interactive"})).await;
    let cid = m2m.body["client_id"].as_str().unwrap();
    app.post("/api/v2/client-grants", &t, json!({"client_id": cid, "audience": "urn:strict", "scope": ["x"]})).await;
    let body = json!({"grant_type": "client_credentials", "client_id": cid, "client_secret": m2m.body["client_secret"], "audience": "urn:strict"});
    let (status, _, resp) = token_request(&app, body.clone(), None).await;
    assert_eq!((status, resp["error"].as_str()), (400, Some("invalid_request")));
    let key = DpopKey::new();
    let (status, _, resp) =
        token_request(&app, body, Some(&key.proof("POST", &format!("{}/oauth/token", app.base), None, None))).await;
    assert_eq!((status, resp["token_type"].as_str()), (200, Some("DPoP")));
    app.stop().await;
}

/// SQLite keeps spent proof ids in memory and saves them every 100 ms, so a crash can lose the
/// last ones. After a server that did not stop cleanly, a proof made before the new start is
/// refused with `use_dpop_nonce`; a new proof with the nonce it gets is accepted. (PostgreSQL
/// writes each id before answering: nothing to lose.)
#[tokio::test]
async fn a_proof_spent_just_before_a_crash_is_not_accepted_after_the_restart() {
    if accountd_store::testdb::Backend::from_env() != accountd_store::testdb::Backend::Sqlite {
        return;
    }
    let app = TestApp::start().await;
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", app.base);
    let (_, _, body) = token_request(&app, mgmt_body(&app), Some(&key.proof("POST", &token_url, None, None))).await;
    let token = body["access_token"].as_str().unwrap().to_string();
    let path = "/api/v2/clients";
    let spent = key.proof("GET", &format!("{}{path}", app.base), Some(&token), None);
    assert_eq!(call(&app, path, "DPoP", &token, Some(&spent)).await.0, 200);
    // The crash: the server never stops, and the ids it saved are lost with its last batch.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.sql("DELETE FROM dpop_proof_batches").await;
    app.sql("DELETE FROM dpop_proofs").await;
    let restarted = app.another_node().await;
    // The restarted server, reached under the first one's name (the token's issuer and htu).
    let url = format!("{}{path}", app.base);
    let host = app.base.trim_start_matches("http://").to_string();
    let call_restarted = |proof: String| {
        let req = reqwest::Client::new()
            .get(format!("{}{path}", restarted.base))
            .header("host", &host)
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof);
        async move {
            let r = req.send().await.unwrap();
            let (status, headers) = (r.status().as_u16(), r.headers().clone());
            (status, headers, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, headers, body) = call_restarted(spent).await;
    assert_eq!(status, 401, "the spent proof was accepted again after the crash: {body}");
    assert!(headers["www-authenticate"].to_str().unwrap().contains("use_dpop_nonce"), "{headers:?}");
    let nonce = headers["dpop-nonce"].to_str().unwrap();
    let (status, _, body) = call_restarted(key.proof("GET", &url, Some(&token), Some(nonce))).await;
    assert_eq!(status, 200, "a new proof with the nonce is refused: {body}");
    restarted.stop().await;
    app.stop().await;
}
