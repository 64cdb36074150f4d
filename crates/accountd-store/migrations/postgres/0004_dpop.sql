-- (PostgreSQL; same schema as the SQLite file of the same name) DPoP: proof ids seen recently (replay detection shared by every node), and the key a public
-- client's refresh tokens are bound to.
CREATE TABLE dpop_proofs (
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    proof_key   TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL,
    CONSTRAINT dpop_proofs_key PRIMARY KEY (tenant_id, proof_key)
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_at);

ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
