-- "This wasn't me": a user's report of an event in their security timeline, kept for the operator
-- (Management API `GET /api/v2/security-reports`). One report per event; gone with the user.
CREATE TABLE security_reports (
    tenant_id      TEXT   NOT NULL,
    id             TEXT   NOT NULL,
    user_id        TEXT   NOT NULL,
    event_id       TEXT   NOT NULL,
    event_type     TEXT   NOT NULL,
    reported_at    BIGINT NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    sessions_ended BIGINT NOT NULL,
    grants_revoked BIGINT NOT NULL,
    password_replaced BOOLEAN NOT NULL,
    CONSTRAINT security_reports_id PRIMARY KEY (tenant_id, id),
    CONSTRAINT security_reports_event_id UNIQUE (tenant_id, event_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX security_reports_by_time ON security_reports (tenant_id, reported_at);
