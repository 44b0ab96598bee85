import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../gateway/ingest/group-commit.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';
import { openDatabase } from '../../../gateway/store/db.ts';
import { SqliteOutbox } from '../../../gateway/outbox/sqlite-outbox.ts';
import { FloodControl } from '../../../gateway/flood.ts';
import type { Durability } from '../../../gateway/store/wal-sync.ts';

/** An fsync that finishes when the test says so. */
class ManualSync implements Durability {
  readonly pending: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  blockingSyncs = 0;
  sync(): Promise<void> {
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  syncNow(): void {
    this.blockingSyncs++;
  }
  finish(): void {
    this.pending.shift()!.resolve();
  }
  fail(): void {
    this.pending.shift()!.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  }
}

const turn = () => new Promise((r) => setImmediate(r));

function setup() {
  const db = openDatabase(':memory:');
  const clock = new FakeClock();
  const durability = new ManualSync();
  const durable: Array<{ urgent: boolean; throughSeq: number | undefined }> = [];
  const states: boolean[] = [];
  const outbox = new SqliteOutbox(db, { gatewayId: 'gw-test', bootId: 'b', clock, maxBytes: 1 << 30, deliveredRetentionMs: 0 });
  const commit = new GroupCommit(db, {
    outbox, flood: new FloodControl(clock), clock, logger: createLogger({ level: 'silent' }), durability,
    onDurable: (urgent, throughSeq) => durable.push({ urgent, throughSeq }),
    onStorageState: (failing) => states.push(failing),
  });
  const released: string[] = [];
  const submit = (name: string, cls: 'alarm' | 'device' = 'device') =>
    commit.submit((tx) => tx.emit({ class: cls, type: name, data: {} }), { urgent: cls === 'alarm' }).then(() => released.push(name));
  return { commit, durability, durable, states, released, submit, clock };
}

describe('releases after the fsync (ARCHITECTURE.md invariant 2, store/wal-sync.ts)', () => {
  it('releases nothing and wakes nobody before the fsync returns', async () => {
    const { commit, durability, durable, released, submit } = setup();
    void submit('a', 'alarm');
    await turn();
    expect(commit.committedBatches).toBe(1);
    expect(released).toEqual([]);
    expect(durable).toEqual([]);
    durability.finish();
    await turn();
    expect(released).toEqual(['a']);
    expect(durable).toEqual([{ urgent: true, throughSeq: 1 }]);
  });

  it('keeps committing during fsyncs, runs two at once, and releases in commit order', async () => {
    const { commit, durability, durable, released, submit } = setup();
    for (const name of ['a', 'b', 'c']) {
      void submit(name);
      await turn();
    }
    expect(commit.committedBatches).toBe(3);
    expect(durability.pending).toHaveLength(2); // c waits for a free slot
    durability.finish();
    await turn();
    expect(released).toEqual(['a']);
    expect(durability.pending).toHaveLength(2); // c's fsync started
    durability.finish();
    durability.finish();
    await turn();
    expect(released).toEqual(['a', 'b', 'c']);
    expect(durable.map((d) => d.throughSeq)).toEqual([1, 2, 3]);
  });

  it('starts the fsync of an alarm at once, even with two running, and releases it first', async () => {
    const { durability, released, submit } = setup();
    for (const name of ['a', 'b', 'c']) {
      void submit(name);
      await turn();
    }
    void submit('fire', 'alarm');
    await turn();
    expect(durability.pending).toHaveLength(3); // a, b, and the alarm with c; not a fourth
    void submit('d');
    void submit('fire-2', 'alarm');
    await turn();
    expect(durability.pending).toHaveLength(3); // a second alarm waits like the rest
    durability.pending.pop()!.resolve(); // the alarm's fsync covers a, b and c as well
    await turn();
    expect(released).toEqual(['a', 'b', 'c', 'fire']);
  });

  it('releases, when a later fsync returns first, what the earlier one covers too', async () => {
    const { durability, released, submit } = setup();
    void submit('a');
    await turn();
    void submit('b');
    await turn();
    durability.pending.pop()!.resolve(); // b's fsync: it flushed a's pages as well
    await turn();
    expect(released).toEqual(['a', 'b']);
    durability.finish();
    await turn();
    expect(released).toEqual(['a', 'b']);
  });

  it('after a failed fsync releases nothing again, even when a later fsync succeeds', async () => {
    const { commit, durability, durable, released, states, submit } = setup();
    const outcomes = [submit('a'), submit('b')].map((p) => p.then(() => 'released', (err: { code?: string }) => err.code));
    await turn();
    const c = submit('c').then(() => 'released', (err: { code?: string }) => err.code);
    await turn();
    durability.fail(); // a and b's fsync
    durability.finish(); // c's: the failed pages may be marked clean, so it proves nothing
    await turn();
    expect(await Promise.all([...outcomes, c])).toEqual(['EIO', 'EIO', 'EIO']);
    expect(await submit('d').then(() => 'released', (err: { code?: string }) => err.code)).toBe('EIO');
    expect(released).toEqual([]);
    expect(durable).toEqual([]); // the forwarder's watermark stays put
    expect(commit.storageFailing).toBe(true);
    expect(states).toEqual([true]);
  });

  it('at shutdown, syncs once blocking and releases everything committed', async () => {
    const { commit, durability, released, submit } = setup();
    void submit('a');
    await turn();
    void submit('b');
    commit.flushNow();
    await turn();
    expect(durability.blockingSyncs).toBe(1);
    expect(released).toEqual(['a', 'b']);
    durability.finish(); // the fsync that was running: nothing is released twice
    await turn();
    expect(released).toEqual(['a', 'b']);
  });
});
