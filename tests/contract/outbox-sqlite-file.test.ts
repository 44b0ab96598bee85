// The outbox contract against SQLite in a real file, restarts included (STYLE.md §5, §11).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../gateway/clock.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { SqliteOutbox } from '../../gateway/outbox/sqlite-outbox.ts';
import type { DropInfo } from '../../gateway/outbox/outbox.ts';
import { outboxContract, type HarnessOptions, type OutboxHarness } from './outbox.contract.ts';

/** Each boot opens the same file with a new bootId and, as after a reboot, a new monotonic origin. */
function boot(opts: HarnessOptions, dir: string, clock: FakeClock, n: number): OutboxHarness {
  const db = openDatabase(join(dir, 'menwei.db'));
  const drops: DropInfo[] = [];
  const bootId = `boot-${n}`;
  const outbox = new SqliteOutbox(db, {
    gatewayId: 'gw-hl-0001',
    bootId,
    clock,
    maxBytes: opts.maxBytes ?? 1024 ** 3,
    deliveredRetentionMs: opts.deliveredRetentionMs ?? 7 * 86_400_000,
    maxAgeMs: opts.maxAgeMs,
    onDrop: (d) => drops.push(d),
  });
  return {
    outbox, clock, drops, bootId,
    gatewayId: 'gw-hl-0001',
    transaction: (fn) => db.transaction(fn)(),
    reopen: (how) => {
      if (how === 'close') outbox.close();
      db.close();
      return boot(opts, dir, new FakeClock(clock.now()), n + 1);
    },
    cleanup: () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

outboxContract('SQLite file', (opts) => boot(opts, mkdtempSync(join(tmpdir(), 'menwei-outbox-')), new FakeClock(), 1), { restarts: true });
