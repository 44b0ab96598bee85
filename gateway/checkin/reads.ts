// Card reads and face results, in memory only (CHECKIN.md Objects). A read matters for
// policy.readMaxAgeS (120 s); keeping it briefly in memory means no card data rests on
// disk, and a restart simply makes old reads unknown. Ages are monotonic (invariant 6).
import type { Card } from '../../protocol/sam/card.ts';
import type { UnsupportedCard } from './decision.ts';
import type { Tx } from '../ingest/tx.ts';

export type ReadRecord = {
  readId: string;
  readerId: string;
  desk: string;
  receivedMono: number;
  receivedAt: number;
  card: Card | UnsupportedCard;
  usedByStay: boolean;
};

export type VerifyRecord = { readId: string; desk: string; score: number; liveness: boolean; algo: string; receivedMono: number; receivedAt: number };

/** Reads older than this are forgotten; far past any policy's readMaxAgeS. */
const KEEP_MS = 15 * 60_000;
const MAX_READS = 2_000;

export class ReadRegistry {
  private readonly reads = new Map<string, ReadRecord>();
  private readonly verifies = new Map<string, VerifyRecord>();

  add(read: ReadRecord): void {
    this.reads.set(read.readId, read);
    this.prune(read.receivedMono);
  }

  find(readId: string): ReadRecord | undefined {
    return this.reads.get(readId);
  }

  /** CHECKIN.md rule 1: a read makes one stay; undone if the check-in does not commit. */
  markUsed(tx: Tx, readId: string): void {
    const read = this.reads.get(readId);
    if (!read) return;
    read.usedByStay = true;
    tx.onRollback(() => { read.usedByStay = false; });
  }

  /**
   * PROTOCOL.md §1.5: a verify counts only from the desk the read was sent to; the latest
   * one wins. Returns why a verify was ignored, if it was.
   */
  recordVerify(verify: VerifyRecord): 'accepted' | 'unknown_read' | 'wrong_desk' {
    const read = this.reads.get(verify.readId);
    if (!read) return 'unknown_read';
    if (read.desk !== verify.desk) return 'wrong_desk';
    this.verifies.set(verify.readId, verify);
    return 'accepted';
  }

  latestVerify(readId: string): VerifyRecord | undefined {
    return this.verifies.get(readId);
  }

  /** Newest first. */
  recent(desk: string | undefined, limit = 50): ReadRecord[] {
    return [...this.reads.values()].filter((r) => desk === undefined || r.desk === desk).reverse().slice(0, limit);
  }

  private prune(nowMono: number): void {
    for (const [id, read] of this.reads) {
      if (nowMono - read.receivedMono <= KEEP_MS && this.reads.size <= MAX_READS) break;
      this.reads.delete(id);
      this.verifies.delete(id);
    }
  }
}
