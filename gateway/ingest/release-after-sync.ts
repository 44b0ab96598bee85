// The second half of the group commit (ARCHITECTURE.md invariant 2): a committed batch is
// released only once it is on disk. `durability` makes it so (the gateway fsyncs the WAL
// on the libuv thread pool, store/wal-sync.ts) while the next batches commit. Releases
// keep commit order, so PUBACKs keep arrival order.
import type { Logger } from '../logger.ts';
import type { Durability } from '../store/wal-sync.ts';

/** A committed batch: its submitters' releases, in arrival order. */
export type CommittedBatch = {
  /** Holds an urgent event: its fsync starts at once, even with SYNCS_IN_FLIGHT running. */
  urgent?: boolean;
  releases: Array<{ release(): void; reject(err: unknown): void }>;
  /** Runs after the releases (the forwarder's wake-up). */
  onDurable(): void;
};

export type ReleaseAfterSyncOptions = {
  durability: Durability;
  logger: Logger;
  /** Told once, when an fsync fails: from then on the store is failing until a restart. */
  onSyncFailed(err: unknown): void;
};

/**
 * At most this many fsyncs at once, on the libuv thread pool (4 threads, shared with
 * crypto and dns). Two let a batch that commits during an fsync start its own at once
 * instead of waiting a whole fsync for its turn.
 */
const SYNCS_IN_FLIGHT = 2;
/** An alarm does not wait for a running fsync to finish before its own starts (invariant 4). */
const URGENT_SYNCS_IN_FLIGHT = SYNCS_IN_FLIGHT + 1;

type Waiting = CommittedBatch & { covered: boolean };

export class ReleaseAfterSync {
  /** Committed and not yet released, in commit order. */
  private waiting: Waiting[] = [];
  private inFlight = 0;
  /** The error of the fsync that failed, if one did (see fail()). */
  private failure: { err: unknown } | null = null;
  /** After flushNow (shutdown): every batch is synced and released at once. */
  private closed = false;

  constructor(private readonly opts: ReleaseAfterSyncOptions) {}

  add(batch: CommittedBatch): void {
    if (this.failure) return reject([batch], this.failure.err);
    this.waiting.push({ ...batch, covered: false });
    if (this.closed) this.flushNow();
    else this.syncNext();
  }

  /** At shutdown: one blocking fsync, then every waiting batch is released. */
  flushNow(): void {
    this.closed = true;
    if (this.failure) return;
    try {
      this.opts.durability.syncNow();
    } catch (err) {
      return this.fail(err);
    }
    this.settle(this.waiting.splice(0));
  }

  /**
   * An fsync makes durable everything written before it started, so when one returns,
   * every batch up to the last it covers is released, also those an earlier, still
   * running fsync covers.
   */
  private syncNext(): void {
    if (this.inFlight >= URGENT_SYNCS_IN_FLIGHT) return;
    const covered = this.waiting.filter((b) => !b.covered);
    const last = covered.at(-1);
    if (!last) return;
    if (this.inFlight >= SYNCS_IN_FLIGHT && !covered.some((b) => b.urgent)) return;
    for (const b of covered) b.covered = true;
    this.inFlight++;
    this.opts.durability.sync().then(
      () => {
        this.inFlight--;
        if (this.closed || this.failure) return;
        this.settle(this.waiting.splice(0, this.waiting.indexOf(last) + 1));
        this.syncNext();
      },
      (err: unknown) => {
        this.inFlight--;
        if (!this.closed) this.fail(err);
      },
    );
  }

  private settle(batches: CommittedBatch[]): void {
    for (const batch of batches) {
      for (const r of batch.releases) r.release();
      batch.onDurable();
    }
  }

  /**
   * Linux reports a failed writeback once and then marks the pages clean, so a later
   * fsync that succeeds proves nothing about them (PostgreSQL's "fsyncgate"). After a
   * failed fsync nothing is released again until a restart: what waits and whatever
   * commits later is rejected (the broker closes those connections, no code is issued,
   * no command is acknowledged), the forwarder's watermark stays where it was, and
   * health says the store is failing (invariant 5).
   */
  private fail(err: unknown): void {
    if (!this.failure) {
      this.failure = { err };
      this.opts.logger.error({ err }, 'WAL fsync failed: nothing is acknowledged until a restart');
      this.opts.onSyncFailed(err);
    }
    reject(this.waiting.splice(0), err);
  }
}

function reject(batches: readonly CommittedBatch[], err: unknown): void {
  for (const batch of batches) for (const r of batch.releases) r.reject(err);
}
