// Ack after commit, with group commit (ARCHITECTURE.md invariant 2 and the aedes notes).
// Work submitted while a commit is pending joins the next transaction, and the events it
// emits are appended to the outbox in one call at the end of it. Once the transaction is
// on disk (release-after-sync.ts), the submitters are released in arrival order (one FIFO
// keeps PUBACK order) and their after-commit effects run. A full or failing disk
// withholds the releases and retries for at most `withholdMs`, then rejects them so the
// broker closes those connections (invariant 5); a failed fsync rejects them at once and
// for good. Whatever does not commit has its memory changes undone.
import type { Db } from '../store/db.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Outbox } from '../outbox/outbox.ts';
import type { FloodControl } from '../flood.ts';
import { TxScope, type Tx } from './tx.ts';
import { isUrgent } from '../../protocol/upstream.ts';
import { durableOnCommit, type Durability } from '../store/wal-sync.ts';
import { ReleaseAfterSync, type CommittedBatch } from './release-after-sync.ts';
import { urgentLane, type Queued } from './urgent-lane.ts';

/**
 * How a piece of work joins the queue: `urgent` if it will emit an urgent event (a smoke
 * alarm), so it commits ahead of the queue; `source` is who submitted it (a device id),
 * whose earlier work then commits with it, in order (urgent-lane.ts).
 */
export type SubmitOptions = Queued;

type Pending = SubmitOptions & {
  work: (tx: Tx) => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  submittedMono: number;
};

type Outcome = { ok: true; value: unknown; scope: TxScope } | { ok: false; err: unknown };
/** What one transaction did: an outcome per piece of work, and the last outbox seq written. */
type BatchResult = { outcomes: Outcome[]; throughSeq: number | undefined };

export type GroupCommitOptions = {
  outbox: Outbox;
  flood: FloodControl;
  clock: Clock;
  logger: Logger;
  /** Makes a commit durable; by default the connection's COMMIT already is (synchronous=FULL). */
  durability?: Durability;
  maxBatch?: number;
  withholdMs?: number;
  retryMs?: number;
  /**
   * Called after each transaction, before its fsync: if it rolled back, what it reported
   * (outbox drops) did not happen.
   */
  onTransaction?: (committed: boolean) => void;
  /**
   * Called once each commit is durable (the outbox's sync mark, the seq reservation, the
   * forwarder's wake-up): `urgent` if it holds an urgent event, `throughSeq` the last
   * outbox seq it wrote, if it wrote any.
   */
  onDurable?: (urgent: boolean, throughSeq: number | undefined) => void;
  /**
   * Called when a transaction with an urgent event has committed, before its fsync: an
   * alarm may go upstream at once (outbox/seq-reservation.ts).
   */
  onUrgentCommit?: () => void;
  /** Told when the store starts or stops refusing writes (health, `gateway/disk_full`). */
  onStorageState?: (failing: boolean, err?: unknown) => void;
};

/** SQLite errors that mean "the store cannot write now", not "this work is wrong". */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|CORRUPT|NOTADB)/.test(code);
}

class WorkFailed extends Error {}

export class GroupCommit {
  private queue: Pending[] = [];
  /** Urgent work in the queue. */
  private urgentQueued = 0;
  /** Ordinary work waits while the WAL starts over (store/checkpointer.ts). */
  private held = false;
  /** The last batch was the urgent lane: the next one is the queue's head. */
  private lastWasUrgentLane = false;
  private scheduled = false;
  /** The store refuses transactions, or the fsync fails (`release`). */
  private readonly failing = { store: false, sync: false };
  private readonly maxBatch: number;
  private readonly withholdMs: number;
  private readonly retryMs: number;
  private batches = 0;
  private readonly release: ReleaseAfterSync;

  constructor(private readonly db: Db, private readonly opts: GroupCommitOptions) {
    this.maxBatch = opts.maxBatch ?? 2000;
    this.withholdMs = opts.withholdMs ?? 10_000;
    this.retryMs = opts.retryMs ?? 250;
    this.release = new ReleaseAfterSync({
      durability: opts.durability ?? durableOnCommit,
      logger: opts.logger,
      onSyncFailed: (err) => this.setFailing('sync', true, err),
    });
  }

  /** Runs `work` inside the next shared transaction; resolves with its result once committed. */
  submit<R>(work: (tx: Tx) => R, options: SubmitOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ ...options, work, resolve: resolve as (v: unknown) => void, reject, submittedMono: this.opts.clock.monotonic() });
      if (options.urgent) this.urgentQueued++;
      this.schedule(0);
    });
  }

  get storageFailing(): boolean {
    return this.failing.store || this.failing.sync;
  }

  get committedBatches(): number {
    return this.batches;
  }

  /** While the checkpointer restarts the WAL: only urgent work commits. */
  hold(): void {
    this.held = true;
  }

  resume(): void {
    this.held = false;
    if (this.queue.length > 0) this.schedule(0);
  }

  /** Commits whatever is queued now and syncs it; used at shutdown so in-flight commits finish. */
  flushNow(): void {
    this.held = false;
    while (this.queue.length > 0 && this.commitBatch()) { /* drain */ }
    this.release.flushNow();
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      if (this.commitBatch() && this.queue.length > 0 && (!this.held || this.urgentQueued > 0)) this.schedule(0);
    };
    // setImmediate lets every packet of the current socket read join this batch
    // without adding a fixed delay to alarms.
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs).unref();
  }

  /** Returns false when the store refused the batch (it stays queued). */
  private commitBatch(): boolean {
    const { batch, isUrgentLane } = this.nextBatch();
    if (batch.length === 0) return true;
    let result: BatchResult;
    try {
      result = this.runBatch(batch, false);
    } catch (err) {
      if (!(err instanceof WorkFailed)) return this.onStoreFailure(err);
      // A piece of work threw: run the batch again with a savepoint per piece, so only
      // that piece is rolled back.
      try {
        result = this.runBatch(batch, true);
      } catch (retryErr) {
        return this.onStoreFailure(retryErr);
      }
    }
    this.dequeue(batch);
    this.lastWasUrgentLane = isUrgentLane;
    this.batches++;
    this.setFailing('store', false);
    this.opts.onTransaction?.(true);
    const { outcomes, throughSeq } = result;
    const urgent = outcomes.some((o) => o.ok && o.scope.events.some((e) => isUrgent(e.class)));
    this.release.add({
      urgent,
      releases: batch.map((item, i) => this.releaseOf(item, outcomes[i]!)),
      onDurable: () => this.opts.onDurable?.(urgent, throughSeq),
    });
    if (urgent) this.opts.onUrgentCommit?.();
    return true;
  }

  /**
   * The queue's head, or, while urgent work waits, the urgent lane: under load an alarm
   * then commits in a small transaction with an fsync of its own instead of after a batch
   * of ordinary events (ARCHITECTURE.md invariant 4). Never the lane twice in a row while
   * ordinary work may commit, so a stream of urgent messages cannot starve the rest.
   */
  private nextBatch(): { batch: Pending[]; isUrgentLane: boolean } {
    if (this.urgentQueued > 0 && (this.held || !this.lastWasUrgentLane)) {
      return { batch: urgentLane(this.queue).slice(0, this.maxBatch), isUrgentLane: true };
    }
    return { batch: this.held ? [] : this.queue.slice(0, this.maxBatch), isUrgentLane: false };
  }

  private dequeue(batch: readonly Pending[]): void {
    for (const p of batch) if (p.urgent) this.urgentQueued--;
    if (this.queue[batch.length - 1] === batch.at(-1)) this.queue.splice(0, batch.length);
    else {
      const taken = new Set(batch);
      this.queue = this.queue.filter((p) => !taken.has(p));
    }
  }

  /** One transaction: every piece of work, then one outbox append for all their events. */
  private runBatch(batch: Pending[], isolate: boolean): BatchResult {
    const outcomes: Outcome[] = [];
    try {
      const throughSeq = this.db.transaction(() => {
        for (const item of batch) outcomes.push(isolate ? this.runIsolated(item) : this.run(item));
        const events = outcomes.flatMap((o) => (o.ok ? o.scope.events : []));
        return events.length > 0 ? this.opts.outbox.append(events).at(-1)?.seq : undefined;
      })();
      return { outcomes, throughSeq };
    } catch (err) {
      for (const o of outcomes.reverse()) if (o.ok) o.scope.rollback();
      this.opts.onTransaction?.(false);
      throw err;
    }
  }

  private run(item: Pending): Outcome {
    const scope = new TxScope(this.opts.clock.now(), this.opts.flood);
    try {
      return { ok: true, value: item.work(scope), scope };
    } catch (err) {
      scope.rollback();
      throw isStorageFailure(err) ? err : new WorkFailed('work failed', { cause: err });
    }
  }

  private runIsolated(item: Pending): Outcome {
    const scope = new TxScope(this.opts.clock.now(), this.opts.flood);
    try {
      return { ok: true, value: this.db.transaction(() => item.work(scope))(), scope };
    } catch (err) {
      scope.rollback();
      if (isStorageFailure(err)) throw err;
      this.opts.logger.error({ err }, 'work failed inside a commit; rolled back alone');
      return { ok: false, err };
    }
  }

  private releaseOf(item: Pending, outcome: Outcome): CommittedBatch['releases'][number] {
    return {
      reject: item.reject,
      release: () => {
        if (!outcome.ok) return item.reject(outcome.err);
        for (const effect of outcome.scope.effects) {
          try {
            effect();
          } catch (err) {
            this.opts.logger.error({ err }, 'after-commit effect failed');
          }
        }
        item.resolve(outcome.value);
      },
    };
  }

  private onStoreFailure(err: unknown): false {
    if (!isStorageFailure(err)) this.opts.logger.error({ err }, 'commit failed');
    this.setFailing('store', true, err);
    const now = this.opts.clock.monotonic();
    const expired = this.queue.filter((p) => now - p.submittedMono >= this.withholdMs);
    this.dequeue(expired);
    for (const p of expired) p.reject(err);
    if (this.queue.length > 0) this.schedule(this.retryMs);
    return false;
  }

  private setFailing(cause: keyof GroupCommit['failing'], failing: boolean, err?: unknown): void {
    const before = this.storageFailing;
    this.failing[cause] = failing;
    if (this.storageFailing !== before) this.opts.onStorageState?.(this.storageFailing, err);
  }
}
