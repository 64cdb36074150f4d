-- Failed sign-in counters per account identifier and per client IP, shared by every node.
CREATE TABLE sign_in_throttle (
    tenant_id     TEXT   NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    throttle_key  TEXT   NOT NULL,
    window_start  BIGINT NOT NULL,
    failures      BIGINT NOT NULL,
    locked_until  BIGINT,
    CONSTRAINT sign_in_throttle_key PRIMARY KEY (tenant_id, throttle_key)
);
