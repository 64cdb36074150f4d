-- A row while a server that keeps one-time values in memory (SQLite) runs; a clean stop, which
-- saves every value first, deletes it. A row found at start means the last server did not stop
-- cleanly, so proof ids it spent in its last moments may be lost (see seen_keys.rs).
CREATE TABLE server_runs (
    started_at BIGINT NOT NULL PRIMARY KEY
);
