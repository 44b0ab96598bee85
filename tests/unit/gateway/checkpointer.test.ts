import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Db } from '../../../gateway/store/db.ts';
import { BACKSTOP_PAGES, Checkpointer, RESTART_PAGES } from '../../../gateway/store/checkpointer.ts';
import { createLogger } from '../../../gateway/logger.ts';

const logger = createLogger({ level: 'silent' });
const dirs: string[] = [];
const dbs: Db[] = [];

function fileDb(): { db: Db; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-ckpt-'));
  dirs.push(dir);
  const file = join(dir, 'menwei.db');
  const db = openDatabase(file);
  db.exec('CREATE TABLE t (v BLOB)');
  dbs.push(db);
  return { db, file };
}

/** The group commit's side of a WAL restart: how often and how long it was held. */
function writer() {
  const w = { held: false, holds: 0, hold: () => { w.held = true; w.holds++; }, resume: () => { w.held = false; } };
  return w;
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('WAL checkpoints off the event loop (ARCHITECTURE.md "SQLite")', () => {
  it('copies committed pages into the database file long before the connection would itself', async () => {
    const { db, file } = fileDb();
    const checkpointer = new Checkpointer(db, writer(), logger, { intervalMs: 10 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(BACKSTOP_PAGES);
    const before = statSync(file).size;
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(40_000, i)); // about 1,000 pages
    await until(() => statSync(file).size > before + 3_000_000);
    await checkpointer.stop();
  });

  it('starts the WAL over while commits never stop, holding the writer briefly instead of checkpointing on its thread', async () => {
    const { db, file } = fileDb();
    db.pragma('synchronous = OFF'); // this is about the WAL's size, not durability
    const w = writer();
    const checkpointer = new Checkpointer(db, w, logger, { intervalMs: 10 });
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    let written = 0;
    while (written < 1_500) { // about 15,000 pages, nearly 4 times the restart size
      if (!w.held) insert.run(Buffer.alloc(40_000, written++));
      await new Promise((r) => setTimeout(r, 1)); // the thread checkpoints meanwhile
    }
    expect(w.holds).toBeGreaterThanOrEqual(2);
    // Never near the backstop (twice the restart size), so the connection never checkpointed by itself.
    expect(statSync(`${file}-wal`).size).toBeLessThan(1.5 * RESTART_PAGES * (4096 + 24));
    await checkpointer.stop();
  });

  /** A stand-in for the thread, so the test says when it asks for a hold: it ends when told to stop. */
  function fakeThread() {
    const thread = Object.assign(new EventEmitter(), {
      posted: [] as string[],
      postMessage: (message: string) => {
        thread.posted.push(message);
        if (message === 'stop') setImmediate(() => thread.emit('exit'));
      },
      ref: () => undefined,
      unref: () => undefined,
    });
    return thread;
  }

  /** A checkpointer on a stand-in thread that has just asked for a hold. */
  function heldByThread() {
    const { db } = fileDb();
    const w = writer();
    const thread = fakeThread();
    const checkpointer = new Checkpointer(db, w, logger, { startThread: () => thread });
    thread.emit('message', { hold: true });
    expect(w.held).toBe(true);
    return { w, thread, checkpointer };
  }

  it('tells the thread it is held, lets the writer go at stop, and holds it no more', async () => {
    const { w, thread, checkpointer } = heldByThread();
    expect(thread.posted).toEqual(['held']);
    const stopped = checkpointer.stop();
    expect(w.held).toBe(false);
    thread.emit('message', { hold: true });
    expect(w.held).toBe(false);
    await stopped;
    expect(thread.posted).toEqual(['held', 'stop']);
  });

  it('lets the writer go after a second even if the thread never ends its hold', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { w, checkpointer } = heldByThread();
      vi.advanceTimersByTime(999);
      expect(w.held).toBe(true);
      vi.advanceTimersByTime(1);
      expect(w.held).toBe(false);
      await checkpointer.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets the writer go when the thread resumes it', async () => {
    const { w, thread, checkpointer } = heldByThread();
    thread.emit('message', { resume: true });
    expect(w.held).toBe(false);
    await checkpointer.stop();
  });

  it('lets the connection checkpoint by itself again when the thread cannot run', async () => {
    const { db, file } = fileDb();
    const checkpointer = new Checkpointer(db, writer(), logger, { intervalMs: 10 });
    rmSync(file); // the thread opens the file by name, and it is gone
    await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 1000);
    await checkpointer.stop();
  });
});
