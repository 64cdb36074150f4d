//! The security timeline (issue 15, point 2): what happened to the account, newest first, in plain
//! words, read through Logto's dialect (`GET /api/my-account/security-events`, `page`/`page_size`,
//! `Total-Number`) and Auth0's (`GET /me/v1/security-events`, `from`/`take`/`next`), each behind
//! its own scope, and only ever the caller's own events.

use reqwest::Method;
use serde_json::{Value, json};

use super::{ALL_SCOPES, Account, account, assert_error};
use crate::me::{EMAIL, PASSWORD};
use crate::util::browser::Browser;

const TIMELINE_SCOPE: &str = "urn:accountd:scope:security_events";

/// The hosted sign-in form posted with `password` from a browser naming itself `agent`; whether
/// it signed in.
async fn sign_in_form(a: &Account, password: &str, agent: &str) -> bool {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::USER_AGENT, agent.parse().unwrap());
    let mut browser = Browser::with_headers(a.me.app.port, headers);
    let params = [
        ("response_type", "code"),
        ("client_id", a.me.client_id.as_str()),
        ("redirect_uri", crate::me::CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("code_challenge", crate::me::CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let page = browser.get(&format!("{}/authorize?{}", a.me.base, serde_urlencoded::to_string(params).unwrap())).await;
    let flow = page.hidden("flow").expect("sign-in form");
    let done = browser
        .post_form(&format!("{}/u/login", a.me.base), &[("flow", &flow), ("identifier", EMAIL), ("password", password)])
        .await;
    done.param("code").is_some()
}

const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
const PHONE: &str = "Mozilla/5.0 (Linux; Android 15) Chrome/140.0 Mobile";

fn types(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_timeline_shows_what_happened_newest_first_in_both_dialects() {
    let a = account().await;
    let token = a.token_for(&format!("{ALL_SCOPES} {TIMELINE_SCOPE}")).await;
    // Another user of the tenant, whose events must never show.
    let r =
        a.me.app
            .post("/api/v2/users", &a.me.mgmt, json!({"email": "bob@example.com", "password": "another Passw0rd!"}))
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    a.token_as("bob@example.com", "another Passw0rd!", "openid").await;

    assert!(!sign_in_form(&a, "not the password", LAPTOP).await, "a wrong password signed in");
    let record = a.password_record().await;
    let r = a.call(Method::PATCH, "/api/my-account", Some(json!({"name": "Ada King"})), Some(&record)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = a
        .call(Method::POST, "/api/my-account/password", Some(json!({"password": "a new Passw0rd!"})), Some(&record))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);

    // Logto's dialect: an array, newest first, the total in a header.
    let r = a.send(&token, Method::GET, "/api/my-account/security-events", None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let all = r.body.clone();
    let kinds = types(&all);
    assert_eq!(kinds[..4], ["password_changed", "profile_changed", "identity_confirmed", "sign_in_refused"], "{all:#}");
    assert!(kinds[4..].iter().all(|k| ["signed_in", "account_created"].contains(k)), "{kinds:?}");
    assert_eq!(*kinds.last().unwrap(), "account_created");
    assert_eq!(r.header("total-number"), Some(kinds.len().to_string().as_str()));
    let first = &all[0];
    assert_eq!(first["description"], "Your password was changed");
    assert!(first["createdAt"].as_i64().unwrap() > 1_700_000_000_000, "{first}");
    assert!(first["ip"].is_string(), "{first}");
    assert_eq!(all[1]["details"]["changed"], json!(["name"]), "{all:#}");
    assert_eq!(all[3]["description"], "A sign-in with a wrong password was refused");
    let signed_in = all.as_array().unwrap().iter().find(|e| e["type"] == "signed_in").unwrap();
    assert_eq!(signed_in["description"], "Signed in with your password");
    assert_eq!(signed_in["details"], json!({"method": "pwd"}), "no session id or other internals");
    // Only this user's events (Bob signed in once, and was created).
    let n = kinds.len();
    let stored = a.me.app.sql_count("SELECT count(*) FROM audit_events").await as usize;
    assert!(stored > n, "Bob's and the tenant's events are in the table, not in Ada's timeline");
    let text = all.to_string();
    assert!(!text.contains("bob@example.com") && !text.contains(PASSWORD), "{text}");

    // Paging: pages of two read the whole list in order.
    let mut paged = Vec::new();
    for page in 1..=n.div_ceil(2) {
        let path = format!("/api/my-account/security-events?page={page}&page_size=2");
        let r = a.send(&token, Method::GET, &path, None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("total-number"), Some(n.to_string().as_str()));
        paged.extend(r.body.as_array().unwrap().iter().cloned());
    }
    assert_eq!(Value::Array(paged), all);
    let r = a.send(&token, Method::GET, "/api/my-account/security-events?page=99", None, &[]).await;
    assert_eq!((r.status.as_u16(), r.body.clone()), (200, json!([])));

    // Bad paging, and a token without the timeline's scope, in Logto's error format.
    for bad in ["page=0", "page_size=0", "page_size=101", "page=x", "pageSize=2"] {
        let r = a.send(&token, Method::GET, &format!("/api/my-account/security-events?{bad}"), None, &[]).await;
        assert_error(&r, 400, "guard.invalid_input");
    }
    let r = a.get("/api/my-account/security-events").await;
    assert_eq!(r.status, 401, "without {TIMELINE_SCOPE}: {}", r.text);

    // Auth0's dialect: the same entries, `from`/`take` and a `next` cursor.
    let r = a.me.get("/security-events?take=20").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let events = r.body["security_events"].as_array().unwrap().clone();
    // The /me/v1 token's own sign-in came before the rest; the lists agree on what they share.
    let ids = |list: &[Value]| list.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let logto_ids = ids(all.as_array().unwrap());
    assert_eq!(ids(&events[..4]), logto_ids[..4]);
    assert_eq!(events[0]["type"], "password_changed");
    assert_eq!(events[0]["description"], "Your password was changed");
    assert!(events[0]["created_at"].as_str().unwrap().ends_with('Z'), "ISO 8601: {}", events[0]);
    let mut walked = Vec::new();
    let mut from: Option<String> = None;
    loop {
        let path = match &from {
            Some(f) => format!("/security-events?take=3&from={f}"),
            None => "/security-events?take=3".to_string(),
        };
        let r = a.me.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        walked.extend(r.body["security_events"].as_array().unwrap().iter().cloned());
        match r.body["next"].as_str() {
            Some(next) => from = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(walked, events, "the cursor walks the whole timeline once, in order");
    let r = a.me.get("/security-events?take=0").await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/take");
    // A /me/v1 token without read:me:security_events is refused in that dialect's format.
    let narrow = a.me.sign_in_as(EMAIL, "a new Passw0rd!", "read:me:profile").await;
    let r = crate::account::send_to(&a.me.base, &narrow, Method::GET, "/me/v1/security-events", None, &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);

    // A sign-in from a browser the user has signed in with is plain; from another, it is marked.
    assert!(sign_in_form(&a, "a new Passw0rd!", LAPTOP).await);
    assert!(sign_in_form(&a, "a new Passw0rd!", LAPTOP).await);
    assert!(sign_in_form(&a, "a new Passw0rd!", PHONE).await);
    let r = a.send(&token, Method::GET, "/api/my-account/security-events?page_size=3", None, &[]).await;
    let [phone, laptop, _] = r.body.as_array().unwrap().as_slice() else { panic!("{}", r.text) };
    assert_eq!(phone["details"]["new_device"], true, "{phone}");
    assert_eq!(phone["userAgent"], PHONE);
    assert!(phone["description"].as_str().unwrap().ends_with("from a browser or device not seen lately"), "{phone}");
    assert_eq!(laptop["description"], "Signed in with your password, using Firefox on Linux", "{laptop}");
    assert_eq!(laptop["device"], json!({"browser": "Firefox", "os": "Linux", "category": "pc"}));
    assert_eq!(phone["device"]["os"], "Android", "{phone}");
    assert_eq!(phone["device"]["category"], "smartphone", "{phone}");

    // Five wrong passwords from one address pause sign-in there: the timeline says so, and how long.
    for _ in 0..5 {
        assert!(!sign_in_form(&a, "still not the password", PHONE).await);
    }
    let r = a.send(&token, Method::GET, "/api/my-account/security-events?page_size=5", None, &[]).await;
    assert_eq!(
        types(&r.body),
        ["sign_in_locked", "sign_in_refused", "sign_in_refused", "sign_in_refused", "sign_in_refused"]
    );
    let locked = r.body[0]["description"].as_str().unwrap();
    assert!(
        locked.starts_with("Too many wrong passwords from one address: sign-in from there is paused for "),
        "{locked}"
    );
    a.me.app.stop().await;
}

/// Refreshes with `refresh_token` at the token endpoint; the status.
async fn refresh(a: &Account, refresh_token: &str) -> u16 {
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", a.me.base))
        .json(&json!({"grant_type": "refresh_token", "client_id": a.me.client_id, "refresh_token": refresh_token}))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn this_wasnt_me_ends_every_other_session_replaces_the_password_and_tells_the_operator() {
    let a = account().await;
    let token = a.token_for(&format!("{ALL_SCOPES} {TIMELINE_SCOPE}")).await;
    // Someone else signs in with the password: an access token and a refresh token of their own.
    let code = a.me.authorization_code_with(EMAIL, PASSWORD, &format!("{ALL_SCOPES} {TIMELINE_SCOPE}"), None).await;
    let theirs = a.me.exchange(&code).await;
    let (their_access, their_refresh) =
        (theirs["access_token"].as_str().unwrap().to_string(), theirs["refresh_token"].as_str().unwrap().to_string());
    let r = a.send(&token, Method::GET, "/api/my-account/security-events", None, &[]).await;
    let their_sign_in = r.body.as_array().unwrap().iter().find(|e| e["type"] == "signed_in").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let account_created = r.body.as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_string();
    let report = |id: &str| format!("/api/my-account/security-events/{id}/report");

    // Refusals, in Logto's format, change nothing.
    let r =
        a.send(&token, Method::POST, &report(&their_sign_in), Some(json!({"password": "a new Passw0rd!"})), &[]).await;
    assert_error(&r, 401, "verification_record.permission_denied");
    let record = a.password_record().await;
    let with_record = [("logto-verification-id", record.as_str())];
    let r = a.send(&token, Method::POST, &report(&their_sign_in), Some(json!({})), &with_record).await;
    assert_error(&r, 400, "guard.invalid_input");
    assert!(r.text.contains("a new password is required"), "{}", r.text);
    let r = a
        .send(
            &token,
            Method::POST,
            &report(&account_created),
            Some(json!({"password": "a new Passw0rd!"})),
            &with_record,
        )
        .await;
    assert_error(&r, 400, "guard.invalid_input");
    let r = a
        .send(
            &token,
            Method::POST,
            &report("0000000000000000000000nope"),
            Some(json!({"password": "a new Passw0rd!"})),
            &with_record,
        )
        .await;
    assert_error(&r, 404, "security_event.not_found");
    let r =
        a.send(&token, Method::POST, &report(&their_sign_in), Some(json!({"password": PASSWORD})), &with_record).await;
    assert_eq!(r.status, 422, "the same password again: {}", r.text);
    let r = a.call_with(&their_access, Method::GET, "/api/my-account", None, None).await;
    assert_eq!(r.status, 200, "nothing was ended by the refusals");

    // The report: every other session and its tokens end at once, the password is replaced.
    let r = a
        .send(&token, Method::POST, &report(&their_sign_in), Some(json!({"password": "a new Passw0rd!"})), &with_record)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["eventId"], their_sign_in.as_str());
    assert_eq!(r.body["eventType"], "signed_in");
    assert_eq!(r.body["passwordReplaced"], true);
    assert!(r.body["sessionsEnded"].as_i64().unwrap() >= 2, "theirs and the /me/v1 one: {}", r.text);
    let r = a.call_with(&their_access, Method::GET, "/api/my-account", None, None).await;
    assert_eq!(r.status, 401, "their access token still works: {}", r.text);
    assert_eq!(refresh(&a, &their_refresh).await, 400, "their refresh token still works");
    assert_eq!(a.me.get("/profile").await.status, 401, "another session's /me/v1 token still works");
    assert!(!sign_in_form(&a, PASSWORD, LAPTOP).await, "the old password still signs in");
    assert!(sign_in_form(&a, "a new Passw0rd!", LAPTOP).await, "the new password does not sign in");
    // The reporting session stays, and its timeline says what happened.
    let r = a.send(&token, Method::GET, "/api/my-account/security-events?page_size=5", None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types(&r.body)[..2], ["signed_in", "sign_in_refused"], "the two sign-ins just made: {:#}", r.body);
    assert_eq!(types(&r.body)[2..], ["reported_not_me", "sessions_ended", "password_changed"], "{:#}", r.body);
    // Once per entry.
    let r = a
        .send(&token, Method::POST, "/api/verifications/password", Some(json!({"password": "a new Passw0rd!"})), &[])
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let record = r.body["verificationRecordId"].as_str().unwrap().to_string();
    let r = a
        .send(
            &token,
            Method::POST,
            &report(&their_sign_in),
            Some(json!({"password": "a third Passw0rd!"})),
            &[("logto-verification-id", &record)],
        )
        .await;
    assert_error(&r, 422, "security_event.already_reported");
    assert!(sign_in_form(&a, "a new Passw0rd!", LAPTOP).await, "a refused report replaced the password");

    // The operator sees the report.
    let r = a.me.app.get("/api/v2/security-reports?include_totals=true", &a.me.mgmt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 1);
    let kept = &r.body["security_reports"][0];
    assert_eq!(
        (kept["user_id"].as_str(), kept["event_id"].as_str()),
        (Some(a.me.user_id.as_str()), Some(their_sign_in.as_str()))
    );
    assert_eq!(kept["password_replaced"], true);

    // Auth0's dialect: the same report from /me/v1, after a recent sign-in.
    let me_token = a.me.sign_in_as(EMAIL, "a new Passw0rd!", &crate::me::ME_SCOPES.join(" ")).await;
    let me = crate::account::send_to;
    let r = me(&a.me.base, &me_token, Method::GET, "/me/v1/security-events?take=1", None, &[]).await;
    let latest = r.body["security_events"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/me/v1/security-events/{latest}/report");
    let r = me(&a.me.base, &me_token, Method::POST, &path, Some(json!({"pasword": "x"})), &[]).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["validation_errors"][0]["pointer"], "/pasword");
    // A burst of the same report: one acts, the others are refused.
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let (base, token, path) = (a.me.base.clone(), me_token.clone(), path.clone());
            tokio::spawn(async move {
                me(&base, &token, Method::POST, &path, Some(json!({"password": "a third Passw0rd!"})), &[]).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in burst {
        answers.push(t.await.unwrap());
    }
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [201, 409].contains(s)), "{statuses:?}");
    let r = answers.into_iter().find(|r| r.status == 201).unwrap();
    assert_eq!(r.body["event_id"], latest.as_str());
    assert!(r.body["reported_at"].as_str().unwrap().ends_with('Z'));
    let r = a.send(&token, Method::GET, "/api/my-account/security-events", None, &[]).await;
    assert_eq!(r.status, 401, "the Logto session is another session now: {}", r.text);
    let narrow = a.me.sign_in_as(EMAIL, "a third Passw0rd!", "read:me:security_events").await;
    let r = me(&a.me.base, &narrow, Method::POST, &path, Some(json!({"password": "a fourth Passw0rd!"})), &[]).await;
    assert_eq!(r.status, 403, "{}", r.text);
    a.me.app.stop().await;
}
