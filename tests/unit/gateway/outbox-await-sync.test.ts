import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/clock.ts';
import { openDatabase } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';

function setup(earlyAlarmsThrough?: () => number) {
  const db = openDatabase(':memory:');
  const outbox = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock: new FakeClock(), maxBytes: 1 << 30, deliveredRetentionMs: 0, awaitSync: true, earlyAlarmsThrough });
  return { db, outbox };
}

describe('outbox with awaitSync (store/wal-sync.ts)', () => {
  it('hands out only events the caller said are synced', () => {
    const { outbox } = setup();
    const [a, b] = outbox.append([{ class: 'alarm', type: 'smoke', data: {} }, { class: 'device', type: 'test', data: {} }]);
    expect(outbox.take(10)).toEqual([]);
    outbox.synced(a!.seq);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([a!.seq]);
    outbox.synced(b!.seq);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([b!.seq]);
  });

  it('takes what an earlier run left in the file as synced', () => {
    const { db, outbox } = setup();
    outbox.append([{ class: 'alarm', type: 'smoke', data: {} }]);
    const again = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b2', clock: new FakeClock(), maxBytes: 1 << 30, deliveredRetentionMs: 0, awaitSync: true });
    expect(again.take(10)).toHaveLength(1);
  });

  it('hands out alarms inside the synced reservation as soon as they are committed, and nothing else (seq-reservation.ts)', () => {
    const { outbox } = setup(() => 3);
    const [alarm, tamper, device] = outbox.append([
      { class: 'alarm', type: 'smoke', data: {} },
      { class: 'security', type: 'attendant_override', data: {} },
      { class: 'device', type: 'test', data: {} },
    ]);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([alarm!.seq]);
    outbox.synced(device!.seq);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([tamper!.seq, device!.seq]);
  });

  it('an alarm past the reservation waits for its sync', () => {
    const { outbox } = setup(() => 1);
    const [, second] = outbox.append([{ class: 'alarm', type: 'smoke', data: {} }, { class: 'alarm', type: 'smoke', data: {} }]);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([1]);
    outbox.synced(second!.seq);
    expect(outbox.take(10).map((e) => e.seq)).toEqual([second!.seq]);
  });

  it('hands out no alarm from inside a transaction, which may still roll back', () => {
    const { db, outbox } = setup(() => 10);
    db.transaction(() => {
      outbox.append([{ class: 'alarm', type: 'smoke', data: {} }]);
      expect(outbox.take(10)).toEqual([]);
    })();
    expect(outbox.take(10)).toHaveLength(1);
  });
});
