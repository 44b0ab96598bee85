import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../gateway/ingest/group-commit.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';
import { openDatabase } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { FloodControl } from '../../../gateway/flood.ts';
import { SmokeHandler } from '../../../gateway/ingest/smoke.ts';

const logger = createLogger({ level: 'silent' });

function setup() {
  const db = openDatabase(':memory:');
  db.exec('CREATE TABLE t (v BLOB)');
  const clock = new FakeClock();
  const states: boolean[] = [];
  const outbox = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock, maxBytes: 1 << 30, deliveredRetentionMs: 0 });
  const flood = new FloodControl(clock);
  const commit = new GroupCommit(db, { outbox, flood, clock, logger, retryMs: 5, withholdMs: 10_000, onStorageState: (f) => states.push(f) });
  return { db, clock, commit, states, outbox };
}

function fillDisk(db: ReturnType<typeof openDatabase>): void {
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
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
    fillDisk(db);
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

  it('appends the events of a whole batch to the outbox in the same transaction', async () => {
    const { commit, outbox } = setup();
    await Promise.all(Array.from({ length: 50 }, (_, i) => commit.submit((tx) => tx.emit({ class: 'device', type: 'test', data: { deviceSeq: i } }))));
    expect(outbox.status().classes.device.pending).toBe(50);
    expect(commit.committedBatches).toBe(1);
  });

  it('undoes memory changes of a batch the disk refused, so its retried alarm is still sent', async () => {
    const { db, commit, outbox } = setup();
    const smoke = new SmokeHandler(() => 2);
    const detector = { id: 'smoke-1', kind: 'smoke', unit: 'U1' };
    fillDisk(db);
    const done = commit.submit((tx) => {
      db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(64 * 1024));
      smoke.handle(tx, detector, { type: 'alarm', seq: 1, ts: '2026-11-30T02:00:00.000Z', value: 300 });
    });
    await new Promise((r) => setTimeout(r, 30));
    db.pragma('max_page_count = 1000000');
    await done;
    expect(outbox.status().classes.alarm.pending).toBe(1);
  });

  it('gives up on work withheld for 10 s, so the broker closes that connection', async () => {
    const { db, clock, commit } = setup();
    fillDisk(db);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    const outcome = commit.submit(() => insert.run(Buffer.alloc(64 * 1024))).then(() => 'committed', (err: { code?: string }) => err.code);
    await new Promise((r) => setTimeout(r, 20));
    clock.advance(10_000);
    expect(await outcome).toBe('SQLITE_FULL');
  });

  describe('urgent work (invariant 4)', () => {
    it('commits an urgent message ahead of the queue, in a transaction of its own', async () => {
      const { db, commit } = setup();
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      const committed: string[] = [];
      const work = (name: string) => () => { insert.run(name); committed.push(`${name}@${commit.committedBatches}`); };
      const ordinary = Array.from({ length: 20 }, (_, i) => commit.submit(work(`e${i}`), { source: `lock-${i}` }));
      const alarm = commit.submit(work('alarm'), { urgent: true, source: 'smoke-1' });
      await Promise.all([...ordinary, alarm]);
      expect(committed[0]).toBe('alarm@0');
      expect(committed.slice(1).every((c) => c.endsWith('@1'))).toBe(true);
      expect(commit.committedBatches).toBe(2);
    });

    it('takes along what the same device sent before it, in order, so its PUBACKs keep their order', async () => {
      const { db, commit } = setup();
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      const released: string[] = [];
      const submit = (name: string, source: string, urgent = false) =>
        commit.submit(() => insert.run(name), { urgent, source }).then(() => released.push(name));
      await Promise.all([
        submit('other-1', 'lock-1'),
        submit('test', 'smoke-1'),
        submit('other-2', 'lock-2'),
        submit('alarm', 'smoke-1', true),
        submit('clear', 'smoke-1'),
      ]);
      expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['test', 'alarm', 'other-1', 'other-2', 'clear']);
      expect(released).toEqual(['test', 'alarm', 'other-1', 'other-2', 'clear']);
      expect(commit.committedBatches).toBe(2);
    });

    it('does not let a stream of urgent messages starve ordinary work', async () => {
      const { db, commit } = setup();
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      let ordinaryDone = false;
      void commit.submit(() => insert.run('event'), { source: 'lock-1' }).then(() => { ordinaryDone = true; });
      for (let turn = 0; turn < 10 && !ordinaryDone; turn++) {
        void commit.submit(() => insert.run(`alarm-${turn}`), { urgent: true, source: `smoke-${turn}` });
        await new Promise((r) => setImmediate(r));
      }
      expect(ordinaryDone).toBe(true);
    });

    it('commits only urgent work while held for a WAL restart, and the rest on resume', async () => {
      const { db, commit } = setup();
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      commit.hold();
      let ordinaryDone = false;
      const ordinary = commit.submit(() => insert.run('event'), { source: 'lock-1' }).then(() => { ordinaryDone = true; });
      await commit.submit(() => insert.run('alarm'), { urgent: true, source: 'smoke-1' });
      await new Promise((r) => setTimeout(r, 20));
      expect(ordinaryDone).toBe(false);
      expect(commit.committedBatches).toBe(1);
      commit.resume();
      await ordinary;
      expect(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all()).toEqual(['alarm', 'event']);
    });

    it('commits held work at shutdown', () => {
      const { db, commit } = setup();
      commit.hold();
      void commit.submit(() => db.prepare('INSERT INTO t VALUES (?)').run('event'));
      commit.flushNow();
      expect(commit.committedBatches).toBe(1);
    });

    it('goes back to whole batches once the urgent work is committed', async () => {
      const { db, commit } = setup();
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      await commit.submit(() => insert.run('alarm'), { urgent: true, source: 'smoke-1' });
      await Promise.all(Array.from({ length: 10 }, (_, i) => commit.submit(() => insert.run(i), { source: 'smoke-1' })));
      expect(commit.committedBatches).toBe(2);
    });

    it('says when a transaction with an urgent event has committed, before its fsync returns', async () => {
      const db = openDatabase(':memory:');
      const clock = new FakeClock();
      const outbox = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock, maxBytes: 1 << 30, deliveredRetentionMs: 0 });
      let urgentCommits = 0;
      const neverSynced = { sync: () => new Promise<void>(() => {}), syncNow: () => undefined };
      const commit = new GroupCommit(db, { outbox, flood: new FloodControl(clock), clock, logger, durability: neverSynced, onUrgentCommit: () => urgentCommits++ });
      const turn = () => new Promise((r) => setImmediate(r));
      void commit.submit((tx) => tx.emit({ class: 'device', type: 'test', data: {} }));
      await turn();
      expect(urgentCommits).toBe(0);
      void commit.submit((tx) => tx.emit({ class: 'alarm', type: 'smoke', data: {} }), { urgent: true, source: 'smoke-1' });
      await turn();
      expect(urgentCommits).toBe(1);
      expect(commit.committedBatches).toBe(2);
    });
  });
});
