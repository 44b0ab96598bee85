// PROTOCOL.md §2.1: an event's seq strictly increases per gateway, across restarts, and is
// never reused. Alarms go upstream as soon as their transaction commits, before the WAL
// fsync that makes it durable: under load that fsync was most of an alarm's latency
// (issue 8). A power cut can then lose an event the platform already has, and the next
// run would give its seq to another event. So seqs are reserved ahead, on disk: an alarm
// goes before its fsync only if its seq lies inside a reservation that is already
// synced, and a run that did not stop cleanly starts past the last reservation (a gap in
// seq, never a reuse).
//
// The detector still gets its PUBACK only after the fsync (invariant 2). After such a
// power cut it sends the alarm again, and the platform gets it twice, under two eventIds
// with the same deviceId and data.deviceSeq (SENT_BEFORE_SYNC in sqlite-outbox.ts).
import type { Db } from '../store/db.ts';
import type { Durability } from '../store/wal-sync.ts';
import type { Logger } from '../logger.ts';

/** Seqs reserved at a time; the next block is reserved once half of this one is used. */
export const RESERVE_BLOCK = 10_000;
const KEY = 'seq_reserved';

export type SeqReservationOptions = {
  /**
   * Syncs the WAL through a descriptor of its own: Linux reports a failed writeback once
   * per open file, so an error the group commit's fsync took is still seen here, and one
   * seen here still reaches the group commit (release-after-sync.ts).
   */
  durability: Durability;
  /** The store refuses writes or an fsync failed: nothing is sent early, nothing is lowered. */
  storageFailing: () => boolean;
  logger: Logger;
};

export class SeqReservation {
  private readonly sql;
  /** Seqs up to this are reserved on disk. */
  private durable = 0;
  private extending = false;
  /** A reservation's fsync failed: from then on nothing goes early (fsyncgate, see release-after-sync.ts). */
  private failed = false;
  private closed = false;

  constructor(private readonly db: Db, private readonly opts: SeqReservationOptions) {
    this.sql = {
      reserved: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      reserve: db.prepare<[string, string], void>(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      lastSeq: db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"),
      skipTo: db.prepare<[number], void>("UPDATE sqlite_sequence SET seq = ? WHERE name = 'outbox'"),
      firstSeq: db.prepare<[number], void>("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)"),
    };
  }

  /**
   * At start, before anything is sent: the next seq comes after whatever the last run
   * reserved, and a new block is reserved and synced (blocking, once). On a full disk
   * this throws, and the gateway does not start: no seq may be handed out before the skip.
   */
  open(): void {
    const target = this.db.transaction(() => {
      const reserved = this.reserved();
      const last = this.lastSeq();
      if (reserved > last) this.skipTo(reserved);
      const target = Math.max(reserved, last) + RESERVE_BLOCK;
      this.sql.reserve.run(KEY, String(target));
      return target;
    }).immediate();
    this.opts.durability.syncNow();
    this.durable = target;
  }

  /** Alarms with a seq up to this may be sent before they are synced; 0 while the store fails. */
  get through(): number {
    return this.failed || this.opts.storageFailing() ? 0 : this.durable;
  }

  /**
   * After each durable commit (never inside a transaction): once half the reserved block
   * is used, the next is reserved in a statement and an fsync of its own. Until that
   * fsync returns, alarms past the old block wait for their own fsync as before.
   */
  onDurable(throughSeq: number): void {
    if (this.extending || this.failed || this.closed || throughSeq < this.durable - RESERVE_BLOCK / 2) return;
    const target = throughSeq + RESERVE_BLOCK;
    try {
      this.sql.reserve.run(KEY, String(target));
    } catch (err) {
      // A full or failing disk, which the group commit reports; alarms wait for their fsync.
      this.opts.logger.warn({ err }, 'seq reservation not extended; alarms past it wait for their fsync');
      return;
    }
    this.extending = true;
    this.opts.durability.sync().then(
      () => {
        this.durable = Math.max(this.durable, target);
        this.extending = false;
      },
      (err: unknown) => {
        this.failed = true;
        this.opts.logger.error({ err }, 'seq reservation fsync failed: no alarm goes before its fsync until a restart');
      },
    );
  }

  /**
   * At a clean stop, once the forwarder is stopped: nothing past the last seq was sent,
   * so the next run goes on from there without a gap. Not while the store fails: a lost
   * write may hide what was sent, and a gap is harmless.
   */
  close(): void {
    this.closed = true;
    if (this.failed || this.opts.storageFailing()) return;
    try {
      this.sql.reserve.run(KEY, String(this.lastSeq()));
    } catch {
      // a full disk: the reservation stays, and the next run skips past it
    }
  }

  private reserved(): number {
    return Number(this.sql.reserved.get(KEY)?.value ?? 0);
  }

  private lastSeq(): number {
    return this.sql.lastSeq.get()?.seq ?? 0;
  }

  private skipTo(seq: number): void {
    if (this.sql.skipTo.run(seq).changes === 0) this.sql.firstSeq.run(seq);
  }
}
