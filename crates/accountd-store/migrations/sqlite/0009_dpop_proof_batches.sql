-- Proof ids checked in memory (accountd-store's seen_keys) are saved a batch per row, every 100 ms:
-- one appended row instead of one random primary-key entry per proof. Under load the per-proof
-- rows cost about a fifth of the server's CPU. dpop_proofs keeps the ids checked in the table
-- itself (past the in-memory cap). proof_keys is a JSON array of [tenant_id, proof_key, expires_at].
CREATE TABLE dpop_proof_batches (
    id INTEGER PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    proof_keys TEXT NOT NULL
);
CREATE INDEX dpop_proof_batches_expiry ON dpop_proof_batches (expires_at);
