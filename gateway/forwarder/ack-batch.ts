// Upstream PUBACKs come one by one; marking each in its own SQLite commit would cost a
// synchronous fsync per event (ARCHITECTURE.md "SQLite"). So seqs are collected and
// marked delivered in one call, every few milliseconds or every `maxBatch` acks.
// Invariant 3 holds either way: only acknowledged seqs ever enter the batch.
import type { Logger } from '../logger.ts';
import type { Outbox } from '../outbox/outbox.ts';

/** After a failed markDelivered, try again this much later. */
const RETRY_MS = 1_000;

export class AckBatch {
  private seqs: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly outbox: Outbox,
    private readonly logger: Logger,
    private readonly delayMs: number,
    private readonly maxBatch: number,
  ) {}

  add(seq: number): void {
    this.seqs.push(seq);
    if (this.seqs.length >= this.maxBatch) this.flush();
    else this.arm(this.delayMs);
  }

  /** Marks everything collected so far. On failure the seqs are kept and retried. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.seqs.length === 0) return;
    const batch = this.seqs;
    this.seqs = [];
    try {
      this.outbox.markDelivered(batch);
    } catch (err) {
      // Not marked means sent again after the next rewind: a duplicate, never a loss.
      this.logger.error({ err, count: batch.length }, 'outbox markDelivered failed; will retry');
      this.seqs = batch.concat(this.seqs);
      this.arm(RETRY_MS);
    }
  }

  /** At shutdown: stops retrying. Seqs still unmarked are simply sent again next time. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer ??= setTimeout(() => this.flush(), ms);
  }
}
