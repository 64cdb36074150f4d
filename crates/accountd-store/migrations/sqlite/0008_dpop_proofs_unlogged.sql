-- PostgreSQL makes dpop_proofs unlogged here. SQLite checks proof ids in memory and writes this
-- table behind the requests (accountd-store's seen_keys), so it has nothing to change.
SELECT 1;
