// The second half of the group commit (ARCHITECTURE.md invariant 2): a committed batch is
// released only once it is on disk. `durability` makes it so (the gateway fsyncs the WAL
// on the libuv thread pool, store/wal-sync.ts) while the next batches commit. Releases
// keep commit order, so PUBACKs keep arrival order.
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Durability } from '../store/wal-sync.ts';

/** A committed batch: its submitters' releases, in arrival order. */
export type CommittedBatch = {
  releases: Array<{ submittedMono: number; release(): void; reject(err: unknown): void }>;
  /** Runs after the releases (the forwarder's wake-up). */
  onDurable(): void;
};

export type ReleaseAfterSyncOptions = {
  durability: Durability;
  clock: Clock;
  logger: Logger;
  withholdMs: number;
  retryMs: number;
  /** Told when an fsync fails and when one succeeds again. */
  onSyncState(failing: boolean, err?: unknown): void;
};

/**
 * At most this many fsyncs at once, on the libuv thread pool (4 threads, shared with
 * crypto and dns). Two let a batch that commits during an fsync start its own at once
 * instead of waiting a whole fsync for its turn.
 */
const SYNCS_IN_FLIGHT = 2;

type Waiting = CommittedBatch & { covered: boolean };

export class ReleaseAfterSync {
  /** Committed and not yet released, in commit order. */
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private failing = false;

  constructor(private readonly opts: ReleaseAfterSyncOptions) {}

  add(batch: CommittedBatch): void {
    this.waiting.push({ ...batch, covered: false });
    this.syncNext();
  }

  /** At shutdown: one blocking fsync, then every waiting batch is released. */
  flushNow(): void {
    if (this.waiting.length === 0) return;
    this.opts.durability.syncNow();
    this.settle(this.waiting.splice(0));
  }

  /**
   * An fsync makes durable everything written before it started, so when one returns,
   * every batch up to the last it covers is released, also those an earlier, still
   * running fsync covers.
   */
  private syncNext(): void {
    if (this.inFlight >= SYNCS_IN_FLIGHT) return;
    const covered = this.waiting.filter((b) => !b.covered);
    const last = covered.at(-1);
    if (!last) return;
    for (const b of covered) b.covered = true;
    this.inFlight++;
    this.opts.durability.sync().then(
      () => {
        this.inFlight--;
        this.settle(this.waiting.splice(0, this.waiting.indexOf(last) + 1));
        this.syncNext();
      },
      (err: unknown) => {
        this.inFlight--;
        for (const b of covered) b.covered = false;
        this.withhold(err);
      },
    );
  }

  private settle(batches: CommittedBatch[]): void {
    if (batches.length > 0 && this.failing) {
      this.failing = false;
      this.opts.onSyncState(false);
    }
    for (const batch of batches) {
      for (const r of batch.releases) r.release();
      batch.onDurable();
    }
  }

  /**
   * The batches are committed but maybe not on disk. Their releases wait while the fsync
   * is retried; past `withholdMs` they are rejected without undoing anything, since the
   * rows are in the file: a device's retry is then an exact duplicate (PROTOCOL.md §1).
   */
  private withhold(err: unknown): void {
    this.opts.logger.error({ err }, 'WAL fsync failed; acks withheld');
    if (!this.failing) {
      this.failing = true;
      this.opts.onSyncState(true, err);
    }
    const now = this.opts.clock.monotonic();
    for (const batch of this.waiting) {
      const expired = batch.releases.filter((r) => now - r.submittedMono >= this.opts.withholdMs);
      for (const r of expired) r.reject(err);
      batch.releases = batch.releases.filter((r) => !expired.includes(r));
    }
    setTimeout(() => this.syncNext(), this.opts.retryMs).unref();
  }
}
