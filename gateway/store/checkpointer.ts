// ARCHITECTURE.md "SQLite": with automatic checkpoints, the commit that pushes the WAL
// past 1,000 pages also copies them into the database file and fsyncs it, on the event
// loop. At 5,000 events/s that was a 10–25 ms stall every quarter second (issue 8). A
// worker thread checkpoints instead (checkpoint-worker.mjs). Its PASSIVE checkpoints
// never wait for the writer, so under a steady load a commit always lands during one and
// the WAL never starts over (measured: 78 MiB after 100,000 rows). Past RESTART_PAGES
// the thread has the group commit hold its ordinary work for one short checkpoint, and
// the next commit starts the WAL over; urgent work still commits meanwhile (the restart
// then waits for the next tick). The connection checkpoints by itself only past
// BACKSTOP_PAGES, should that fail; if the thread cannot run, at SQLite's default.
import { Worker } from 'node:worker_threads';
import type { Db } from './db.ts';
import type { Logger } from '../logger.ts';

/** SQLite's default: the WAL size in pages at which a commit checkpoints by itself. */
const AUTOCHECKPOINT_PAGES = 1000;
/** About 16 MiB of WAL, a few seconds of the heaviest load measured (issue 8). */
export const RESTART_PAGES = 4000;
export const BACKSTOP_PAGES = 2 * RESTART_PAGES;
/** A hold the thread does not end by then (a hung disk) ends anyway. */
const HOLD_MAX_MS = 1_000;

/** What the checkpointer holds while the WAL starts over: the group commit. */
export type Writer = { hold(): void; resume(): void };

type FromThread = { failed: string } | { hold: true } | { resume: true };

/** The checkpoint thread, as the checkpointer uses it: a worker_threads Worker, or a test's stand-in. */
export type CheckpointThread = {
  on(event: 'message', listener: (message: FromThread) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  once(event: 'exit', listener: () => void): void;
  postMessage(message: 'held' | 'stop'): void;
  ref(): void;
  unref(): void;
};

export type CheckpointerOptions = {
  /** How often the thread checkpoints (default 200 ms). */
  intervalMs?: number;
  /** Starts the thread; by default checkpoint-worker.mjs on a connection of its own. */
  startThread?: (workerData: { file: string; intervalMs: number; restartPages: number }) => CheckpointThread;
};

const startWorker: NonNullable<CheckpointerOptions['startThread']> = (workerData) =>
  new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData });

export class Checkpointer {
  private readonly worker: CheckpointThread;
  private readonly exited: Promise<void>;
  private holdTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(db: Db, private readonly writer: Writer, private readonly logger: Logger, opts: CheckpointerOptions = {}) {
    db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    const start = opts.startThread ?? startWorker;
    this.worker = start({ file: db.name, intervalMs: opts.intervalMs ?? 200, restartPages: RESTART_PAGES });
    this.worker.unref(); // a gateway never stopped (a test) must not keep the process alive
    this.worker.on('message', (m: FromThread) => {
      if ('hold' in m) this.hold();
      else if ('resume' in m) this.resume();
      else logger.warn({ code: m.failed }, 'WAL checkpoint failed; retrying');
    });
    this.worker.on('error', (err) => {
      logger.error({ err }, 'WAL checkpointer stopped; commits checkpoint on the event loop again');
      this.resume();
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      this.resume();
      resolve();
    }));
  }

  /** Before the gateway closes its connection, which then checkpoints what is left. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.resume();
    this.worker.ref(); // an unref'd thread would let the process exit before it closed
    this.worker.postMessage('stop');
    await this.exited;
  }

  private hold(): void {
    if (this.stopping) return; // the gateway has committed its last work
    this.writer.hold();
    this.holdTimer = setTimeout(() => {
      this.logger.warn({ ms: HOLD_MAX_MS }, 'WAL restart took too long; commits go on');
      this.resume();
    }, HOLD_MAX_MS);
    this.holdTimer.unref();
    this.worker.postMessage('held');
  }

  private resume(): void {
    if (!this.holdTimer) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    this.writer.resume();
  }
}
