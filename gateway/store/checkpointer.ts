// ARCHITECTURE.md "SQLite": with automatic checkpoints, the commit that pushes the WAL
// past 1,000 pages also copies them into the database file and fsyncs it, on the event
// loop. At 5,000 events/s that was a 10–25 ms stall every quarter second (issue 8). A
// worker thread checkpoints instead (checkpoint-worker.mjs), and the gateway's connection
// checkpoints by itself only past BACKSTOP_PAGES: the thread's PASSIVE checkpoints never
// wait for the writer, so under a steady load a commit always lands during one and the
// WAL, never fully copied, never starts over (measured: 78 MiB after 100,000 rows). The
// backstop then copies what little is left and lets the WAL restart. If the thread cannot
// run, the connection checkpoints at SQLite's default again.
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';
import type { Logger } from '../logger.ts';

/** SQLite's default: the WAL size in pages at which a commit checkpoints by itself. */
const AUTOCHECKPOINT_PAGES = 1000;
/** About 16 MiB of WAL, a few seconds of the heaviest load measured (issue 8). */
export const BACKSTOP_PAGES = 4000;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(db: Db, logger: Logger, intervalMs = 200) {
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    this.worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { file: db.name, intervalMs, backstopPages: BACKSTOP_PAGES } });
    this.worker.unref(); // a gateway never stopped (a test) must not keep the process alive
    this.worker.on('message', (m: { failed: string }) => logger.warn({ code: m.failed }, 'WAL checkpoint failed; retrying'));
    this.worker.on('error', (err) => {
      logger.error({ err }, 'WAL checkpointer stopped; commits checkpoint on the event loop again');
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Before the gateway closes its connection, which then checkpoints what is left. */
  async stop(): Promise<void> {
    this.worker.ref(); // an unref'd thread would let the process exit before it closed
    this.worker.postMessage('stop');
    await this.exited;
  }
}
