// Tables of the locks feature; appended to MIGRATIONS in store/migrations.ts.
// - codes: one code for one lock and one window (CHECKIN.md "Codes"). Only the HMAC is
//   kept, never the digits (ARCHITECTURE.md invariant 7). `state` is stored, not derived
//   from the wall clock, and every state but `live` is terminal, so a backward clock
//   jump never brings a code back (invariant 6). Times are epoch ms.
// - lock_versions: the version of each lock's list (PROTOCOL.md §1.3). It persists across
//   restarts and rises by one in the transaction that changes the list.
export const LOCKS_SCHEMA = `
  CREATE TABLE codes (
    code_id TEXT PRIMARY KEY,
    lock_id TEXT NOT NULL REFERENCES devices (id),
    hmac TEXT NOT NULL CHECK (length(hmac) = 64),
    stay_id TEXT,
    visit_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('stay', 'once', 'staff')),
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    uses_left INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
    state TEXT NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'used', 'revoked', 'expired')),
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    CHECK (valid_from < valid_to)
  ) STRICT;
  CREATE INDEX codes_live_by_lock ON codes (lock_id, valid_to) WHERE state = 'live';
  CREATE INDEX codes_live_by_end ON codes (valid_to) WHERE state = 'live';
  CREATE INDEX codes_by_stay ON codes (stay_id) WHERE stay_id IS NOT NULL;
  CREATE TABLE lock_versions (
    lock_id TEXT PRIMARY KEY REFERENCES devices (id),
    version INTEGER NOT NULL
  ) STRICT;
`;
