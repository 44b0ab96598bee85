// Schema migrations, applied in order by openDatabase. Append only: never edit a
// migration that has shipped.
import { CORE_SCHEMA } from './schema-core.ts';
import { STAFF_SCHEMA } from './schema-staff.ts';
import { LOCKS_SCHEMA } from './schema-locks.ts';
import { CHECKIN_SCHEMA } from './schema-checkin.ts';

export const MIGRATIONS: readonly string[] = [
  /* 1: gateway metadata (key/value: the persisted uptime clock, …) */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  `,
  /* 2: the outbox (ARCHITECTURE.md invariants 3–5, gateway/outbox/sqlite-outbox.ts) */ `
  -- AUTOINCREMENT keeps the last seq in sqlite_sequence, so a seq is never reused even
  -- after every row was purged (PROTOCOL.md §2.1). Uptime columns are on the persisted
  -- monotonic clock, not the wall clock (invariant 6).
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    eventId TEXT NOT NULL,
    class TEXT NOT NULL,
    priority INTEGER NOT NULL,
    droppable INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    createdAt INTEGER NOT NULL,
    createdUptimeMs INTEGER NOT NULL,
    deliveredUptimeMs INTEGER
  ) STRICT;
  CREATE INDEX outbox_pending ON outbox (class, seq) WHERE deliveredUptimeMs IS NULL;
  CREATE INDEX outbox_droppable ON outbox (seq) WHERE deliveredUptimeMs IS NULL AND droppable = 1;
  CREATE INDEX outbox_delivered ON outbox (deliveredUptimeMs) WHERE deliveredUptimeMs IS NOT NULL;
  CREATE TABLE outbox_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
  INSERT INTO outbox_counters (name, value)
    VALUES ('pending_bytes', 0), ('delivered', 0), ('dropped_budget', 0), ('dropped_expired', 0);
  -- The budget counter follows every row change in the same transaction, so a rolled-back
  -- caller transaction cannot skew it (invariant 5).
  CREATE TRIGGER outbox_pending_insert AFTER INSERT ON outbox BEGIN
    UPDATE outbox_counters SET value = value + new.bytes WHERE name = 'pending_bytes';
  END;
  CREATE TRIGGER outbox_pending_delete AFTER DELETE ON outbox WHEN old.deliveredUptimeMs IS NULL BEGIN
    UPDATE outbox_counters SET value = value - old.bytes WHERE name = 'pending_bytes';
  END;
  CREATE TRIGGER outbox_delivered AFTER UPDATE OF deliveredUptimeMs ON outbox
    WHEN old.deliveredUptimeMs IS NULL AND new.deliveredUptimeMs IS NOT NULL BEGIN
    UPDATE outbox_counters SET value = value - new.bytes WHERE name = 'pending_bytes';
    UPDATE outbox_counters SET value = value + 1 WHERE name = 'delivered';
  END;
  `,
  /* 3: devices, admins, units, device-event dedupe, platform command ids */ CORE_SCHEMA,
  /* 4: the outbox counters follow the rows in the outbox's own statements, once per
     batch instead of once per row (gateway/outbox/sqlite-outbox.ts) */ `
  DROP TRIGGER outbox_pending_insert;
  DROP TRIGGER outbox_pending_delete;
  DROP TRIGGER outbox_delivered;
  `,
  /* 5: staff accounts, API tokens, console sessions, badge swipes */ STAFF_SCHEMA,
  /* 6: lock codes (HMAC only) and lock list versions */ LOCKS_SCHEMA,
  /* 7: card reads, verifications, bookings, stays, visits */ CHECKIN_SCHEMA,
];
