// The outbox contract (ARCHITECTURE.md invariants 3–5). The SQLite implementation and
// any other must pass tests/contract/outbox.contract.ts.
import type { EventClass } from '../../protocol/upstream.ts';

/** An event to enqueue; the outbox adds eventId, seq, bootId, gatewayId and gatewayTs. */
export type NewEvent = {
  class: EventClass;
  type: string;
  unit?: string;
  deviceId?: string;
  deviceTs?: string;
  data: Record<string, unknown>;
};

/** A committed, undelivered event, ready to publish as is. */
export type PendingEvent = {
  seq: number;
  eventId: string;
  class: EventClass;
  topic: string;
  /** The exact envelope bytes (PROTOCOL.md §2.1) to publish. */
  payload: Buffer;
};

/** Why events left the outbox undelivered (invariants 5 and 6). */
export type DropReason = 'budget' | 'expired';

/** Reported per class so the caller can enqueue `gateway/outbox_dropped` (PROTOCOL.md §2.1). */
export type DropInfo = { class: EventClass; count: number; bytes: number; reason: DropReason };

export type ClassStatus = { pending: number; oldestAgeS: number };

/** INTERFACES.md `menwei outbox status`. */
export type OutboxStatus = {
  classes: Record<EventClass, ClassStatus>;
  /** Events ever delivered (a persisted total, not the delivered rows still stored). */
  delivered: number;
  /** Persisted drop totals by reason (`DropReason`). */
  dropped: Record<string, number>;
};

export interface Outbox {
  /**
   * Appends events and returns them with their seq. Synchronous, so it can run inside the
   * caller's SQLite transaction together with the domain change (invariant 1).
   * Past `maxBytes`, droppable classes lose their oldest events (invariant 5).
   */
  append(events: readonly NewEvent[]): PendingEvent[];
  /**
   * Up to `limit` undelivered events not yet handed out since the last `rewind`: every
   * pending alarm first, then the other classes interleaved by priority so none starves,
   * each class in seq order (invariant 4). With `maxPriority`, only classes of that
   * priority or more urgent (lower number): the forwarder keeps a few in-flight slots
   * for them so an alarm never waits behind a full window of backlog.
   */
  take(limit: number, maxPriority?: number): PendingEvent[];
  /** Forget what was handed out, so unacknowledged events are taken again (reconnect). */
  rewind(): void;
  /** Marks events delivered on their upstream PUBACK (invariant 3). */
  markDelivered(seqs: readonly number[]): void;
  /** Deletes delivered events older than the retention period; returns how many. */
  purgeDelivered(): number;
  status(): OutboxStatus;
  /** Undelivered payload bytes, which `maxBytes` bounds. */
  pendingBytes(): number;
}
