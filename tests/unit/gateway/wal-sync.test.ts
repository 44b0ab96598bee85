import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../gateway/store/db.ts';
import { WalSync } from '../../../gateway/store/wal-sync.ts';

const dirs: string[] = [];
const dbs: Db[] = [];

function fileDb(): Db {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-walsync-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'menwei.db'));
  dbs.push(db);
  return db;
}

afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('WAL sync off the event loop (store/wal-sync.ts)', () => {
  it('leaves the COMMIT unsynced and syncs the WAL file itself', async () => {
    const db = fileDb();
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL, as opened
    const sync = new WalSync(db);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    db.exec('CREATE TABLE t (v BLOB)');
    await sync.sync();
    sync.close();
    // Its own descriptor does the work: once closed, a sync fails instead of passing.
    await expect(sync.sync()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('refuses a connection without a WAL file, rather than syncing nothing', () => {
    const db = openDatabase(':memory:');
    dbs.push(db);
    expect(() => new WalSync(db)).toThrow(/ENOENT/);
  });
});
