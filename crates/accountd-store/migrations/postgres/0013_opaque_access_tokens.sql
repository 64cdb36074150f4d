-- Opaque access tokens (resource-less user token requests, as Logto and Auth0 issue them): the
-- client holds a random handle, the table its SHA-256 and what a JWT would have said. Deleting the
-- user deletes them; ending the session deletes its tokens.
CREATE TABLE access_tokens (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash   TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    scope        TEXT   NOT NULL,
    auth_time    BIGINT NOT NULL,
    amr          TEXT   NOT NULL,
    acr          TEXT,
    dpop_jkt     TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    CONSTRAINT access_tokens_token_hash PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX access_tokens_session ON access_tokens (tenant_id, session_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);
