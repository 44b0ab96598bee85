// ARCHITECTURE.md "SQLite": with automatic checkpoints, the commit that pushes the WAL
// past 1,000 pages also copies them into the database file and fsyncs it, on the event
// loop. At 5,000 events/s that was a 10–25 ms stall every quarter second, the tail of
// the alarm latency (issue 8). The gateway's connection turns them off and a worker
// thread checkpoints instead (checkpoint-worker.mjs). If that thread cannot run, the
// connection checkpoints itself again, so the WAL never grows without bound.
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';
import type { Logger } from '../logger.ts';

/** SQLite's default: the WAL size in pages at which a commit checkpoints by itself. */
const AUTOCHECKPOINT_PAGES = 1000;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(db: Db, logger: Logger, intervalMs = 200) {
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { file: db.name, intervalMs } });
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
