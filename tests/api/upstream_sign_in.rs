//! "Continue with …" on the hosted sign-in page, against a real upstream OpenID provider: a first
//! sign-in creates the user, later ones sign the same user in, a provider-verified email links to
//! an existing user only where the connection allows it, and an unverified one never does.

use reqwest::Method;
use serde_json::{Value, json};

use crate::me::{CALLBACK, CHALLENGE, Me, signed_in};
use crate::util::browser::Browser;
use crate::util::upstream::{Upstream, as_account};

/// Signs in through connection `connection` as upstream account `who`, in `browser`: the
/// authorization code the app gets back.
async fn continue_with(me: &Me, browser: &mut Browser, connection: &str, who: &str) -> Result<String, (u16, String)> {
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile email"),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let page = browser.get(&format!("{}/authorize?{}", me.base, serde_urlencoded::to_string(params).unwrap())).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let needle = format!("href=\"/u/upstream?connection={connection}&amp;");
    let start = page.html.find(&needle).unwrap_or_else(|| panic!("no Continue with {connection}: {}", page.html)) + 6;
    let end = page.html[start..].find('"').unwrap() + start;
    let href = page.html[start..end].replace("&amp;", "&");
    let mut hop = browser.get(&format!("{}{href}", me.base)).await;
    assert_eq!(hop.status, 302, "{}", hop.html);
    let mut url = as_account(hop.location.as_deref().unwrap(), who);
    // Through the upstream (its own cookies) back to accountd's callback, then to the app.
    for _ in 0..12 {
        hop = browser.get(&url).await;
        let Some(next) = hop.location.clone() else { return Err((hop.status, hop.html)) };
        let next = reqwest::Url::parse(&url).unwrap().join(&next).unwrap().to_string();
        if next.starts_with(CALLBACK) {
            return Ok(crate::util::upstream::query(&next)["code"].clone());
        }
        url = next;
    }
    panic!("too many redirects");
}

/// The userinfo of the user an authorization code signs in.
async fn who_signed_in(me: &Me, code: &str) -> Value {
    let t = me.exchange(code).await;
    assert!(t["id_token"].is_string());
    let r = me
        .app
        .request(Method::GET, &format!("{}/userinfo", me.base), Some(t["access_token"].as_str().unwrap()), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

#[tokio::test]
async fn a_new_user_signs_up_and_back_in_with_the_upstream() {
    let me = signed_in("127.0.0.1").await;
    let up = Upstream::start(60).await;
    let mut body = up.connection("upstream", false);
    body["display_name"] = json!("Upstream IdP");
    assert_eq!(me.app.post("/api/v2/connections", &me.mgmt, body).await.status, 201);
    let mut hidden = up.connection("hidden", false);
    hidden["show_as_button"] = json!(false);
    assert_eq!(me.app.post("/api/v2/connections", &me.mgmt, hidden).await.status, 201);

    let mut browser = Browser::new(me.app.port);
    let page = browser
        .get(&format!(
            "{}/authorize?{}",
            me.base,
            serde_urlencoded::to_string([
                ("response_type", "code"),
                ("client_id", me.client_id.as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256")
            ])
            .unwrap()
        ))
        .await;
    assert!(page.html.contains("Continue with Upstream IdP"), "{}", page.html);
    assert!(!page.html.contains("connection=hidden"), "a connection without a button is offered");

    let code = continue_with(&me, &mut browser, "upstream", "grace").await.expect("signed in");
    let first = who_signed_in(&me, &code).await;
    assert_eq!(first["email"], json!("grace@upstream.test"), "{first}");
    assert_eq!(first["email_verified"], json!(true));
    assert_ne!(first["sub"], json!(me.user_id));
    let users = me.app.get("/api/v2/users?per_page=100", &me.mgmt).await;
    assert_eq!(users.body.as_array().unwrap().len(), 2, "{}", users.text);

    // Later sign-ins, in another browser, are the same user.
    let mut other = Browser::new(me.app.port);
    let code = continue_with(&me, &mut other, "upstream", "grace").await.expect("signed in again");
    assert_eq!(who_signed_in(&me, &code).await["sub"], first["sub"]);
    assert_eq!(me.app.get("/api/v2/users?per_page=100", &me.mgmt).await.body.as_array().unwrap().len(), 2);
    let logs = me.app.get("/api/v2/logs?per_page=100", &me.mgmt).await;
    assert!(
        logs.text.contains("user.sign_up.upstream") && logs.text.contains("user.sign_in.upstream"),
        "{}",
        logs.text
    );
}

#[tokio::test]
async fn a_verified_email_links_only_where_allowed_and_an_unverified_one_never() {
    let me = signed_in("127.0.0.1").await;
    let up = Upstream::start(60).await;
    assert_eq!(me.app.post("/api/v2/connections", &me.mgmt, up.connection("plain", false)).await.status, 201);
    let mut linking = up.connection("linking", false);
    linking["options"]["link_by_verified_email"] = json!(true);
    assert_eq!(me.app.post("/api/v2/connections", &me.mgmt, linking).await.status, 201);
    let locals = [("carol@upstream.test", true), ("unverified-dan@upstream.test", true), ("erin@upstream.test", false)];
    for (email, verified) in locals {
        let body = json!({"email": email, "email_verified": verified, "password": "a long enough password"});
        let r = me.app.post("/api/v2/users", &me.mgmt, body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let carol =
        me.app.get("/api/v2/users-by-email?email=carol@upstream.test", &me.mgmt).await.body[0]["user_id"].clone();

    // Without the connection's consent, the same email makes a new user, without the email.
    let code = continue_with(&me, &mut Browser::new(me.app.port), "plain", "carol").await.unwrap();
    let stranger = who_signed_in(&me, &code).await;
    assert_ne!(stranger["sub"], carol);
    assert!(stranger.get("email").is_none_or(Value::is_null), "an email another user has was copied: {stranger}");
    // With it, the provider-verified email links to carol.
    let code = continue_with(&me, &mut Browser::new(me.app.port), "linking", "carol").await.unwrap();
    assert_eq!(who_signed_in(&me, &code).await["sub"], carol);
    // An unverified upstream email never links.
    let dan =
        me.app.get("/api/v2/users-by-email?email=unverified-dan@upstream.test", &me.mgmt).await.body[0]["user_id"]
            .clone();
    let code = continue_with(&me, &mut Browser::new(me.app.port), "linking", "unverified-dan").await.unwrap();
    assert_ne!(who_signed_in(&me, &code).await["sub"], dan, "an unverified upstream email was trusted");
    // Nor does a verified upstream email reach an account whose own address was never verified.
    let erin = me.app.get("/api/v2/users-by-email?email=erin@upstream.test", &me.mgmt).await.body[0]["user_id"].clone();
    let code = continue_with(&me, &mut Browser::new(me.app.port), "linking", "erin").await.unwrap();
    assert_ne!(who_signed_in(&me, &code).await["sub"], erin, "an unverified local account received the sign-in");
}

#[tokio::test]
async fn a_callback_works_once_and_only_in_the_browser_that_started_it() {
    let me = signed_in("127.0.0.1").await;
    let up = Upstream::start(60).await;
    assert_eq!(me.app.post("/api/v2/connections", &me.mgmt, up.connection("upstream", false)).await.status, 201);
    let mut browser = Browser::new(me.app.port);
    let params = [
        ("response_type", "code"),
        ("client_id", me.client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let page = browser.get(&format!("{}/authorize?{}", me.base, serde_urlencoded::to_string(params).unwrap())).await;
    let start = page.html.find("href=\"/u/upstream?").unwrap() + 6;
    let href = page.html[start..page.html[start..].find('"').unwrap() + start].replace("&amp;", "&");
    // Another browser cannot start it with this page's form.
    assert_eq!(Browser::new(me.app.port).get(&format!("{}{href}", me.base)).await.status, 403);
    let hop = browser.get(&format!("{}{href}", me.base)).await;
    let callback =
        crate::util::upstream::follow(hop.location.as_deref().unwrap(), &format!("{}/u/upstream/callback", me.base))
            .await;
    // The provider's answer carried into another browser signs nobody in there.
    let stolen = Browser::new(me.app.port).get(&callback).await;
    assert_eq!(stolen.status, 403, "{}", stolen.html);
    assert_eq!(
        me.app.get("/api/v2/users?per_page=100", &me.mgmt).await.body.as_array().unwrap().len(),
        1,
        "a refusal made a user"
    );
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 302, "{}", done.html);
    assert!(done.param("code").is_some());
    let again = browser.get(&callback).await;
    assert_eq!(again.status, 400, "a callback signed in twice: {}", again.html);
}
