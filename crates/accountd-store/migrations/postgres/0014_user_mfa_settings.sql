-- (PostgreSQL; same schema as the SQLite file of the same name)
-- A user's own MFA choices (Logto's logtoConfig: mfa.enabled, mfa.skipped, mfa.skipMfaOnSignIn,
-- mfa.additionalBindingSuggestionSkipped, passkeySignIn.skipped) as one JSON document, changed
-- key by key; the hosted sign-in reads skipMfaOnSignIn.
ALTER TABLE users ADD COLUMN mfa_settings TEXT NOT NULL DEFAULT '{}';
