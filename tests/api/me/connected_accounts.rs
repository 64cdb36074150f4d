//! Connected accounts (spec auth0 §1.5) and the Token Vault exchange, against a real upstream
//! OpenID provider (node `oidc-provider`): connect → accountd's connect page → the upstream → back
//! to the app with a one-time `connect_code` → complete with the PKCE verifier.

use reqwest::Method;
use serde_json::{Value, json};

use super::{CALLBACK, CHALLENGE, EMAIL, ME_SCOPES, Me, PASSWORD, error_type, signed_in};
use crate::util::Resp;
use crate::util::upstream::{Upstream, follow, query};

const CA_SCOPES: [&str; 3] =
    ["create:me:connected_accounts", "read:me:connected_accounts", "delete:me:connected_accounts"];

const FEDERATED: &str = "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token";

/// A signed-in user whose token has the connected-account scopes, and a tenant with connection
/// `upstream` (tokens kept) at a fresh upstream.
async fn connected() -> (Me, Upstream) {
    let mut me = signed_in("127.0.0.1").await;
    let up = Upstream::start(60).await;
    let r = me.app.post("/api/v2/connections", &me.mgmt, up.connection("upstream", true)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let grants = me.app.get(&format!("/api/v2/client-grants?client_id={}", me.client_id), &me.mgmt).await;
    let id = grants.body[0]["id"].as_str().unwrap().to_string();
    let scopes: Vec<&str> = ME_SCOPES.iter().chain(CA_SCOPES.iter()).copied().collect();
    let r = me.app.patch(&format!("/api/v2/client-grants/{id}"), &me.mgmt, json!({"scope": scopes})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    me.token = me.sign_in(&scopes.join(" ")).await;
    (me, up)
}

fn connect_body(who: &str) -> Value {
    json!({"connection": "upstream", "redirect_uri": CALLBACK, "state": "app-state", "code_challenge": CHALLENGE,
           "code_challenge_method": "S256", "scopes": ["email", "profile"], "authorization_params": {"login_hint": who}})
}

/// Connects and walks the browser part: the connect answer and the `connect_code`.
async fn start(me: &Me, token: &str, who: &str) -> (Value, String) {
    let r = me
        .app
        .request(Method::POST, &me.url("/connected-accounts/connect"), Some(token), Some(connect_body(who)))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let url = format!(
        "{}?ticket={}",
        r.body["connect_uri"].as_str().unwrap(),
        r.body["connect_params"]["ticket"].as_str().unwrap()
    );
    let back = query(&follow(&url, CALLBACK).await);
    assert_eq!(back.get("state").map(String::as_str), Some("app-state"));
    (r.body, back["connect_code"].clone())
}

async fn complete(me: &Me, token: &str, auth_session: &Value, code: &str, verifier: &str, redirect: &str) -> Resp {
    let body = json!({"auth_session": auth_session, "connect_code": code, "redirect_uri": redirect, "code_verifier": verifier});
    me.app.request(Method::POST, &me.url("/connected-accounts/complete"), Some(token), Some(body)).await
}

/// A confidential app of the tenant and a refresh token of the test user for it: what an agent
/// calling the Token Vault holds.
async fn agent(me: &Me) -> (String, String, String) {
    let r = me
        .app
        .post(
            "/api/v2/clients",
            &me.mgmt,
            json!({"name": "Agent", "app_type": "regular_web", "callbacks": [CALLBACK],
                   "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (id, secret) =
        (r.body["client_id"].as_str().unwrap().to_string(), r.body["client_secret"].as_str().unwrap().to_string());
    let t = agent_tokens(me, &id, &secret, "openid offline_access").await;
    (id, secret, t["refresh_token"].as_str().expect("a refresh token").to_string())
}

/// The tokens the agent gets for the test user's sign-in with `scope`.
async fn agent_tokens(me: &Me, id: &str, secret: &str, scope: &str) -> Value {
    let code = me.authorization_code_of(id, EMAIL, PASSWORD, scope, None).await;
    let t = me
        .app
        .request(
            Method::POST,
            &format!("{}/oauth/token", me.base),
            None,
            Some(json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret, "code": code,
                        "redirect_uri": CALLBACK, "code_verifier": Me::VERIFIER})),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    t.body
}

/// The Token Vault exchange as the `auth0` SDK's `tokenForConnection` sends it: a form with the
/// client secret and no client id.
async fn vault(me: &Me, secret: &str, subject: &str, subject_type: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("subject_token_type", subject_type),
        ("connection", "upstream"),
        ("subject_token", subject),
        ("grant_type", FEDERATED),
        ("requested_token_type", "http://auth0.com/oauth/token-type/federated-connection-access-token"),
        ("client_secret", secret),
    ];
    form.extend_from_slice(extra);
    me.app
        .post_raw(
            &format!("{}/oauth/token", me.base),
            None,
            "application/x-www-form-urlencoded",
            &serde_urlencoded::to_string(&form).unwrap(),
        )
        .await
}

const RT: &str = "urn:ietf:params:oauth:token-type:refresh_token";

#[tokio::test]
async fn a_user_connects_an_account_and_an_agent_gets_its_token_from_the_vault() {
    let (me, up) = connected().await;
    let (started, code) = start(&me, &me.token, "bob").await;
    assert_eq!(started["connect_uri"], json!(format!("{}/connected-accounts/connect", me.base)));
    assert_eq!(started["expires_in"], json!(300));
    assert!(started["auth_session"].as_str().unwrap().len() <= 64);
    let r = complete(&me, &me.token, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("cac_") && id[4..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    assert_eq!((r.body["connection"].clone(), r.body["access_type"].clone()), (json!("upstream"), json!("offline")));
    assert!(r.body["scopes"].as_array().unwrap().contains(&json!("offline_access")), "{}", r.text);
    assert!(r.body["created_at"].as_str().is_some());

    let r = me.get("/connected-accounts/accounts").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["accounts"][0]["id"], json!(id));
    assert_eq!(me.get("/connected-accounts/accounts?connection=other").await.body["accounts"], json!([]));
    let r = me.get("/connected-accounts/connections").await;
    assert_eq!(
        r.body,
        json!({"connections": [{"name": "upstream", "strategy": "oidc", "scopes": ["openid", "email", "profile"]}]})
    );

    // The same account, through Logto's dialect: one core, one identity.
    let r = me.app.patch("/api/account-center", &me.mgmt, json!({"enabled": true, "fields": {"social": "Edit"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let code_ = me.authorization_code_with(EMAIL, PASSWORD, "openid identities", None).await;
    let logto = me.exchange(&code_).await["access_token"].as_str().unwrap().to_string();
    let r = me.app.get("/api/my-account", &logto).await;
    assert_eq!(r.body["identities"]["upstream"]["userId"], json!("bob"), "{}", r.text);

    // The Token Vault: a refresh token of the agent's, its secret, no client id.
    let (agent_id, secret, refresh) = agent(&me).await;
    let r = vault(&me, &secret, &refresh, RT, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["issued_token_type"],
        json!("http://auth0.com/oauth/token-type/federated-connection-access-token")
    );
    assert!(r.body["expires_in"].as_i64().is_some_and(|s| s > 0) && r.body["expires_at"].as_i64().is_some());
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(up.call_api(&token).await, (200, Some("bob".into())), "the vault's token is a live upstream token");
    assert_eq!(
        r.body["access_token"],
        me.app.get("/api/my-account/identities/upstream/access-token", &logto).await.body["access_token"]
    );
    // An access token of the user works as the subject too; a hint that names bob is fine.
    let at = agent_tokens(&me, &agent_id, &secret, "openid").await["access_token"].as_str().unwrap().to_string();
    let r = vault(&me, &secret, &at, "urn:ietf:params:oauth:token-type:access_token", &[("login_hint", "bob")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!me.app.database_holds(&token).await, "the upstream token is stored readable");

    // Removed: gone from both dialects and from the vault.
    let r = me.call(Method::DELETE, &format!("/connected-accounts/accounts/{id}"), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(me.get("/connected-accounts/accounts").await.body["accounts"], json!([]));
    assert_eq!(me.app.get("/api/my-account", &logto).await.body["identities"], json!({}));
    let r = vault(&me, &secret, &refresh, RT, &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].clone()),
        (401, json!("federated_connection_refresh_token_not_found")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn every_refusal_is_auth0s_and_changes_nothing() {
    let (me, _up) = connected().await;
    let connect = |body: Value| me.post("/connected-accounts/connect", body);
    let mut extra = connect_body("bob");
    extra["nope"] = json!(1);
    let r = connect(extra).await;
    assert_eq!((r.status.as_u16(), error_type(&r)), (400, "A0E-400-0003".into()), "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], json!("/nope"));
    let mut no_method = connect_body("bob");
    no_method.as_object_mut().unwrap().remove("code_challenge_method");
    assert_eq!(connect(no_method).await.status, 400);
    let mut foreign = connect_body("bob");
    foreign["redirect_uri"] = json!("https://evil.example/cb");
    let r = connect(foreign).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], json!("/redirect_uri"));
    let mut unknown = connect_body("bob");
    unknown["connection"] = json!("nope");
    assert_eq!(connect(unknown).await.status, 404);
    let limited = me.sign_in("read:me:factors").await;
    let r = me
        .app
        .request(Method::POST, &me.url("/connected-accounts/connect"), Some(&limited), Some(connect_body("bob")))
        .await;
    assert_eq!((r.status.as_u16(), error_type(&r)), (403, "A0E-403-0002".into()), "{}", r.text);
    let r = me.app.request(Method::GET, &me.url("/connected-accounts/accounts"), Some(&limited), None).await;
    assert_eq!(r.status, 403);
    assert_eq!(me.get("/connected-accounts/accounts?take=21").await.status, 400);

    // The callback needs its request's state, and a connect code expires with its request.
    let forged = format!("{}/connected-accounts/callback?code=x&state=nope.forged", me.base);
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 400);
    let (late, code) = start(&me, &me.token, "bob").await;
    let sql = format!(
        "UPDATE verification_records SET expires_at = 0 WHERE id = '{}'",
        late["auth_session"].as_str().unwrap()
    );
    assert_eq!(me.app.sql(&sql).await, 1);
    let r = complete(&me, &me.token, &late["auth_session"], &code, Me::VERIFIER, CALLBACK).await;
    assert_eq!(r.status, 400, "an expired request completed: {}", r.text);

    // A ticket opens the upstream once.
    let r = connect(connect_body("bob")).await;
    let url = format!(
        "{}?ticket={}",
        r.body["connect_uri"].as_str().unwrap(),
        r.body["connect_params"]["ticket"].as_str().unwrap()
    );
    let back = query(&follow(&url, CALLBACK).await);
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400, "a used ticket opened the upstream again");
    let forged = format!(
        "{}?ticket={}.forged",
        r.body["connect_uri"].as_str().unwrap(),
        r.body["auth_session"].as_str().unwrap()
    );
    assert_eq!(reqwest::get(&forged).await.unwrap().status(), 400);

    // Wrong verifier, wrong redirect URI, another user's session: refused, and the code survives.
    let (session, code) = (r.body["auth_session"].clone(), back["connect_code"].clone());
    let wrong = "x".repeat(43);
    let r = complete(&me, &me.token, &session, &code, &wrong, CALLBACK).await;
    assert_eq!((r.status.as_u16(), error_type(&r)), (400, "A0E-400-0004".into()), "{}", r.text);
    let r = complete(&me, &me.token, &session, &code, Me::VERIFIER, "http://localhost:3000/other").await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = me
        .app
        .post("/api/v2/users", &me.mgmt, json!({"email": "eve@example.com", "password": "eve's long password"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let scopes: Vec<&str> = ME_SCOPES.iter().chain(CA_SCOPES.iter()).copied().collect();
    let eve = me.sign_in_as("eve@example.com", "eve's long password", &scopes.join(" ")).await;
    let r = complete(&me, &eve, &session, &code, Me::VERIFIER, CALLBACK).await;
    assert_eq!(r.status, 400, "another user completed the request: {}", r.text);
    let mut extra =
        json!({"auth_session": session, "connect_code": code, "redirect_uri": CALLBACK, "code_verifier": Me::VERIFIER});
    extra["x"] = json!(1);
    assert_eq!(me.post("/connected-accounts/complete", extra).await.status, 400);
    assert_eq!(
        me.get("/connected-accounts/accounts").await.body["accounts"],
        json!([]),
        "a refusal connected something"
    );

    // A burst of completions with the one code connects once; a replay afterwards is refused.
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (url, token) = (me.url("/connected-accounts/complete"), me.token.clone());
            let body = json!({"auth_session": session, "connect_code": code, "redirect_uri": CALLBACK, "code_verifier": Me::VERIFIER});
            tokio::spawn(async move {
                reqwest::Client::new().post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 400, 400, 400, 400, 400], "one code connected more than once");
    assert_eq!(me.get("/connected-accounts/accounts").await.body["accounts"].as_array().unwrap().len(), 1);

    // Eve cannot connect bob's upstream account too: 409, and she has none.
    let (started, code) = start(&me, &eve, "bob").await;
    let r = complete(&me, &eve, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await;
    assert_eq!((r.status.as_u16(), error_type(&r)), (409, "A0E-409-0001".into()), "{}", r.text);
    let r = me.app.request(Method::GET, &me.url("/connected-accounts/accounts"), Some(&eve), None).await;
    assert_eq!(r.body["accounts"], json!([]));

    // Deleting: a malformed id, someone else's account.
    assert_eq!(me.call(Method::DELETE, "/connected-accounts/accounts/nope", None).await.status, 400);
    let bobs = me.get("/connected-accounts/accounts").await.body["accounts"][0]["id"].as_str().unwrap().to_string();
    let r = me
        .app
        .request(Method::DELETE, &me.url(&format!("/connected-accounts/accounts/{bobs}")), Some(&eve), None)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(me.get("/connected-accounts/accounts").await.body["accounts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_vault_refuses_what_does_not_add_up() {
    let (me, _up) = connected().await;
    let (started, code) = start(&me, &me.token, "bob").await;
    assert_eq!(complete(&me, &me.token, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await.status, 201);
    let (agent_id, secret, refresh) = agent(&me).await;
    let error = |r: &Resp| (r.status.as_u16(), r.body["error"].as_str().unwrap_or_default().to_string());
    assert_eq!(error(&vault(&me, "wrong", &refresh, RT, &[]).await).0, 401, "a wrong secret");
    assert_eq!(error(&vault(&me, &secret, "not-a-token", RT, &[]).await), (400, "invalid_grant".into()));
    let r = vault(&me, &secret, &refresh, RT, &[("login_hint", "someone-else")]).await;
    assert_eq!(error(&r), (401, "federated_connection_refresh_token_not_found".into()));
    let r = vault(&me, &secret, &refresh, RT, &[("client_id", &me.client_id)]).await;
    assert_eq!(error(&r), (400, "invalid_grant".into()), "another client's id passed");
    let r = vault(&me, &secret, &refresh, RT, &[("client_id", &agent_id)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let form = serde_urlencoded::to_string([
        ("grant_type", FEDERATED),
        ("subject_token", &refresh),
        ("client_secret", &secret),
    ])
    .unwrap();
    let r =
        me.app.post_raw(&format!("{}/oauth/token", me.base), None, "application/x-www-form-urlencoded", &form).await;
    assert_eq!(error(&r), (400, "invalid_request".into()), "no connection");
    // Discovery says the server takes this grant.
    let d = me.app.request(Method::GET, &format!("{}/.well-known/openid-configuration", me.base), None, None).await;
    assert!(d.body["grant_types_supported"].as_array().unwrap().contains(&json!(FEDERATED)), "{}", d.text);
}

#[tokio::test]
async fn a_dpop_bound_access_token_as_subject_needs_its_proof() {
    use crate::util::dpop::DpopKey;
    let (me, up) = connected().await;
    let (started, code) = start(&me, &me.token, "bob").await;
    assert_eq!(complete(&me, &me.token, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await.status, 201);
    let (agent_id, secret, _) = agent(&me).await;
    // The agent binds its access token to a DPoP key at the code exchange (its refresh token is
    // bound by its client secret instead, RFC 9449 §5).
    let key = DpopKey::new();
    let token_url = format!("{}/oauth/token", me.base);
    let code = me.authorization_code_of(&agent_id, EMAIL, PASSWORD, "openid offline_access", None).await;
    let form = serde_urlencoded::to_string([
        ("grant_type", "authorization_code"),
        ("client_id", &agent_id),
        ("client_secret", &secret),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", Me::VERIFIER),
    ])
    .unwrap();
    let t = reqwest::Client::new()
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("dpop", key.proof("POST", &token_url, None, None))
        .body(form)
        .send()
        .await
        .unwrap();
    let t: Value = t.json().await.unwrap();
    assert_eq!(t["token_type"], json!("DPoP"), "{t}");
    let bound = t["access_token"].as_str().unwrap().to_string();
    const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

    let r = vault(&me, &secret, &bound, AT, &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"].clone()),
        (400, json!("invalid_grant")),
        "a bound token without its proof: {}",
        r.text
    );
    let form = serde_urlencoded::to_string([
        ("subject_token_type", AT),
        ("connection", "upstream"),
        ("subject_token", &bound),
        ("grant_type", FEDERATED),
        ("client_secret", &secret),
    ])
    .unwrap();
    let with_proof = |proof: String| {
        reqwest::Client::new()
            .post(&token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("dpop", proof)
            .body(form.clone())
            .send()
    };
    let other = DpopKey::new();
    assert_eq!(
        with_proof(other.proof("POST", &token_url, None, None)).await.unwrap().status(),
        400,
        "another key's proof"
    );
    let r = with_proof(key.proof("POST", &token_url, None, None)).await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(up.call_api(body["access_token"].as_str().unwrap()).await, (200, Some("bob".into())));
}

#[tokio::test]
async fn an_account_that_signs_in_counts_as_a_way_to_sign_in() {
    let (me, _up) = connected().await;
    let (started, code) = start(&me, &me.token, "bob").await;
    let r = complete(&me, &me.token, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await;
    let account = r.body["id"].as_str().unwrap().to_string();
    // "Continue with upstream" signs the user in: the password may go.
    let password = format!("/authentication-methods/password|{}", me.user_id);
    let r = me.call(Method::DELETE, &password, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    // Now the connected account is the last way in: removing it is refused, and keeps it.
    let r = me.call(Method::DELETE, &format!("/connected-accounts/accounts/{account}"), None).await;
    assert_eq!((r.status.as_u16(), error_type(&r)), (409, "A0E-409-0001".into()), "{}", r.text);
    assert_eq!(me.get("/connected-accounts/accounts").await.body["accounts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_account_that_cannot_sign_in_does_not_replace_the_password() {
    let (me, _up) = connected().await;
    let r = me.app.patch("/api/v2/connections/upstream", &me.mgmt, json!({"show_as_button": false})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (started, code) = start(&me, &me.token, "bob").await;
    assert_eq!(complete(&me, &me.token, &started["auth_session"], &code, Me::VERIFIER, CALLBACK).await.status, 201);
    let r = me.call(Method::DELETE, &format!("/authentication-methods/password|{}", me.user_id), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
}
