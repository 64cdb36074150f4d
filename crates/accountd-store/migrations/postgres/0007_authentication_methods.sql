-- (PostgreSQL; same schema as the SQLite file of the same name) Every kind of authentication method in the one table (passwords were already here): whether it
-- is confirmed, a friendly name, its public details (addresses, key ids, transports) as JSON, and a
-- lookup key for the methods found without knowing the user (a passkey's user handle, a push
-- device's id).
ALTER TABLE authentication_methods ADD COLUMN confirmed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE authentication_methods ADD COLUMN name TEXT;
ALTER TABLE authentication_methods ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE authentication_methods ADD COLUMN lookup_key TEXT;
CREATE INDEX authentication_methods_lookup ON authentication_methods (tenant_id, lookup_key);

-- Earlier password hashes, for the password policy's history rule.
CREATE TABLE password_history (
    tenant_id   TEXT   NOT NULL,
    user_id     TEXT   NOT NULL,
    phc         TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX password_history_user ON password_history (tenant_id, user_id, created_at);

-- Short-lived, single-use proofs in progress: an enrollment (`auth_session` of /me/v1), a second
-- factor asked for at sign-in, a passkey sign-in challenge, a push approval. Found by the SHA-256
-- of the token the client holds; the state is sealed with the master key.
CREATE TABLE pending_verifications (
    tenant_id    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT    NOT NULL,
    purpose      TEXT    NOT NULL,
    user_id      TEXT,
    method_type  TEXT    NOT NULL,
    method_id    TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    attempts     BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    CONSTRAINT pending_verifications_id PRIMARY KEY (tenant_id, id)
);
CREATE INDEX pending_verifications_method ON pending_verifications (tenant_id, method_id, purpose);
CREATE INDEX pending_verifications_expiry ON pending_verifications (expires_at);

-- The tenant's policy for accounts: enabled factors, MFA at sign-in, step-up, password policy,
-- rate limits of the account API (JSON; `{}` means every default).
ALTER TABLE tenants ADD COLUMN account_policy TEXT NOT NULL DEFAULT '{}';
