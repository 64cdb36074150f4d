-- Steady attempt budgets (GCRA) per client IP: a spray over many identifiers is slowed down, and
-- nobody behind the same address is locked out. `tat` is the theoretical arrival time in ms.
CREATE TABLE sign_in_rate (
    tenant_id     TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    throttle_key  TEXT   NOT NULL,
    tat           BIGINT NOT NULL,
    CONSTRAINT sign_in_rate_key PRIMARY KEY (tenant_id, throttle_key)
);
