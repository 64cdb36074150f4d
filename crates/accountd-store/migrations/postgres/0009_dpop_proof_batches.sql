-- SQLite saves the proof ids it checks in memory a batch per row here. PostgreSQL checks every
-- proof id in dpop_proofs (several nodes share it), so it has nothing to add.
SELECT 1;
