-- DPoP proof ids are checked on every DPoP request: an unlogged table's commit does not wait for a
-- WAL flush. The price: after a crash (not a clean restart) or on a promoted standby the table is
-- empty, so proofs from the last few minutes could be replayed once there.
ALTER TABLE dpop_proofs SET UNLOGGED;
