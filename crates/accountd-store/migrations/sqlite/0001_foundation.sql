-- Foundation: tenants and their domains, users and their passwords, applications, APIs with scopes
-- and access policies, client grants, roles and permissions, signing keys, audit events.
-- Times are milliseconds since the Unix epoch (BIGINT); lists and metadata are JSON text.
-- Every table but tenants and domains is keyed by (tenant_id, …), so no row is reachable
-- without its tenant. Unique constraints carry the names core maps to conflicts.

CREATE TABLE tenants (
    id          TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    is_default  BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL,
    CONSTRAINT tenants_id PRIMARY KEY (id)
);

CREATE TABLE domains (
    host          TEXT    NOT NULL,
    tenant_id     TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    is_canonical  BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    CONSTRAINT domains_host PRIMARY KEY (host)
);
CREATE INDEX domains_tenant ON domains (tenant_id);

CREATE TABLE users (
    tenant_id       TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id              TEXT    NOT NULL,
    email           TEXT,
    email_verified  BOOLEAN NOT NULL,
    username        TEXT,
    phone_number    TEXT,
    phone_verified  BOOLEAN NOT NULL,
    name            TEXT,
    given_name      TEXT,
    family_name     TEXT,
    nickname        TEXT,
    picture         TEXT,
    user_metadata   TEXT    NOT NULL,
    app_metadata    TEXT    NOT NULL,
    blocked         BOOLEAN NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    last_login_at   BIGINT,
    logins_count    BIGINT  NOT NULL,
    CONSTRAINT users_id PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX users_email ON users (tenant_id, email);
CREATE UNIQUE INDEX users_username ON users (tenant_id, username);
CREATE UNIQUE INDEX users_phone_number ON users (tenant_id, phone_number);
CREATE INDEX users_created ON users (tenant_id, created_at, id);

-- Credentials live apart from profiles so that listing users can never read a secret.
CREATE TABLE authentication_methods (
    tenant_id     TEXT   NOT NULL,
    id            TEXT   NOT NULL,
    user_id       TEXT   NOT NULL,
    method_type   TEXT   NOT NULL,
    secret        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    CONSTRAINT authentication_methods_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX authentication_methods_user ON authentication_methods (tenant_id, user_id, method_type);

CREATE TABLE applications (
    tenant_id                    TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id                    TEXT    NOT NULL,
    name                         TEXT    NOT NULL,
    description                  TEXT,
    app_type                     TEXT    NOT NULL,
    is_first_party               BOOLEAN NOT NULL,
    callbacks                    TEXT    NOT NULL,
    allowed_logout_urls          TEXT    NOT NULL,
    web_origins                  TEXT    NOT NULL,
    allowed_origins              TEXT    NOT NULL,
    cross_origin_authentication  BOOLEAN NOT NULL,
    grant_types                  TEXT    NOT NULL,
    token_endpoint_auth_method   TEXT    NOT NULL,
    client_secret_hash           TEXT,
    is_bootstrap                 BOOLEAN NOT NULL,
    created_at                   BIGINT  NOT NULL,
    updated_at                   BIGINT  NOT NULL,
    CONSTRAINT applications_client_id PRIMARY KEY (tenant_id, client_id)
);
CREATE INDEX applications_created ON applications (tenant_id, created_at, client_id);

-- APIs ("resource servers"). Built-in APIs have `system` set and no stored identifier: theirs
-- follows the domain a request comes in on.
CREATE TABLE api_resources (
    tenant_id             TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                    TEXT    NOT NULL,
    system                TEXT,
    identifier            TEXT,
    name                  TEXT    NOT NULL,
    signing_alg           TEXT    NOT NULL,
    token_lifetime_secs   BIGINT  NOT NULL,
    enforce_policies      BOOLEAN NOT NULL,
    allow_offline_access  BOOLEAN NOT NULL,
    require_dpop          BOOLEAN NOT NULL,
    user_policy           TEXT    NOT NULL,
    client_policy         TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    CONSTRAINT api_resources_id PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_resources_identifier ON api_resources (tenant_id, identifier);
CREATE UNIQUE INDEX api_resources_system ON api_resources (tenant_id, system);

CREATE TABLE api_scopes (
    tenant_id    TEXT   NOT NULL,
    api_id       TEXT   NOT NULL,
    value        TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    position     BIGINT NOT NULL,
    CONSTRAINT api_scopes_value PRIMARY KEY (tenant_id, api_id, value),
    FOREIGN KEY (tenant_id, api_id) REFERENCES api_resources (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE client_grants (
    tenant_id     TEXT   NOT NULL,
    id            TEXT   NOT NULL,
    client_id     TEXT   NOT NULL,
    api_id        TEXT   NOT NULL,
    subject_type  TEXT   NOT NULL,
    scopes        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    CONSTRAINT client_grants_id PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES applications (tenant_id, client_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, api_id) REFERENCES api_resources (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX client_grants_client_id_api_id_subject_type
    ON client_grants (tenant_id, client_id, api_id, subject_type);
CREATE INDEX client_grants_api ON client_grants (tenant_id, api_id);

CREATE TABLE roles (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    description  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT roles_id PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name);

CREATE TABLE role_permissions (
    tenant_id        TEXT NOT NULL,
    role_id          TEXT NOT NULL,
    api_id           TEXT NOT NULL,
    permission_name  TEXT NOT NULL,
    CONSTRAINT role_permissions_id PRIMARY KEY (tenant_id, role_id, api_id, permission_name),
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, api_id, permission_name)
        REFERENCES api_scopes (tenant_id, api_id, value) ON DELETE CASCADE
);

CREATE TABLE user_roles (
    tenant_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    role_id    TEXT NOT NULL,
    CONSTRAINT user_roles_id PRIMARY KEY (tenant_id, user_id, role_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_roles_role ON user_roles (tenant_id, role_id);

CREATE TABLE signing_keys (
    tenant_id           TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kid                 TEXT   NOT NULL,
    alg                 TEXT   NOT NULL,
    status              TEXT   NOT NULL,
    private_key_sealed  TEXT   NOT NULL,
    public_jwk          TEXT   NOT NULL,
    created_at          BIGINT NOT NULL,
    retired_at          BIGINT,
    publish_until       BIGINT,
    CONSTRAINT signing_keys_kid PRIMARY KEY (tenant_id, kid)
);

CREATE TABLE audit_events (
    tenant_id    TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT   NOT NULL,
    action       TEXT   NOT NULL,
    target_type  TEXT   NOT NULL,
    target_id    TEXT   NOT NULL,
    ip           TEXT,
    user_agent   TEXT,
    result       TEXT   NOT NULL,
    detail       TEXT   NOT NULL,
    CONSTRAINT audit_events_id PRIMARY KEY (tenant_id, id)
);
