-- A user's security timeline reads the audit events that concern that user, newest first: the
-- user (`AuditEvent::concerns`) is kept in a column of its own, filled in for earlier events.
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
UPDATE audit_events SET user_id = CASE
    WHEN target_type = 'user' THEN target_id
    ELSE coalesce(detail::jsonb ->> 'user_id', detail::jsonb ->> 'user')
END;
CREATE INDEX audit_events_by_user ON audit_events (tenant_id, user_id, id);
