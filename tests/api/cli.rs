//! The `accountd` binary itself: first start, restart, clean shutdown, and `admin` commands.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use accountd_store::testdb::{Backend, TestDb};

const BIN: &str = env!("CARGO_BIN_EXE_accountd");

/// Runs the binary with a data dir and database, returning (status, stdout, stderr).
fn run(dir: &std::path::Path, db: &str, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("ACCOUNTD_STORAGE__DATA_DIR", dir)
        .env("ACCOUNTD_STORAGE__DATABASE_URL", db)
        .env("ACCOUNTD_PASSWORDS__ARGON2_MEMORY_KIB", "1024")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn accountd");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `serve`, waits for `/readyz`, returns the child and its stdout so far.
pub(crate) fn serve(dir: &std::path::Path, db: &str, port: u16) -> (std::process::Child, String) {
    serve_with(dir, db, port, &[], &[], Stdio::null())
}

/// [`serve`] with more arguments and environment, its log (stderr) going to `log`.
pub(crate) fn serve_with(
    dir: &std::path::Path,
    db: &str,
    port: u16,
    args: &[&str],
    env: &[(&str, &str)],
    log: Stdio,
) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env("ACCOUNTD_STORAGE__DATA_DIR", dir)
        .env("ACCOUNTD_STORAGE__DATABASE_URL", db)
        .env("ACCOUNTD_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let mut out = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    // The banner ends with a blank line after the credentials, or is one line on restart.
    let start = Instant::now();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || start.elapsed() > Duration::from_secs(20) {
            break;
        }
        out.push_str(&line);
        if line.starts_with("accountd ") {
            // Give the bootstrap banner (if any) a moment, then stop reading.
            std::thread::sleep(Duration::from_millis(200));
            break;
        }
    }
    std::thread::spawn(move || {
        let mut rest = String::new();
        while reader.read_line(&mut rest).unwrap_or(0) > 0 {}
    });
    (child, out)
}

pub(crate) fn stop(child: &mut std::process::Child) -> bool {
    // SIGINT, like Ctrl-C.
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    false
}

#[tokio::test]
async fn first_start_prints_credentials_once_and_restart_reuses_the_data() {
    // reqwest's rustls has no built-in provider (crate accountd-connectors): install ring first.
    accountd_connectors::install_crypto_provider();
    let db = TestDb::new(Backend::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = if db.url.starts_with("sqlite") { String::new() } else { db.url.clone() };
    let port = free_port();
    let (mut child, out) = serve(&data, &url, port);
    assert!(out.contains(&format!("listening on http://127.0.0.1:{port}")), "{out}");
    let secret_line = out.lines().find(|l| l.contains("client_secret:")).expect("credentials printed on first start");
    let secret = secret_line.split_whitespace().last().unwrap().to_string();
    let health = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(stop(&mut child), "Ctrl-C exits cleanly");

    // The master key file is owner-only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("master.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    if url.is_empty() {
        assert!(data.join("accountd.db").exists(), "SQLite database in ./data");
    }

    let (mut child, out) = serve(&data, &url, port);
    assert!(!out.contains("client_secret"), "credentials printed again on restart: {out}");
    // The same credentials still work: the data was reused.
    let client_id = {
        let (_, listed, _) = run(&data, &url, &["admin", "client", "list", "--json"], None);
        let v: serde_json::Value = serde_json::from_str(&listed).unwrap();
        v[0]["client_id"].as_str().unwrap().to_string()
    };
    let token = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/oauth/token"))
        .json(&serde_json::json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                                  "audience": format!("http://127.0.0.1:{port}/api/v2/")}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    assert!(stop(&mut child));

    // Without its master key the data cannot be opened: refuse to start rather than fail later.
    std::fs::rename(data.join("master.key"), dir.path().join("key.bak")).unwrap();
    let (ok, _, err) = run(&data, &url, &["admin", "tenant", "list"], None);
    assert!(!ok);
    assert!(err.contains("sealed under a master key"), "{err}");
    assert!(!data.join("master.key").exists(), "a stray new key was left behind");
}

#[tokio::test]
async fn admin_commands_work_on_the_database() {
    let db = TestDb::new(Backend::from_env()).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = if db.url.starts_with("sqlite") { String::new() } else { db.url.clone() };
    let admin = |args: &[&str], stdin: Option<&str>| {
        let mut full = vec!["admin", "--json"];
        full.extend_from_slice(args);
        let (ok, out, err) = run(&data, &url, &full, stdin);
        assert!(ok, "{args:?} failed: {err}");
        // The first command on a fresh database also prints the bootstrap banner; JSON is the last line.
        serde_json::from_str::<serde_json::Value>(out.lines().last().unwrap_or("null")).unwrap()
    };
    let t = admin(&["tenant", "create", "--name", "Acme", "--domain", "login.acme.test"], None);
    assert_eq!(t["domains"], serde_json::json!(["login.acme.test"]));
    assert!(t["client_secret"].as_str().unwrap().len() >= 64);
    let list = admin(&["tenant", "list"], None);
    assert_eq!(list.as_array().unwrap().len(), 2);
    admin(&["--tenant", "login.acme.test", "tenant", "add-domain", "--domain", "id.acme.test"], None);

    let c =
        admin(&["client", "create", "--name", "Web", "--type", "spa", "--callback", "http://localhost:3000/cb"], None);
    let cid = c["client_id"].as_str().unwrap().to_string();
    assert!(c["client_secret"].is_null());
    let u =
        admin(&["user", "create", "--email", "ada@example.com", "--password-stdin"], Some("correct horse battery\n"));
    assert!(u["user_id"].as_str().unwrap().starts_with("auth0|"));
    admin(&["user", "set-password", "--user", "ada@example.com"], Some("another good password\n"));
    let g = admin(
        &[
            "client-grant",
            "create",
            "--client",
            &cid,
            "--audience",
            "http://127.0.0.1:8080/me/",
            "--scope",
            "read:me:authentication_methods,read:me:factors",
        ],
        None,
    );
    assert_eq!(g["scope"], serde_json::json!(["read:me:authentication_methods", "read:me:factors"]));
    let r = admin(&["role", "create", "--name", "support"], None);
    admin(&["role", "assign", "--role", r["id"].as_str().unwrap(), "--user", "ada@example.com"], None);
    let users = admin(&["user", "list"], None);
    assert_eq!(users["total"], 1);
    let k = admin(&["key", "rotate"], None);
    assert_eq!(k["alg"], "RS256");
    // The account center: off by default; fields given replace all; the same settings as the API's.
    let c = admin(&["account-center"], None);
    assert_eq!((c["enabled"].clone(), c["fields"].clone()), (serde_json::json!(false), serde_json::json!({})));
    let c =
        admin(&["account-center", "--enabled", "true", "--field", "username=Edit", "--field", "name=ReadOnly"], None);
    assert_eq!(c["fields"], serde_json::json!({"name": "ReadOnly", "username": "Edit"}));
    let c = admin(&["account-center", "--field", "customData=Edit"], None);
    assert_eq!(
        (c["enabled"].clone(), c["fields"].clone()),
        (serde_json::json!(true), serde_json::json!({"customData": "Edit"}))
    );
    let (ok, _, err) = run(&data, &url, &["admin", "account-center", "--field", "name=Writable"], None);
    assert!(!ok && err.contains("Off, ReadOnly or Edit"), "{err}");

    // Upstream connections: the secret from standard input, never printed back.
    let c = admin(
        &[
            "connection",
            "add",
            "--name",
            "upstream",
            "--issuer",
            "http://127.0.0.1:9",
            "--client-id",
            "accountd",
            "--scope",
            "email",
            "--token-vault",
            "--sign-in",
        ],
        Some("a-client-secret-from-stdin\n"),
    );
    assert!(c["id"].as_str().unwrap().starts_with("con_"), "{c}");
    let listed = admin(&["connection", "list"], None);
    assert_eq!(listed[0]["name"], "upstream");
    assert_eq!(
        (listed[0]["token_vault"].clone(), listed[0]["sign_in"].clone()),
        (serde_json::json!(true), serde_json::json!(true))
    );
    assert!(!listed.to_string().contains("a-client-secret-from-stdin"), "the secret was printed");
    let (ok, _, err) = run(
        &data,
        &url,
        &["admin", "connection", "add", "--name", "x", "--strategy", "oauth2", "--client-id", "c"],
        Some("s\n"),
    );
    assert!(!ok && err.contains("authorization_endpoint"), "{err}");
    admin(&["connection", "delete", "--id", "upstream"], None);
    assert_eq!(admin(&["connection", "list"], None), serde_json::json!([]));

    // Errors are clear and exit non-zero.
    let (ok, _, err) = run(&data, &url, &["admin", "user", "create", "--email", "ada@example.com"], None);
    assert!(!ok);
    assert!(err.contains("conflict"), "{err}");
    let (ok, _, err) =
        run(&data, &url, &["admin", "user", "set-password", "--user", "ada@example.com"], Some("short\n"));
    assert!(!ok);
    assert!(err.contains("at least 8"), "{err}");
}

#[test]
fn version_and_bad_configuration() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("accountd "));
    let out = Command::new(BIN).arg("config").env("ACCOUNTD_SERVER__PUBLIC_SCHEME", "gopher").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("public_scheme"));
    let out = Command::new(BIN).arg("config").env("ACCOUNTD_SECURITY__MASTER_KEY", "c2VjcmV0").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("<redacted>") && !text.contains("c2VjcmV0"), "{text}");
}
