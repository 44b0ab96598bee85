// Ack after commit, with group commit (ARCHITECTURE.md invariant 2 and the aedes notes).
// Work submitted while a commit is pending joins the next transaction; when it commits,
// the submitters are released in arrival order (one FIFO keeps PUBACK order). A full
// or failing disk withholds the releases and retries for at most `withholdMs`, then
// rejects them so the broker closes those connections (invariant 5).
import type { Db } from '../store/db.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';

type Pending = {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  submittedMono: number;
};

export type GroupCommitOptions = {
  clock: Clock;
  logger: Logger;
  maxBatch?: number;
  withholdMs?: number;
  retryMs?: number;
  /** Called after every successful commit (the forwarder's wake-up). */
  onCommitted?: () => void;
  /** Told when the store starts or stops refusing writes (health, `gateway/disk_full`). */
  onStorageState?: (failing: boolean, err?: unknown) => void;
};

/** SQLite errors that mean "the store cannot write now", not "this work is wrong". */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|CORRUPT|NOTADB)/.test(code);
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private failing = false;
  private readonly maxBatch: number;
  private readonly withholdMs: number;
  private readonly retryMs: number;
  private batches = 0;

  constructor(private readonly db: Db, private readonly opts: GroupCommitOptions) {
    this.maxBatch = opts.maxBatch ?? 2000;
    this.withholdMs = opts.withholdMs ?? 10_000;
    this.retryMs = opts.retryMs ?? 250;
  }

  /** Runs `work` inside the next shared transaction; resolves with its result once committed. */
  submit<R>(work: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject, submittedMono: this.opts.clock.monotonic() });
      this.schedule(0);
    });
  }

  get storageFailing(): boolean {
    return this.failing;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  get committedBatches(): number {
    return this.batches;
  }

  /** Commits whatever is queued now; used at shutdown so in-flight commits finish. */
  flushNow(): void {
    while (this.queue.length > 0 && this.commitBatch()) { /* drain */ }
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.commitBatch() && this.queue.length > 0) this.schedule(0);
    };
    // setImmediate lets every packet of the current socket read join this batch
    // without adding a fixed delay to alarms.
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs).unref();
  }

  /** Returns false when the store refused the batch (it stays queued). */
  private commitBatch(): boolean {
    const batch = this.queue.slice(0, this.maxBatch);
    if (batch.length === 0) return true;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; err: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) outcomes.push(this.runIsolated(item));
      })();
    } catch (err) {
      this.onStoreFailure(err);
      return false;
    }
    this.queue.splice(0, batch.length);
    this.batches++;
    if (this.failing) this.setFailing(false);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.err);
    });
    this.opts.onCommitted?.();
    return true;
  }

  /** A savepoint per item: a bug in one piece of work rolls back only that piece. */
  private runIsolated(item: Pending): { ok: true; value: unknown } | { ok: false; err: unknown } {
    try {
      return { ok: true, value: this.db.transaction(item.work)() };
    } catch (err) {
      if (isStorageFailure(err)) throw err;
      this.opts.logger.error({ err }, 'work failed inside a commit; rolled back alone');
      return { ok: false, err };
    }
  }

  private onStoreFailure(err: unknown): void {
    if (!isStorageFailure(err)) this.opts.logger.error({ err }, 'commit failed');
    if (!this.failing) this.setFailing(true, err);
    const now = this.opts.clock.monotonic();
    const expired = this.queue.filter((p) => now - p.submittedMono >= this.withholdMs);
    this.queue = this.queue.filter((p) => now - p.submittedMono < this.withholdMs);
    for (const p of expired) p.reject(err);
    if (this.queue.length > 0) this.schedule(this.retryMs);
  }

  private setFailing(failing: boolean, err?: unknown): void {
    this.failing = failing;
    this.opts.onStorageState?.(failing, err);
  }
}
