//! Guessing limits under parallel bursts, as an attacker sends them: every attempt counter
//! (password per identifier and IP, the per-IP spray budget, second-factor codes, enrollment
//! codes, code sends) gets no more guesses checked than its limit, on one node or two sharing the
//! database, and a right guess inside the burst is refused once the limit is reached.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::{EMAIL, Me, PASSWORD, signed_in_with};
use crate::util::browser::{Browser, Page};

const BURST: usize = 100;
const ATTACKER: &str = "203.0.113.7";
const ELSEWHERE: &str = "198.51.100.9";

/// Sends `BURST` posts to `urls` (round-robin: several nodes) at once: every one but the last
/// carries `wrong(i)`; the last carries `right` and is sent only once `limit` answers are back,
/// so it lands inside the burst after the limit was reached. Returns the answers to the wrong
/// ones and the answer to the right one.
async fn burst<F>(
    browser: &Arc<Browser>,
    urls: &[String],
    ip: &'static str,
    limit: usize,
    wrong: F,
    right: Vec<(&'static str, String)>,
) -> (Vec<Page>, Page)
where
    F: Fn(usize) -> Vec<(&'static str, String)>,
{
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..BURST - 1 {
        let (b, url, form, answered) = (browser.clone(), urls[i % urls.len()].clone(), wrong(i), answered.clone());
        tasks.push(tokio::spawn(async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = b.post_form_from(&url, &form, ip).await;
            answered.fetch_add(1, Ordering::SeqCst);
            page
        }));
    }
    let (b, url, a) = (browser.clone(), urls[0].clone(), answered.clone());
    let right = tokio::spawn(async move {
        while a.load(Ordering::SeqCst) < limit {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let form: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post_form_from(&url, &form, ip).await
    });
    let mut pages = Vec::new();
    for t in tasks {
        pages.push(t.await.unwrap());
    }
    (pages, right.await.unwrap())
}

/// Password checks that failed, as the audit log records each one it ran.
async fn failed_password_checks(me: &Me) -> i64 {
    me.app.sql_count("SELECT count(*) FROM audit_events WHERE action = 'user.sign_in' AND result = 'failure'").await
}

/// The account API's request limits out of the way of a burst (the attempt limits stay).
async fn raise_request_limits(me: &Me) {
    me.set_policy(json!({"rate_limits": {"tenant_reads_per_second": 1000, "tenant_writes_per_second": 1000,
                                         "user_reads_per_minute": 1000, "user_writes_per_minute": 1000}}))
        .await;
}

async fn sign_in_form(me: &Me) -> (Arc<Browser>, String) {
    let mut browser = Browser::new(me.app.port);
    let page = browser.get(&me.authorize_url(&[])).await;
    assert_eq!(page.status, 200, "{}", page.html);
    (Arc::new(browser), page.hidden("flow").unwrap())
}

/// Client IPs from `X-Forwarded-For`, and a hashing queue that admits the whole burst (a full
/// queue answers 503 before any counting; that has its own test).
fn trusting_proxies(c: &mut accountd::Config) {
    c.server.trust_forwarded_headers = true;
    c.passwords.hashing_queue = 2 * BURST;
}

async fn password_burst_on(me: &Me, logins: Vec<String>) {
    let (browser, flow) = sign_in_form(me).await;
    let form = |pw: &str| vec![("flow", flow.clone()), ("identifier", EMAIL.to_string()), ("password", pw.to_string())];
    let (pages, right) = burst(&browser, &logins, ATTACKER, 5, |i| form(&format!("wrong-{i}")), form(PASSWORD)).await;
    assert_eq!(failed_password_checks(me).await, 5, "a burst of {BURST} got more than 5 passwords checked");
    let odd: Vec<u16> = pages.iter().map(|p| p.status).filter(|s| *s != 401 && *s != 429).collect();
    assert!(odd.is_empty(), "answers other than 401 and 429: {odd:?}");
    assert_eq!(pages.iter().filter(|p| p.status == 401).count(), 4, "all but the locking guess say 'wrong'");
    assert_eq!(right.status, 429, "the right password inside the burst got through: {:?}", right.location);
    assert!(right.html.contains("Too many failed attempts"), "{}", right.html);
    // The lockout is the attacker's pair (identifier, IP): the user signs in from elsewhere.
    let mut user = Browser::new(me.app.port);
    let page = user.get(&me.authorize_url(&[])).await;
    let flow = page.hidden("flow").unwrap();
    let user = Arc::new(user);
    let done = user
        .post_form_from(&logins[0], &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)], ELSEWHERE)
        .await;
    assert_eq!(done.status, 302, "the victim was locked out from another IP: {}", done.html);
}

#[tokio::test]
async fn a_burst_of_wrong_passwords_gets_the_limit_checked_and_no_more() {
    let me = signed_in_with("127.0.0.1", trusting_proxies).await;
    password_burst_on(&me, vec![format!("{}/u/login", me.base)]).await;
    me.app.stop().await;
}

#[tokio::test]
async fn a_burst_spread_over_two_nodes_gets_the_limit_checked_and_no_more() {
    let me = signed_in_with("127.0.0.1", trusting_proxies).await;
    let node2 = me.app.another_node().await;
    password_burst_on(&me, vec![format!("{}/u/login", me.base), format!("http://127.0.0.1:{}/u/login", node2.port)])
        .await;
    node2.stop().await;
    me.app.stop().await;
}

#[tokio::test]
async fn a_spray_from_one_ip_is_slowed_down_not_locked_out() {
    let me = signed_in_with("127.0.0.1", |c| {
        trusting_proxies(c);
        c.sign_in.max_failures_per_ip = 5;
        c.sign_in.ip_refill_millis = 1500;
    })
    .await;
    let (browser, flow) = sign_in_form(&me).await;
    let login = format!("{}/u/login", me.base);
    let form = |who: String, pw: &str| vec![("flow", flow.clone()), ("identifier", who), ("password", pw.to_string())];
    // A spray: one guess each at many identifiers, from one IP, all at once; the right password of
    // a real user from the same IP (a shared NAT) comes inside it.
    let (pages, right) = burst(
        &browser,
        std::slice::from_ref(&login),
        ATTACKER,
        5,
        |i| form(format!("user{i}@example.com"), "guess"),
        form(EMAIL.into(), PASSWORD),
    )
    .await;
    assert_eq!(failed_password_checks(&me).await, 5, "the spray got more than the IP's budget checked");
    assert_eq!(pages.iter().filter(|p| p.status == 401).count(), 5);
    assert_eq!(right.status, 429, "{}", right.html);
    let wait: u64 = right.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=2).contains(&wait), "told to wait {wait} s");
    // Another IP is not slowed; and the one behind the sprayed IP gets in once a slot comes back.
    let f = [("flow", flow.as_str()), ("identifier", EMAIL), ("password", PASSWORD)];
    assert_eq!(browser.post_form_from(&login, &f, ELSEWHERE).await.status, 302);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let done = browser.post_form_from(&login, &f, ATTACKER).await;
    assert_eq!(done.status, 302, "the right password stayed locked out behind the sprayed IP: {}", done.html);
    me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_wrong_totp_codes_at_sign_in_gets_the_limit_checked_and_no_more() {
    let me = signed_in_with("127.0.0.1", |_| {}).await;
    let secret = me.enroll_totp().await;
    let mut b = Browser::new(me.app.port);
    let page = me.password_step(&mut b, &[]).await;
    assert!(page.html.contains("Enter the code"), "{}", page.html);
    let flow = page.hidden("flow").unwrap();
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    let wrong_code = |i: usize| {
        let n: u32 = code.parse().unwrap();
        format!("{:06}", (n + 1 + i as u32 * 7919) % 1_000_000)
    };
    let mfa = format!("{}/u/mfa", me.base);
    let b = Arc::new(b);
    let (pages, right) = burst(
        &b,
        &[mfa],
        ATTACKER,
        5,
        |i| vec![("flow", flow.clone()), ("code", wrong_code(i))],
        vec![("flow", flow.clone()), ("code", code.clone())],
    )
    .await;
    assert_eq!(pages.iter().filter(|p| p.status == 401).count(), 4, "more than 5 codes were checked");
    assert!(pages.iter().all(|p| p.status == 401 || p.status == 429));
    assert_eq!(right.status, 429, "the right code inside the burst got through: {:?}", right.location);
    me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_wrong_enrollment_codes_gets_the_limit_checked_and_no_more() {
    let me = signed_in_with("127.0.0.1", |_| {}).await;
    raise_request_limits(&me).await;
    let (r, location) = me.enroll(json!({"type": "totp"})).await;
    let session = r.body["auth_session"].as_str().unwrap().to_string();
    let secret = r.body["manual_input_code"].as_str().unwrap().to_string();
    let code = accountd_core::authn::totp::current_code(&secret).unwrap();
    let n: u32 = code.parse().unwrap();
    let verify = format!("{location}/verify");
    let tasks: Vec<_> = (0..BURST as u32)
        .map(|i| {
            let wrong = format!("{:06}", (n + 1 + i * 7919) % 1_000_000);
            let body = json!({"auth_session": session, "otp_code": wrong});
            let (client, url, token) = (reqwest::Client::new(), verify.clone(), me.token.clone());
            tokio::spawn(async move {
                let r = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
                (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
            })
        })
        .collect();
    let mut checked = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 400, "{body}");
        if body["detail"] == "The code is wrong or has expired." {
            checked += 1;
        }
    }
    assert_eq!(checked, 5, "a burst of {BURST} got {checked} enrollment codes checked");
    // Then even the right code is refused, and nothing was enrolled.
    let r = me.post(&verify, json!({"auth_session": session, "otp_code": code})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(!me.method_ids().await.iter().any(|id| id.starts_with("totp|")));
    me.app.stop().await;
}

#[tokio::test]
async fn a_burst_of_code_sends_to_one_address_sends_five() {
    let me = signed_in_with("127.0.0.1", |_| {}).await;
    raise_request_limits(&me).await;
    let tasks: Vec<_> = (0..BURST)
        .map(|_| {
            let (client, url, token) = (reqwest::Client::new(), me.url("/authentication-methods"), me.token.clone());
            tokio::spawn(async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"type": "email", "email": "inbox@example.com"}))
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        match t.await.unwrap() {
            202 => sent += 1,
            429 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(sent, 5, "a burst of {BURST} sent {sent} codes to one inbox");
    me.app.stop().await;
}

#[tokio::test]
async fn a_full_hashing_queue_answers_503_at_once_and_counts_nothing() {
    let me = signed_in_with("127.0.0.1", |c| {
        c.server.trust_forwarded_headers = true;
        c.sign_in.max_failures = 1000;
        c.passwords.hashing_workers = Some(1);
        c.passwords.hashing_queue = 2;
        // Slow enough that the burst overlaps.
        c.passwords.argon2_memory_kib = 8 * 1024;
        c.passwords.argon2_iterations = 3;
    })
    .await;
    let (browser, flow) = sign_in_form(&me).await;
    let login = format!("{}/u/login", me.base);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let (b, url, flow) = (browser.clone(), login.clone(), flow.clone());
            tokio::spawn(async move {
                let form = [("flow", flow.as_str()), ("identifier", EMAIL), ("password", &format!("wrong-{i}"))];
                b.post_form_from(&url, &form, ATTACKER).await
            })
        })
        .collect();
    let mut busy = 0;
    let mut checked = 0;
    for t in tasks {
        let p = t.await.unwrap();
        match p.status {
            503 => {
                busy += 1;
                assert_eq!(p.header("retry-after"), Some("1"));
                assert!(p.html.contains("The server is busy"), "{}", p.html);
            }
            401 => checked += 1,
            other => panic!("unexpected {other}: {}", p.html),
        }
    }
    assert!(busy > 0, "30 parallel sign-ins never filled a pool of 1 worker and 2 waiting");
    assert_eq!(failed_password_checks(&me).await, checked, "a refused sign-in was counted or checked");
    // Once the burst is over the pool takes sign-ins again.
    let mut user = Browser::new(me.app.port);
    let page = user.get(&me.authorize_url(&[])).await;
    let flow = page.hidden("flow").unwrap();
    let done = user.post_form(&login, &[("flow", &flow), ("identifier", EMAIL), ("password", PASSWORD)]).await;
    assert_eq!(done.status, 302, "{}", done.html);
    me.app.stop().await;
}
