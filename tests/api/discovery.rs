//! Discovery tells the truth: every value the metadata names is one the server accepts, and
//! values it refuses are not named. The test asks the server itself (its router and its checks),
//! so the document and the behaviour cannot drift apart. All three documents are the same:
//! `/.well-known/openid-configuration`, Logto's `/oidc/.well-known/openid-configuration` and RFC
//! 8414's `/.well-known/oauth-authorization-server`.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::me::{CALLBACK, CHALLENGE, EMAIL, Me, PASSWORD, signed_in};
use crate::util::browser::Browser;

fn list(d: &Value, key: &str) -> Vec<String> {
    d[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// What `/authorize` does with these parameters: `true` when it shows the sign-in page.
async fn authorize_accepts(me: &Me, extra: &[(&str, &str)]) -> bool {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(pk, _)| pk != k);
        params.push((k, v));
    }
    let page = Browser::new(me.app.port)
        .get(&format!("{}/authorize?{}", me.base, serde_urlencoded::to_string(&params).unwrap()))
        .await;
    page.status == 200 && page.html.contains("name=\"flow\"")
}

#[tokio::test]
async fn the_three_documents_name_exactly_what_the_server_accepts() {
    let me = signed_in("127.0.0.1").await;
    let get = |path: &'static str| me.app.request(Method::GET, path, None, None);
    let d = get("/.well-known/openid-configuration").await.body;
    assert_eq!(get("/oidc/.well-known/openid-configuration").await.body, d);
    assert_eq!(get("/.well-known/oauth-authorization-server").await.body, d, "RFC 8414 metadata");
    assert_eq!(d["issuer"], json!(format!("{}/", me.base)));

    // Response types and modes, and PKCE methods: the named ones open the sign-in page, others not.
    for t in list(&d, "response_types_supported") {
        assert!(authorize_accepts(&me, &[("response_type", &t)]).await, "response_type {t} is named but refused");
    }
    for t in ["token", "id_token", "code id_token", "none"] {
        assert!(!list(&d, "response_types_supported").contains(&t.to_string()));
        assert!(!authorize_accepts(&me, &[("response_type", t)]).await, "response_type {t} is accepted, not named");
    }
    for m in list(&d, "response_modes_supported") {
        assert!(authorize_accepts(&me, &[("response_mode", &m)]).await, "response_mode {m} is named but refused");
    }
    for m in ["jwt", "query.jwt", "form_post.jwt"] {
        assert!(!authorize_accepts(&me, &[("response_mode", m)]).await, "response_mode {m} is accepted, not named");
    }
    assert_eq!(list(&d, "code_challenge_methods_supported"), ["S256"]);
    assert!(
        !authorize_accepts(&me, &[("code_challenge", "x".repeat(43).as_str()), ("code_challenge_method", "plain")])
            .await
    );

    // Client authentication at the token, revocation and introspection endpoints.
    let t = me.mgmt.clone();
    let web = me
        .app
        .post(
            "/api/v2/clients",
            &t,
            json!({"name": "Web", "app_type": "regular_web", "callbacks": [CALLBACK],
                                             "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
    let (id, secret) = (web.body["client_id"].as_str().unwrap(), web.body["client_secret"].as_str().unwrap());
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let by = |method: &str, endpoint: &str| {
        let client = reqwest::Client::new();
        let url = format!("{}{endpoint}", me.base);
        let req = client.post(url).header("content-type", "application/x-www-form-urlencoded");
        match method {
            "client_secret_basic" => {
                req.header("authorization", format!("Basic {basic}")).body(form(&[("token", "x")]))
            }
            "client_secret_post" => req.body(form(&[("token", "x"), ("client_id", id), ("client_secret", secret)])),
            "none" => req.body(form(&[("token", "x"), ("client_id", me.client_id.as_str())])),
            // An assertion the server would have to understand to accept.
            _ => req.body(form(&[
                ("token", "x"),
                ("client_id", id),
                ("client_assertion", "e30.e30.e30"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ])),
        }
        .send()
    };
    for (key, endpoint) in [
        ("token_endpoint_auth_methods_supported", "/oauth/revoke"),
        ("revocation_endpoint_auth_methods_supported", "/oauth/revoke"),
        ("introspection_endpoint_auth_methods_supported", "/oauth/introspect"),
    ] {
        for m in list(&d, key) {
            let r = by(&m, endpoint).await.unwrap();
            assert_eq!(r.status(), 200, "{key}: {m} is named but refused at {endpoint}");
        }
        for m in ["private_key_jwt", "client_secret_jwt"] {
            assert!(!list(&d, key).contains(&m.to_string()));
            assert_ne!(by(m, endpoint).await.unwrap().status(), 200, "{key}: {m} is accepted at {endpoint}, not named");
        }
    }
    assert!(!list(&d, "introspection_endpoint_auth_methods_supported").contains(&"none".into()));
    assert_ne!(by("none", "/oauth/introspect").await.unwrap().status(), 200, "public clients introspect, not named");

    // Scopes: every named scope is granted when asked for; claims: every claim in an ID token or
    // userinfo is named.
    let scopes = list(&d, "scopes_supported").join(" ");
    let code = me.authorization_code_with(EMAIL, PASSWORD, &scopes, None).await;
    let tokens = me.exchange(&code).await;
    let granted = tokens["scope"].as_str().unwrap().split(' ').map(str::to_string).collect::<Vec<_>>();
    for s in list(&d, "scopes_supported") {
        assert!(granted.contains(&s), "scope {s} is named but not granted: {granted:?}");
    }
    let claims = list(&d, "claims_supported");
    let payload = tokens["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    let id_token: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let info =
        me.app.request(Method::GET, &format!("{}/userinfo", me.base), tokens["access_token"].as_str(), None).await;
    for (what, object) in [("ID token", &id_token), ("userinfo", &info.body)] {
        for claim in object.as_object().unwrap().keys() {
            assert!(claims.contains(claim), "the {what} carries {claim}, which claims_supported does not name");
        }
    }

    // Every endpoint named answers (with the method it is for).
    for (key, method) in [
        ("authorization_endpoint", Method::GET),
        ("token_endpoint", Method::POST),
        ("userinfo_endpoint", Method::GET),
        ("jwks_uri", Method::GET),
        ("revocation_endpoint", Method::POST),
        ("introspection_endpoint", Method::POST),
        ("end_session_endpoint", Method::GET),
    ] {
        let url = d[key].as_str().unwrap_or_else(|| panic!("{key}"));
        assert!(url.starts_with(&me.base), "{key} is on another host: {url}");
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .request(method, url)
            .send()
            .await
            .unwrap();
        assert!(![404, 405].contains(&r.status().as_u16()), "{key} {url} answered {}", r.status());
    }

    // DPoP: a proof with a named algorithm binds a token.
    assert!(list(&d, "dpop_signing_alg_values_supported").contains(&"ES256".into()));
    let key = crate::util::dpop::DpopKey::new();
    let token_url = d["token_endpoint"].as_str().unwrap();
    let code = me.authorization_code_with(EMAIL, PASSWORD, "openid", None).await;
    let r = reqwest::Client::new()
        .post(token_url)
        .header("dpop", key.proof("POST", token_url, None, None))
        .json(&json!({"grant_type": "authorization_code", "client_id": me.client_id, "code": code,
                      "redirect_uri": CALLBACK, "code_verifier": Me::VERIFIER}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], json!("DPoP"), "{body}");
}

/// `/api/docs` links every document, and each link answers.
#[tokio::test]
async fn the_docs_page_links_every_document() {
    let me = signed_in("127.0.0.1").await;
    let page = me.app.request(Method::GET, "/api/docs", None, None).await;
    assert_eq!(page.status, 200);
    let links: Vec<&str> = page.text.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).collect();
    assert_eq!(links.len(), 6, "{}", page.text);
    for href in links {
        let r = me.app.request(Method::GET, href, None, None).await;
        assert_eq!(r.status, 200, "{href}");
        assert!(r.body.is_object(), "{href} is not JSON");
    }
}

/// The OAuth endpoints' OpenAPI document describes every endpoint discovery names with a body or
/// query, each from the type that parses it: the token request's form fields, `/authorize`'s query.
#[tokio::test]
async fn the_oauth_openapi_document_describes_the_endpoints_discovery_names() {
    let me = signed_in("127.0.0.1").await;
    let disco = me.app.request(Method::GET, "/.well-known/openid-configuration", None, None).await.body;
    let doc = me.app.request(Method::GET, "/oauth/openapi.json", None, None).await.body;
    for (key, method) in [
        ("authorization_endpoint", "get"),
        ("token_endpoint", "post"),
        ("userinfo_endpoint", "get"),
        ("revocation_endpoint", "post"),
        ("introspection_endpoint", "post"),
    ] {
        let url = disco[key].as_str().unwrap_or_else(|| panic!("discovery names no {key}"));
        let path = url.strip_prefix(&me.base).unwrap_or(url);
        assert!(doc["paths"][path][method].is_object(), "{method} {path} ({key}) is not described");
    }
    let form = &doc["paths"]["/oauth/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"];
    let schema = form["schema"]["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
    let fields = &doc["components"]["schemas"][schema]["properties"];
    for f in ["grant_type", "client_id", "code", "code_verifier", "refresh_token", "subject_token"] {
        assert!(fields[f].is_object(), "the token request does not describe {f}");
    }
    let query: Vec<&str> = doc["paths"]["/authorize"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for p in ["response_type", "client_id", "redirect_uri", "code_challenge", "audience", "resource"] {
        assert!(query.contains(&p), "/authorize does not describe {p}: {query:?}");
    }
}
