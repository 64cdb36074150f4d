-- (PostgreSQL; same schema as the SQLite file of the same name) Consent a user gave a (third-party) application: the scopes granted per audience
-- ('' for OpenID Connect scopes without an API).
CREATE TABLE consents (
    tenant_id   TEXT   NOT NULL,
    user_id     TEXT   NOT NULL,
    client_id   TEXT   NOT NULL,
    audience    TEXT   NOT NULL,
    scopes      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT consents_id PRIMARY KEY (tenant_id, user_id, client_id, audience),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, client_id) REFERENCES applications (tenant_id, client_id) ON DELETE CASCADE
);

-- Whether the hosted sign-in page offers sign-up.
ALTER TABLE tenants ADD COLUMN allow_signup BOOLEAN NOT NULL DEFAULT FALSE;
