-- SQLite saves the proof ids it checks in memory a batch per row in this migration. PostgreSQL
-- checks every proof id in dpop_proofs (several nodes share it), a batch per statement, and drops
-- the foreign key to tenants: its check locked the tenant's row for every proof, and that lock is
-- written to the WAL, so each batch's commit waited for a flush the unlogged table exists to
-- avoid. A deleted tenant's proof ids are swept once they expire, within minutes.
ALTER TABLE dpop_proofs DROP CONSTRAINT dpop_proofs_tenant_id_fkey;
