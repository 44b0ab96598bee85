// Core tables: provisioned devices, admin accounts, units, device-event dedupe and
// platform command ids (PROTOCOL.md §1, §2.2; INTERFACES.md provisioning).
export const CORE_SCHEMA = `
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    unit TEXT,
    secret_sha256 BLOB NOT NULL,
    code_key BLOB,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    online INTEGER,
    last_seen_at INTEGER,
    battery_pct INTEGER,
    fw TEXT
  ) STRICT;
  CREATE TABLE admins (
    id TEXT PRIMARY KEY,
    secret_sha256 BLOB NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE units (
    code TEXT PRIMARY KEY,
    address TEXT NOT NULL,
    operator TEXT,
    officer TEXT,
    licensed INTEGER NOT NULL DEFAULT 1,
    licence_until TEXT,
    suspended INTEGER NOT NULL DEFAULT 0,
    suspend_reason TEXT,
    suspended_until INTEGER,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE device_seen (
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    digest BLOB NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX device_seen_by_age ON device_seen (seen_at);
  CREATE TABLE commands (
    command_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    digest BLOB NOT NULL,
    reply TEXT NOT NULL,
    keep_until INTEGER NOT NULL
  ) STRICT;
`;
