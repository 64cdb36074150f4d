-- (SQLite; same schema as the PostgreSQL file of the same name) Sessions and grants the user can see and end (Logto's /api/my-account/sessions and /grants,
-- Auth0's /api/v2/users/{id}/sessions), and what ties every token to them so that ending one
-- ends its tokens at once ("revoked means revoked").
--
-- A grant is one application's authorization by one user: at most one live grant per (user,
-- application); revoking it revokes every token issued under it. A token family is one sign-in of
-- an application under a session (one authorization-code exchange): its refresh tokens rotate
-- within it, its access tokens name it, and revoking the session, the grant or the family revokes
-- it.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;

CREATE TABLE grants (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    CONSTRAINT grants_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- The one live grant of a (user, application); a sign-in after a revocation starts a new one.
CREATE UNIQUE INDEX grants_live ON grants (tenant_id, user_id, client_id) WHERE revoked_at IS NULL;

CREATE TABLE token_families (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    user_id      TEXT   NOT NULL,
    client_id    TEXT   NOT NULL,
    session_id   TEXT   NOT NULL,
    grant_id     TEXT   NOT NULL,
    scope        TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    CONSTRAINT token_families_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX token_families_session ON token_families (tenant_id, session_id);
CREATE INDEX token_families_grant ON token_families (tenant_id, grant_id);
-- The liveness view reads a user's recent revocations.
CREATE INDEX token_families_user_revoked ON token_families (tenant_id, user_id, revoked_at);
CREATE INDEX sessions_user_revoked ON sessions (tenant_id, user_id, revoked_at);

-- Codes issued before this migration have neither: their exchange falls back to the code hash as
-- the family (as before) and to no grant.
ALTER TABLE authorization_codes ADD COLUMN grant_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN family_id TEXT;
ALTER TABLE access_tokens ADD COLUMN family_id TEXT;
