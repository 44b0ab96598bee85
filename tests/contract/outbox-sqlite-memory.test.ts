// The outbox contract against SQLite in memory: same behaviours, no restarts (STYLE.md §5).
import { FakeClock } from '../../gateway/clock.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { SqliteOutbox } from '../../gateway/outbox/sqlite-outbox.ts';
import type { DropInfo } from '../../gateway/outbox/outbox.ts';
import { outboxContract } from './outbox.contract.ts';

outboxContract('SQLite :memory:', (opts) => {
  const db = openDatabase(':memory:');
  const clock = new FakeClock();
  const drops: DropInfo[] = [];
  const outbox = new SqliteOutbox(db, {
    gatewayId: 'gw-hl-0001',
    bootId: 'boot-1',
    clock,
    maxBytes: opts.maxBytes ?? 1024 ** 3,
    deliveredRetentionMs: opts.deliveredRetentionMs ?? 7 * 86_400_000,
    maxAgeMs: opts.maxAgeMs,
    onDrop: (d) => drops.push(d),
  });
  return {
    outbox, clock, drops,
    gatewayId: 'gw-hl-0001',
    bootId: 'boot-1',
    transaction: (fn) => db.transaction(fn)(),
    cleanup: () => db.close(),
  };
}, { restarts: false });
