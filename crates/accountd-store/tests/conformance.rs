//! The storage conformance suite (`accountd_core::store::conformance`) on every backend: one test
//! per (contract, backend), each on a fresh database, so a failure names both.

use accountd_core::store::conformance;
use accountd_store::testdb::{Backend, TestDb};

async fn run(contract: &str, backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = accountd_store::connect(&db.url, &Default::default(), true).await.expect("connect");
    conformance::run(contract, &*store).await;
    store.close().await;
}

macro_rules! contracts {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::run(stringify!($name), super::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::run(stringify!($name), super::Backend::Postgres).await })*
        }
        /// Every contract the suite defines is stamped out here.
        #[test]
        fn every_contract_runs() {
            let here = [$(stringify!($name)),*];
            assert_eq!(here.as_slice(), conformance::CONTRACTS);
        }
    };
}

contracts!(
    tenants,
    users,
    applications,
    apis,
    client_grants,
    roles,
    signing_keys,
    audit_events,
    transactions,
    sessions,
    grants_and_revocations,
    access_tokens,
    throttle,
    replay,
    consents,
    connectors,
    pending_verifications,
    method_lists,
    verification_records,
    tenant_settings,
    shown_users,
    mfa_settings,
    webauthn_records,
    upstream_identities,
    method_cap
);

/// Both migration folders must list the same files, so the backends never drift apart.
#[test]
fn migration_folders_match() {
    let names = |dir: &str| {
        let mut v: Vec<_> = std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .expect("migrations dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(names("sqlite"), names("postgres"));
}
