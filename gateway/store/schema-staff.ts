// Tables of the staff feature (INTERFACES.md `staff add|revoke`, HTTP API auth); appended
// to MIGRATIONS in store/migrations.ts. Credentials rest only as hashes: API tokens and
// session ids are 32 random bytes, so SHA-256 is enough; passwords get scrypt. Badges are
// short digit strings an unkeyed hash would not hide, so they are stored as an HMAC
// under a key derived from MENWEI_DATA_KEY (gateway/staff/staff-store.ts). Badge swipes
// are not stored: they matter for 60 s on the monotonic clock and live in memory.
export const STAFF_SCHEMA = `
  CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    badge_hmac BLOB UNIQUE,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE staff_tokens (
    token_sha256 BLOB PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX staff_tokens_by_staff ON staff_tokens (staff_id);
  CREATE TABLE sessions (
    session_sha256 BLOB PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    csrf_sha256 BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX sessions_by_staff ON sessions (staff_id);
  -- \`menwei staff revoke\` runs in its own process, which must not append to the outbox:
  -- it records the revocation here and the running gateway reports it upstream as
  -- audit/token_revoked, then marks it reported (docs/API-NOTES.md).
  CREATE TABLE staff_revocations (
    id INTEGER PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    revoked_at INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    sessions INTEGER NOT NULL,
    reported INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX staff_revocations_unreported ON staff_revocations (id) WHERE reported = 0;
`;
