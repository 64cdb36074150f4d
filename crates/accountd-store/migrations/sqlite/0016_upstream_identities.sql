-- Outside identity providers (upstream connections) and the
-- identities users hold at them: Logto's social identities and Auth0's connected accounts are the
-- same rows. Secrets are sealed with the master key: the connection's client secret, and the
-- provider's token set of an identity when the connection keeps tokens (token vault).
CREATE TABLE upstream_connections (
    tenant_id      TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    -- JSON: strategy, display name, endpoints, client id, scopes and switches; never the secret.
    config         TEXT   NOT NULL,
    client_secret  TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    CONSTRAINT upstream_connections_id PRIMARY KEY (tenant_id, id),
    CONSTRAINT upstream_connections_name UNIQUE (tenant_id, name)
);

CREATE TABLE identities (
    tenant_id         TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                TEXT   NOT NULL,
    user_id           TEXT   NOT NULL,
    connection_id     TEXT   NOT NULL,
    subject           TEXT   NOT NULL,
    -- JSON: what the provider said about the user (Logto's details).
    profile           TEXT   NOT NULL,
    -- JSON array of the scopes granted at the provider.
    scopes            TEXT   NOT NULL,
    tokens            TEXT,
    tokens_expire_at  BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT identities_id PRIMARY KEY (tenant_id, id),
    -- One provider account is linked to one user, and a user has one identity per connection.
    CONSTRAINT identities_connection_id_subject UNIQUE (tenant_id, connection_id, subject),
    CONSTRAINT identities_user_id_connection_id UNIQUE (tenant_id, user_id, connection_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, connection_id) REFERENCES upstream_connections (tenant_id, id) ON DELETE CASCADE
);
