-- Authorization server state: sign-in sessions, authorization codes and refresh tokens.
-- Secrets (session cookies, codes, refresh tokens) are stored only as SHA-256 hashes.

CREATE TABLE sessions (
    tenant_id     TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            TEXT   NOT NULL,
    secret_hash   TEXT   NOT NULL,
    user_id       TEXT   NOT NULL,
    auth_time     BIGINT NOT NULL,
    amr           TEXT   NOT NULL,
    acr           TEXT,
    user_agent    TEXT,
    ip            TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    CONSTRAINT sessions_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX sessions_secret_hash ON sessions (tenant_id, secret_hash);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id);

CREATE TABLE authorization_codes (
    tenant_id              TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code_hash              TEXT   NOT NULL,
    client_id              TEXT   NOT NULL,
    user_id                TEXT   NOT NULL,
    session_id             TEXT   NOT NULL,
    redirect_uri           TEXT   NOT NULL,
    scope                  TEXT   NOT NULL,
    audience               TEXT,
    nonce                  TEXT,
    code_challenge         TEXT   NOT NULL,
    auth_time              BIGINT NOT NULL,
    amr                    TEXT   NOT NULL,
    acr                    TEXT,
    created_at             BIGINT NOT NULL,
    expires_at             BIGINT NOT NULL,
    consumed_at            BIGINT,
    CONSTRAINT authorization_codes_code_hash PRIMARY KEY (tenant_id, code_hash)
);

CREATE TABLE refresh_tokens (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL,
    family_id    TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    scope        TEXT   NOT NULL,
    audience     TEXT,
    auth_time    BIGINT NOT NULL,
    amr          TEXT   NOT NULL,
    acr          TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    rotated_at   BIGINT,
    revoked_at   BIGINT,
    CONSTRAINT refresh_tokens_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX refresh_tokens_token_hash ON refresh_tokens (tenant_id, token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens (tenant_id, family_id);
CREATE INDEX refresh_tokens_session ON refresh_tokens (tenant_id, session_id);
