import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../gateway/ingest/group-commit.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';

const logger = createLogger({ level: 'silent' });

function setup() {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (v BLOB)');
  const clock = new FakeClock();
  const states: boolean[] = [];
  const commit = new GroupCommit(db, { clock, logger, retryMs: 5, withholdMs: 10_000, onStorageState: (f) => states.push(f) });
  return { db, clock, commit, states };
}

describe('group commit (ARCHITECTURE.md invariant 2)', () => {
  it('commits the work of one event-loop turn in one transaction and releases it in arrival order', async () => {
    const { db, commit } = setup();
    const order: number[] = [];
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    await Promise.all(Array.from({ length: 100 }, (_, i) => commit.submit(() => insert.run(i)).then(() => order.push(i))));
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(commit.committedBatches).toBe(1);
  });

  it('rolls back only the work that threw, and commits the rest', async () => {
    const { db, commit } = setup();
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const results = await Promise.allSettled([
      commit.submit(() => insert.run(1)),
      commit.submit(() => { insert.run(2); throw new Error('bug'); }),
      commit.submit(() => insert.run(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT v FROM t ORDER BY v').all()).toEqual([{ v: 1 }, { v: 3 }]);
  });

  it('withholds releases while the disk is full, then commits them when space returns', async () => {
    const { db, commit, states } = setup();
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    let released = false;
    const done = commit.submit(() => insert.run(Buffer.alloc(64 * 1024))).then(() => { released = true; });
    await new Promise((r) => setTimeout(r, 30));
    expect(released).toBe(false);
    expect(commit.storageFailing).toBe(true);
    db.pragma('max_page_count = 1000000');
    await done;
    expect(states).toEqual([true, false]);
  });

  it('gives up on work withheld for 10 s, so the broker closes that connection', async () => {
    const { db, clock, commit } = setup();
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const outcome = commit.submit(() => insert.run(Buffer.alloc(64 * 1024))).then(() => 'committed', (err: { code?: string }) => err.code);
    await new Promise((r) => setTimeout(r, 20));
    clock.advance(10_000);
    expect(await outcome).toBe('SQLITE_FULL');
  });
});
