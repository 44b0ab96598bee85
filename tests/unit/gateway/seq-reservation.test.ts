import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { RESERVE_BLOCK, SeqReservation } from '../../../gateway/outbox/seq-reservation.ts';
import type { Durability } from '../../../gateway/store/wal-sync.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';

/** A WAL sync the test finishes by hand, counting the blocking ones. */
function manualSync() {
  const pending: Array<{ resolve(): void; reject(err: Error): void }> = [];
  const durability: Durability & { blocking: number } = {
    blocking: 0,
    sync: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    syncNow: () => void durability.blocking++,
  };
  return { durability, pending };
}

function outboxOn(db: Db) {
  return new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock: new FakeClock(), maxBytes: 1 << 30, deliveredRetentionMs: 0 });
}

function reservationOn(db: Db, durability: Durability = manualSync().durability, storageFailing = () => false) {
  return new SeqReservation(db, { durability, storageFailing, logger: createLogger({ level: 'silent' }) });
}

const file = () => join(mkdtempSync(join(tmpdir(), 'menwei-reserve-')), 'menwei.db');
const alarm = { class: 'alarm' as const, type: 'smoke', data: {} };

describe('seq reservation (PROTOCOL.md §2.1: seq never reused)', () => {
  it('at start reserves a block past the last seq, synced before anything can be sent', () => {
    const db = openDatabase(file());
    outboxOn(db).append([alarm, alarm]);
    const { durability } = manualSync();
    const reservation = reservationOn(db, durability);
    reservation.open();
    expect(reservation.through).toBe(2 + RESERVE_BLOCK);
    expect(durability.blocking).toBe(1);
  });

  it('after a crash the next seq comes after the whole reservation, so a seq sent before its fsync is never reused', () => {
    const path = file();
    const first = openDatabase(path);
    reservationOn(first).open();
    outboxOn(first).append([alarm]);
    first.close(); // no close() of the reservation: the process died

    const again = openDatabase(path);
    reservationOn(again).open();
    const [next] = outboxOn(again).append([alarm]);
    expect(next!.seq).toBe(RESERVE_BLOCK + 1);
  });

  it('after a clean stop the next run goes on without a gap', () => {
    const path = file();
    const first = openDatabase(path);
    const reservation = reservationOn(first);
    reservation.open();
    outboxOn(first).append([alarm, alarm, alarm]);
    reservation.close();
    first.close();

    const again = openDatabase(path);
    reservationOn(again).open();
    expect(outboxOn(again).append([alarm])[0]!.seq).toBe(4);
  });

  it('reserves the next block once half is used, and counts it only once its fsync returns', async () => {
    const db = openDatabase(file());
    const { durability, pending } = manualSync();
    const reservation = reservationOn(db, durability);
    reservation.open();
    reservation.onDurable(RESERVE_BLOCK / 2 - 1);
    expect(pending).toHaveLength(0);
    reservation.onDurable(RESERVE_BLOCK / 2);
    reservation.onDurable(RESERVE_BLOCK / 2 + 1); // one extension at a time
    expect(pending).toHaveLength(1);
    expect(reservation.through).toBe(RESERVE_BLOCK);
    pending[0]!.resolve();
    await Promise.resolve();
    expect(reservation.through).toBe(RESERVE_BLOCK / 2 + RESERVE_BLOCK);
  });

  it('after a failed fsync nothing goes early again, and no block is reserved', async () => {
    const db = openDatabase(file());
    const { durability, pending } = manualSync();
    const reservation = reservationOn(db, durability);
    reservation.open();
    reservation.onDurable(RESERVE_BLOCK);
    pending[0]!.reject(new Error('EIO'));
    await new Promise((r) => setImmediate(r));
    expect(reservation.through).toBe(0);
    reservation.onDurable(RESERVE_BLOCK);
    expect(pending).toHaveLength(1);
  });

  it('while the store fails nothing goes early, and a stop keeps the reservation: a gap, never a reuse', () => {
    const path = file();
    const first = openDatabase(path);
    let failing = false;
    const reservation = reservationOn(first, manualSync().durability, () => failing);
    reservation.open();
    outboxOn(first).append([alarm]);
    failing = true;
    expect(reservation.through).toBe(0);
    reservation.close();
    first.close();

    const again = openDatabase(path);
    reservationOn(again).open();
    expect(outboxOn(again).append([alarm])[0]!.seq).toBe(RESERVE_BLOCK + 1);
  });

  it('reserves nothing more once stopped, so the commits flushed at the stop leave no gap', () => {
    const db = openDatabase(file());
    const { durability, pending } = manualSync();
    const reservation = reservationOn(db, durability);
    reservation.open();
    reservation.close();
    reservation.onDurable(RESERVE_BLOCK);
    expect(pending).toHaveLength(0);
  });
});
