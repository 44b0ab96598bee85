import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../gateway/clock.ts';
import { openDatabase } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';

function setup() {
  const db = openDatabase(':memory:');
  const outbox = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock: new FakeClock(), maxBytes: 1 << 30, deliveredRetentionMs: 0, awaitSync: true });
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
});
