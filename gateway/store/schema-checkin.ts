// Tables of the check-in feature (CHECKIN.md Objects). Card reads and face results live
// only in memory: they matter for 120 s, and a restart makes them stale anyway. Personal
// data is sealed (AES-256-GCM) and guests are matched by a keyed hash of the normalised
// ID number (ARCHITECTURE.md invariant 8).
export const CHECKIN_SCHEMA = `
  CREATE TABLE bookings (
    booking_id TEXT PRIMARY KEY,
    unit TEXT NOT NULL,
    from_ms INTEGER NOT NULL,
    to_ms INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    guests_sealed BLOB,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE booking_guests (
    booking_id TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    PRIMARY KEY (booking_id, id_hash)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE stays (
    stay_id TEXT PRIMARY KEY,
    unit TEXT NOT NULL,
    booking_id TEXT,
    id_hash TEXT NOT NULL,
    name_masked TEXT NOT NULL,
    guest_sealed BLOB,
    checkin_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    checkout_at INTEGER,
    checkout_by TEXT
  ) STRICT;
  CREATE INDEX stays_open_by_unit ON stays (unit) WHERE checkout_at IS NULL;
  CREATE INDEX stays_open_by_guest ON stays (id_hash) WHERE checkout_at IS NULL;
  CREATE TABLE visits (
    visit_id TEXT PRIMARY KEY,
    host_stay_id TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    guest_sealed BLOB,
    visit_at INTEGER NOT NULL
  ) STRICT;
`;
