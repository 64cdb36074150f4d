-- What the Logto dialect needs from core (issue 12): the tenant's account center (which profile
-- fields users may read and change themselves, NULL until an operator sets it), the OIDC standard
-- claims of a user beyond the name columns, and verification records (proofs of identity a user
-- makes once and reuses until they expire).
ALTER TABLE tenants ADD COLUMN account_center TEXT;

ALTER TABLE users ADD COLUMN standard_claims TEXT NOT NULL DEFAULT '{}';

-- A proof of identity: a password checked, or a code sent to an address and (once `verified`)
-- typed back. Reusable until `expires_at`; `user_id` is NULL for a code sent to a new address.
-- `code_state` is the sealed hash of the code, cleared when the code is used.
CREATE TABLE verification_records (
    tenant_id   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    user_id     TEXT,
    kind        TEXT    NOT NULL,
    identifier  TEXT,
    purpose     TEXT,
    verified    BOOLEAN NOT NULL,
    code_state  TEXT,
    attempts    INTEGER NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    CONSTRAINT verification_records_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX verification_records_expiry ON verification_records (tenant_id, expires_at);
