// ARCHITECTURE.md "SQLite": synchronous=FULL fsyncs the WAL inside every COMMIT, on the
// event loop, and under load that fsync took up to 30 ms here (issue 8: the alarm p99).
// The gateway's connection commits with synchronous=NORMAL instead, which writes the
// WAL but does not sync it, and this syncs the WAL file on the libuv thread pool
// (fdatasync, as SQLite does: data and size, not the modification time). The group
// commit releases nothing (no PUBACK, no code, no command reply) before that sync
// returns, so an ack still means "on disk" (invariant 2), and the loop keeps serving
// while the disk works. Only alarms may go upstream before it (seq-reservation.ts). NORMAL keeps the file consistent after a power cut: WAL frames
// are checksummed, and a checkpoint syncs the WAL before it copies it.
import { closeSync, fdatasync, fdatasyncSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db } from './db.ts';

export type Durability = {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  /** The same, blocking: for shutdown. */
  syncNow(): void;
};

/** The gateway's: a WAL sync it closes at stop. */
export type WalDurability = Durability & { close(): void };

/** For a connection with synchronous=FULL, where a returned COMMIT is already on disk. */
export const durableOnCommit: Durability = { sync: () => Promise.resolve(), syncNow: () => undefined };

export class WalSync implements WalDurability {
  private readonly fd: number;

  /**
   * The WAL file keeps its inode while a connection is open (SQLite deletes it only when
   * the last connection closes), so one descriptor serves the gateway's whole run.
   */
  constructor(db: Db) {
    db.pragma('synchronous = NORMAL');
    this.fd = openSync(`${db.name}-wal`, 'r');
    // What an earlier run committed without a sync (a crash, not a power cut, leaves it in
    // the page cache) is made durable before anything of it is sent again; the directory
    // too, so the WAL file's own entry survives a power cut.
    fsyncSync(this.fd);
    syncDirectory(dirname(db.name));
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  syncNow(): void {
    fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
