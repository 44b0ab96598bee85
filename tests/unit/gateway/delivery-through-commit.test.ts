import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../gateway/ingest/group-commit.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';
import { openDatabase } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { FloodControl } from '../../../gateway/flood.ts';
import { deliveryThroughCommit } from '../../../gateway/outbox/delivery-through-commit.ts';

describe('upstream acks marked through the group commit (ARCHITECTURE.md invariant 3)', () => {
  it('does not hand out again, after a rewind, what was acknowledged but not yet marked', async () => {
    const db = openDatabase(':memory:');
    const clock = new FakeClock();
    const sqlite = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock, maxBytes: 1 << 30, deliveredRetentionMs: 0 });
    const commit = new GroupCommit(db, { outbox: sqlite, flood: new FloodControl(clock), clock, logger: createLogger({ level: 'silent' }) });
    const outbox = deliveryThroughCommit(sqlite, commit);
    await commit.submit((tx) => ['a', 'b', 'c'].forEach((type) => tx.emit({ class: 'device', type, data: {} })));
    const [first, second, third] = outbox.take(10);

    outbox.markDelivered([first!.seq, second!.seq]);
    outbox.rewind(); // a reconnect before the next commit ran
    expect(outbox.take(10).map((e) => e.seq)).toEqual([third!.seq]);

    await commit.submit(() => undefined);
    outbox.rewind();
    expect(outbox.take(10).map((e) => e.seq)).toEqual([third!.seq]);
  });
});
