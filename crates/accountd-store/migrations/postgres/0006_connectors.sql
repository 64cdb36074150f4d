-- (PostgreSQL; same schema as the SQLite file of the same name)
-- Message connectors: how a tenant's email and SMS leave (one per channel; none means the
-- development outbox). `settings` is JSON without secrets; the SMTP password or HTTP token is
-- sealed under the master key (context connector:{tenant}:{channel}).
CREATE TABLE connectors (
    tenant_id      TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel        TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    enabled        BOOLEAN NOT NULL,
    settings       TEXT    NOT NULL,
    secret_sealed  TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    CONSTRAINT connectors_channel PRIMARY KEY (tenant_id, channel)
);

-- A tenant's own message templates per channel and purpose (built-in ones apply otherwise).
CREATE TABLE message_templates (
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel     TEXT   NOT NULL,
    purpose     TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    content     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT message_templates_channel_purpose PRIMARY KEY (tenant_id, channel, purpose)
);

-- The development outbox: messages kept (and logged) instead of sent, so codes can be read
-- without any setup. Only recent messages are kept (pruned on insert).
CREATE TABLE outbox_messages (
    tenant_id   TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          TEXT   NOT NULL,
    channel     TEXT   NOT NULL,
    recipient   TEXT   NOT NULL,
    purpose     TEXT   NOT NULL,
    subject     TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    code        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    CONSTRAINT outbox_messages_id PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_messages_created ON outbox_messages (tenant_id, created_at, id);
CREATE INDEX outbox_messages_recipient ON outbox_messages (tenant_id, recipient, created_at);
