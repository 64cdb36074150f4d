//! DPoP proof ids outlive the process: one seen before a restart is refused after it, on both
//! backends (SQLite checks them in memory and saves them behind the requests).

#![expect(clippy::unwrap_used, reason = "a failing test should panic where it failed")]

use accountd_store::connect;
use accountd_store::testdb::{Backend, TestDb};

mod common;

/// Writes a proof id as a row of `dpop_proofs`, with plain SQL.
async fn in_the_table(db: &TestDb, key: &str, until: i64) {
    let sql = format!("INSERT INTO dpop_proofs (tenant_id, proof_key, expires_at) VALUES ('ten_a', $1, {until})");
    common::behind_the_back(db, &sql, key).await;
}

async fn survives_a_restart(backend: Backend) {
    let db = TestDb::new(backend).await;
    let now = accountd_core::clock::now_millis();
    let until = now + 300_000;
    let first = connect(&db.url, &Default::default(), true).await.unwrap();
    let t = common::tenant_a(&*first).await;
    assert!(first.remember_once(&t, "dpop:jkt:before", now, until).await.unwrap());
    assert!(!first.remember_once(&t, "dpop:jkt:before", now, until).await.unwrap(), "replay accepted");
    // A clean stop saves what is still queued.
    first.close().await;
    // A key checked in the table itself (what SQLite does past its in-memory cap).
    in_the_table(&db, "dpop:jkt:in-table", until).await;

    let second = connect(&db.url, &Default::default(), true).await.unwrap();
    assert!(!second.remember_once(&t, "dpop:jkt:before", now + 1, until).await.unwrap(), "replayed after a restart");
    assert!(!second.remember_once(&t, "dpop:jkt:in-table", now + 1, until).await.unwrap(), "a table row forgotten");
    assert!(second.remember_once(&t, "dpop:jkt:after", now + 1, until).await.unwrap());
    // Saved behind the request: a third process sees it too once it is written.
    tokio::time::sleep(accountd_store::seen_keys::FLUSH_EVERY * 5).await;
    let third = connect(&db.url, &Default::default(), true).await.unwrap();
    assert!(!third.remember_once(&t, "dpop:jkt:after", now + 2, until).await.unwrap(), "not saved in the background");
    second.close().await;
    third.close().await;
}

#[tokio::test]
async fn sqlite_proof_ids_survive_a_restart() {
    survives_a_restart(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_proof_ids_survive_a_restart() {
    survives_a_restart(Backend::Postgres).await;
}

/// Two PostgreSQL nodes spending the same proof ids at once, in opposite orders (so their batches
/// overlap): each id is accepted exactly once, and no batch fails on a deadlock.
#[tokio::test]
async fn postgres_nodes_accept_each_proof_id_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let a = connect(&db.url, &Default::default(), true).await.unwrap();
    let b = connect(&db.url, &Default::default(), true).await.unwrap();
    let t = common::tenant_a(&*a).await;
    let now = accountd_core::clock::now_millis();
    let keys: Vec<String> = (0..300).map(|i| format!("dpop:jkt:{i}")).collect();
    let mut calls = tokio::task::JoinSet::new();
    for (store, order) in [(&a, keys.clone()), (&b, keys.iter().rev().cloned().collect())] {
        for k in order {
            let (store, t) = (store.clone(), t.clone());
            calls.spawn(async move {
                let won = store.remember_once(&t, &k, now, now + 300_000).await.unwrap();
                (k, won)
            });
        }
    }
    let mut wins = std::collections::HashMap::new();
    while let Some(r) = calls.join_next().await {
        let (k, won) = r.unwrap();
        *wins.entry(k).or_insert(0) += u32::from(won);
    }
    assert!(keys.iter().all(|k| wins[k] == 1), "ids accepted other than once: {wins:?}");
    assert!(!a.remember_once(&t, "dpop:jkt:7", now, now + 300_000).await.unwrap(), "a replay on a third try");
    a.close().await;
    b.close().await;
}
