// An array-backed Outbox for forwarder tests (gateway/outbox/outbox.ts). It keeps the
// contract that the forwarder relies on: seq order per class, alarms first, the other
// classes interleaved by priority, hand-out until rewind, delivered only when told. It
// has no byte budget and keeps nothing on disk: the SQLite outbox is the real one.
import { ulid } from 'ulid';
import type { NewEvent, Outbox, OutboxStatus, PendingEvent } from '../../gateway/outbox/outbox.ts';
import { systemClock, type Clock } from '../../gateway/clock.ts';
import { upstreamTopic } from '../../protocol/topics.ts';
import { EVENT_CLASSES, EVENT_CLASS_NAMES, type EventClass } from '../../protocol/upstream.ts';

type Row = PendingEvent & { appendedAt: number };

/** Classes by priority, most urgent first; alarms (priority 0) are drained before any other. */
const BY_PRIORITY = [...EVENT_CLASS_NAMES].sort((a, b) => EVENT_CLASSES[a].priority - EVENT_CLASSES[b].priority);

export class MemoryOutbox implements Outbox {
  /** Undelivered rows per class, in seq order; the handed-out ones are always a prefix. */
  private readonly queues = new Map<EventClass, Row[]>(EVENT_CLASS_NAMES.map((c) => [c, []]));
  private readonly handedOut = new Set<number>();
  private readonly handedCount = new Map<EventClass, number>();
  private readonly delivered = new Set<number>();
  private nextSeq = 1;

  constructor(
    private readonly gatewayId: string,
    private readonly clock: Clock = systemClock,
    private readonly bootId = ulid(),
  ) {}

  append(events: readonly NewEvent[]): PendingEvent[] {
    return events.map((event) => {
      const seq = this.nextSeq++;
      const eventId = ulid();
      const envelope = { v: 1, eventId, gatewayId: this.gatewayId, seq, bootId: this.bootId, ...event, gatewayTs: new Date(this.clock.now()).toISOString() };
      const row: Row = {
        seq,
        eventId,
        class: event.class,
        topic: upstreamTopic(this.gatewayId, event.class, event.type),
        payload: Buffer.from(JSON.stringify(envelope)),
        appendedAt: this.clock.now(),
      };
      this.queue(event.class).push(row);
      return this.toPending(row);
    });
  }

  take(limit: number, maxPriority = Infinity): PendingEvent[] {
    const out: Row[] = [];
    const eligible = BY_PRIORITY.filter((c) => EVENT_CLASSES[c].priority <= maxPriority);
    for (let row = this.next('alarm'); row && out.length < limit; row = this.next('alarm')) this.handOut(row, out);
    // One per class per round, most urgent class first in each round: none starves.
    for (let progress = true; progress && out.length < limit; ) {
      progress = false;
      for (const eventClass of eligible) {
        const row = out.length < limit ? this.next(eventClass) : undefined;
        if (row) {
          this.handOut(row, out);
          progress = true;
        }
      }
    }
    return out.map((row) => this.toPending(row));
  }

  rewind(): void {
    this.handedOut.clear();
    this.handedCount.clear();
  }

  markDelivered(seqs: readonly number[]): void {
    for (const seq of seqs) {
      for (const [eventClass, rows] of this.queues) {
        const index = rows.findIndex((row) => row.seq === seq);
        if (index < 0) continue;
        rows.splice(index, 1);
        if (this.handedOut.delete(seq)) this.handedCount.set(eventClass, (this.handedCount.get(eventClass) ?? 1) - 1);
        this.delivered.add(seq);
      }
    }
  }

  purgeDelivered(): number {
    const count = this.delivered.size;
    this.delivered.clear();
    return count;
  }

  status(): OutboxStatus {
    const now = this.clock.now();
    const entries = EVENT_CLASS_NAMES.map((c) => {
      const rows = this.queue(c);
      const oldest = rows[0];
      return [c, { pending: rows.length, oldestAgeS: oldest ? Math.floor((now - oldest.appendedAt) / 1000) : 0 }];
    });
    return { classes: Object.fromEntries(entries) as OutboxStatus['classes'], delivered: this.delivered.size, dropped: {} };
  }

  pendingBytes(): number {
    let bytes = 0;
    for (const rows of this.queues.values()) for (const row of rows) bytes += row.payload.length;
    return bytes;
  }

  /** Total undelivered events, for test assertions. */
  pendingCount(): number {
    let count = 0;
    for (const rows of this.queues.values()) count += rows.length;
    return count;
  }

  private queue(eventClass: EventClass): Row[] {
    return this.queues.get(eventClass)!;
  }

  private next(eventClass: EventClass): Row | undefined {
    return this.queue(eventClass)[this.handedCount.get(eventClass) ?? 0];
  }

  private handOut(row: Row, out: Row[]): void {
    this.handedOut.add(row.seq);
    this.handedCount.set(row.class, (this.handedCount.get(row.class) ?? 0) + 1);
    out.push(row);
  }

  private toPending(row: Row): PendingEvent {
    return { seq: row.seq, eventId: row.eventId, class: row.class, topic: row.topic, payload: row.payload };
  }
}
