//! One-time values (DPoP proof ids) on PostgreSQL, written a batch at a time.
//!
//! Every node must see every other node's proofs, so each id is a row of `dpop_proofs`, and the
//! primary key decides which of two uses comes first. One `INSERT` per request made PostgreSQL's
//! per-statement work the bottleneck of DPoP requests (a few thousand a second on two cores). Here
//! requests queue their ids, and a task writes whatever is queued as one statement while earlier
//! ones are in flight: alone, an id is written at once; under load, dozens share a round trip.
//! Each caller still learns, from the rows the statement returns, whether its id was new.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use accountd_core::store::{StoreError, StoreResult};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Statements in flight at once per node (2 measured best on two cores: more in flight means
/// smaller batches).
const IN_FLIGHT: usize = 2;
/// Ids per statement at most.
const MAX_BATCH: usize = 1_000;
/// How often expired rows are deleted, at most.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

struct Queued {
    tenant: String,
    key: String,
    now: i64,
    expires_at: i64,
    answer: oneshot::Sender<Result<bool, String>>,
}

/// A node's queue of proof ids waiting to be written.
pub struct ProofBatches {
    queue: mpsc::UnboundedSender<Queued>,
}

impl ProofBatches {
    /// Starts the writer over `pool`; it ends when the pool closes or this is dropped.
    pub fn start(pool: sqlx::PgPool) -> Arc<Self> {
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_batches(pool, rx));
        Arc::new(Self { queue })
    }

    /// Records `key` of `tenant` until `expires_at`; false if it is recorded and unexpired.
    pub async fn remember_once(&self, tenant: &str, key: &str, now: i64, expires_at: i64) -> StoreResult<bool> {
        let (answer, answered) = oneshot::channel();
        let queued = Queued { tenant: tenant.to_owned(), key: key.to_owned(), now, expires_at, answer };
        let closed = || StoreError::Other(anyhow::anyhow!("the store is closed"));
        self.queue.send(queued).map_err(|_| closed())?;
        answered.await.map_err(|_| closed())?.map_err(|e| StoreError::Other(anyhow::anyhow!(e)))
    }
}

async fn write_batches(pool: sqlx::PgPool, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut last_sweep = Instant::now();
    let closed = pool.close_event();
    tokio::pin!(closed);
    loop {
        let first = tokio::select! {
            _ = &mut closed => break,
            q = rx.recv() => match q { Some(q) => q, None => break },
        };
        // Waiting for a free statement is what lets the queue fill up under load.
        let Ok(permit) = permits.clone().acquire_owned().await else { break };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        let sweep = last_sweep.elapsed() >= SWEEP_EVERY;
        if sweep {
            last_sweep = Instant::now();
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            write(&pool, batch, sweep).await;
            drop(permit);
        });
    }
}

/// Writes one batch and answers its callers.
async fn write(pool: &sqlx::PgPool, mut batch: Vec<Queued>, sweep: bool) {
    // Rows locked in one order by every statement, so that two overlapping batches never deadlock.
    batch.sort_by(|a, b| (&a.tenant, &a.key).cmp(&(&b.tenant, &b.key)));
    // An id twice in one batch: the first is written, the later ones are replays of it (one
    // statement cannot touch a row twice).
    let mut unique: Vec<Queued> = Vec::with_capacity(batch.len());
    for q in batch {
        match unique.last() {
            Some(last) if (&last.tenant, &last.key) == (&q.tenant, &q.key) => {
                let _ = q.answer.send(Ok(false));
            }
            _ => unique.push(q),
        }
    }
    let now = unique.iter().map(|q| q.now).max().unwrap_or_default();
    let tenants: Vec<&str> = unique.iter().map(|q| q.tenant.as_str()).collect();
    let keys: Vec<&str> = unique.iter().map(|q| q.key.as_str()).collect();
    let expiries: Vec<i64> = unique.iter().map(|q| q.expires_at).collect();
    // A new id is inserted; an expired one is renewed; a live one is left alone and not returned.
    let written = sqlx::query_as::<_, (String, String)>(
        "INSERT INTO dpop_proofs (tenant_id, proof_key, expires_at) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[]) \
         ON CONFLICT (tenant_id, proof_key) DO UPDATE SET expires_at = excluded.expires_at \
         WHERE dpop_proofs.expires_at <= $4 \
         RETURNING tenant_id, proof_key",
    )
    .bind(&tenants)
    .bind(&keys)
    .bind(&expiries)
    .bind(now)
    .fetch_all(pool)
    .await;
    match written {
        Ok(rows) => {
            let new: HashSet<(String, String)> = rows.into_iter().collect();
            for q in unique {
                let is_new = new.contains(&(q.tenant, q.key));
                let _ = q.answer.send(Ok(is_new));
            }
        }
        Err(e) => {
            let e = e.to_string();
            for q in unique {
                let _ = q.answer.send(Err(e.clone()));
            }
        }
    }
    if sweep && let Err(e) = sqlx::query("DELETE FROM dpop_proofs WHERE expires_at <= $1").bind(now).execute(pool).await
    {
        tracing::warn!(error = %e, "could not delete expired DPoP proof ids");
    }
}
