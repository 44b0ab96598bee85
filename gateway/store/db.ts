// One SQLite file holds the domain tables and the outbox, so a check-in and its events
// commit atomically (ARCHITECTURE.md, SQLite notes). WAL with synchronous=FULL: a commit
// is on disk before any ack that depends on it goes out (invariant 2).
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.ts';

export type Db = Database.Database;

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/**
 * Applies, in order, each migration newer than the file's `user_version`. The version is
 * read inside an IMMEDIATE transaction: a CLI command and the gateway opening a fresh
 * file at the same moment take turns instead of both creating the tables.
 */
function migrate(db: Db): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const [index, sql] of MIGRATIONS.entries()) {
      if (index + 1 > current) db.exec(sql);
    }
    if (MIGRATIONS.length > current) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}
