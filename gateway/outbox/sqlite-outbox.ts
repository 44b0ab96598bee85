// The outbox on SQLite, in the same file as the domain tables so an event commits with the
// change that caused it (ARCHITECTURE.md invariants 1, 3–6; schema: store/migrations.ts 2).
// Nothing about it lives only in memory except the take cursors: seq, the budget counter
// and the drop counters are read from and written to the database inside the caller's
// transaction, so a rolled-back transaction leaves no trace and another process writing
// the same file (the CLI) cannot collide on seq.
import { monotonicFactory } from 'ulid';
import type { Clock } from '../clock.ts';
import { pooledRandom } from '../crypto.ts';
import type { Db } from '../store/db.ts';
import { EVENT_CLASSES, EVENT_CLASS_NAMES, type EventClass } from '../../protocol/upstream.ts';
import { upstreamTopic } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';
import type { DropInfo, DropReason, NewEvent, Outbox, OutboxStatus, PendingEvent } from './outbox.ts';

export type SqliteOutboxOptions = {
  gatewayId: string;
  bootId: string;
  clock: Clock;
  /** Undelivered payload bytes past which device and audit events are dropped (invariant 5). */
  maxBytes: number;
  /** Delivered rows are kept this long (uptime clock) before purgeDelivered deletes them. */
  deliveredRetentionMs: number;
  /** Undelivered device and audit events older than this (uptime clock) are expired. */
  maxAgeMs?: number;
  /** ULID source; defaults to ulid's monotonic factory at clock.now(), on the pooled CSPRNG. */
  newId?: () => string;
  /**
   * Seals the payloads of classes that carry full personal data (`registration`: the
   * police registration duty sends the whole card) while they wait in the outbox
   * (ARCHITECTURE.md invariant 8). Without it they are stored as they are sent.
   */
  sealer?: { seal(plain: Buffer): Buffer; open(sealed: Buffer): Buffer };
  /**
   * Called once per class after each append()/expireOld() that dropped events, so the
   * caller can enqueue `gateway/outbox_dropped` (PROTOCOL.md §2.1). It runs after this
   * outbox's own writes, so it may call append(); if the caller's transaction later rolls
   * back, the reported drop did not happen.
   */
  onDrop?: (info: DropInfo) => void;
  /**
   * The connection commits without an fsync and the caller syncs the WAL itself
   * (store/wal-sync.ts): take() then hands out only events up to the seq last passed to
   * synced(), alarms aside (`earlyAlarmsThrough`). An event sent upstream and then lost
   * in a power cut would see its seq reused by another event.
   */
  awaitSync?: boolean;
  /**
   * With `awaitSync`: alarms with a seq up to this are handed out as soon as they are
   * committed, before synced() covers them (seq-reservation.ts).
   */
  earlyAlarmsThrough?: () => number;
};

type Drops = Map<EventClass, { count: number; bytes: number }>;
type Budget = { pending: number; drops: Drops; evicted: Set<number> };
type Row = { seq: number; eventId: string; class: EventClass; topic: string; payload: Buffer };

const UPTIME_KEY = 'uptime_ms';
/**
 * Classes sent before their fsync (`earlyAlarmsThrough`): alarms only, which all come from
 * detectors. After a power cut the detector sends its alarm again (or the next Modbus poll
 * reads it), so the platform holds nothing the gateway did not see. A security or gateway
 * event sent early could name a check-in that the cut undid.
 */
const SENT_BEFORE_SYNC: ReadonlySet<EventClass> = new Set(['alarm']);
/** Classes whose events carry full ID data (PROTOCOL.md §2.1 registration). */
const SEALED_CLASSES: ReadonlySet<EventClass> = new Set(['registration']);
const BY_PRIORITY = [...EVENT_CLASS_NAMES].sort((a, b) => EVENT_CLASSES[a].priority - EVENT_CLASSES[b].priority);
const LOWEST_PRIORITY = Math.max(...EVENT_CLASS_NAMES.map((c) => EVENT_CLASSES[c].priority));

/** Slots per round after the first: priority 1 gets 5 for each 1 of priority 5 (invariant 4). */
function weight(eventClass: EventClass): number {
  return LOWEST_PRIORITY + 1 - EVENT_CLASSES[eventClass].priority;
}

/**
 * Splits `slots` between classes with a backlog: the first round gives each class one slot,
 * so none starves; later rounds give each `weight` slots, so urgent classes get more.
 */
function shareByWeight(available: ReadonlyArray<[EventClass, number]>, slots: number): Map<EventClass, number> {
  const share = new Map<EventClass, number>(available.map(([c]) => [c, 0]));
  let left = slots;
  for (let round = 0; left > 0; round++) {
    let given = 0;
    for (const [c, backlog] of available) {
      const got = share.get(c) ?? 0;
      const give = Math.min(round === 0 ? 1 : weight(c), backlog - got, left);
      if (give <= 0) continue;
      share.set(c, got + give);
      left -= give;
      given += give;
    }
    if (given === 0) break;
  }
  return share;
}

function addDrop(drops: Drops, eventClass: EventClass, bytes: number): void {
  const d = drops.get(eventClass) ?? { count: 0, bytes: 0 };
  drops.set(eventClass, { count: d.count + 1, bytes: d.bytes + bytes });
}

function total(drops: Drops): number {
  return [...drops.values()].reduce((sum, d) => sum + d.count, 0);
}

function prepare(db: Db) {
  const pendingRow = 'FROM outbox WHERE class = ? AND deliveredUptimeMs IS NULL AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?';
  return {
    head: db.prepare<[], { lastSeq: number; pendingBytes: number }>(
      `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0) AS lastSeq,
              (SELECT value FROM outbox_counters WHERE name = 'pending_bytes') AS pendingBytes`),
    insert: db.prepare<[number, string, string, number, number, string, Buffer, number, number, number], void>(
      `INSERT INTO outbox (seq, eventId, class, priority, droppable, topic, payload, bytes, createdAt, createdUptimeMs)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    oldestDroppable: db.prepare<[], { seq: number; class: EventClass; bytes: number }>(
      'SELECT seq, class, bytes FROM outbox WHERE deliveredUptimeMs IS NULL AND droppable = 1 ORDER BY seq LIMIT 64'),
    remove: db.prepare<[number], void>('DELETE FROM outbox WHERE seq = ?'),
    pending: db.prepare<[string, number, number, number], Row>(`SELECT seq, eventId, class, topic, payload ${pendingRow}`),
    // One statement for a whole batch of PUBACKs; RETURNING gives the bytes to un-count.
    deliver: db.prepare<[number, string], { bytes: number }>(
      `UPDATE outbox SET deliveredUptimeMs = ? WHERE seq IN (SELECT value FROM json_each(?)) AND deliveredUptimeMs IS NULL
       RETURNING bytes`),
    purge: db.prepare<[number], void>(
      'DELETE FROM outbox WHERE deliveredUptimeMs IS NOT NULL AND deliveredUptimeMs <= ?'),
    expire: db.prepare<[number], { class: EventClass; bytes: number }>(
      `DELETE FROM outbox WHERE deliveredUptimeMs IS NULL AND droppable = 1 AND createdUptimeMs <= ?
       RETURNING class, bytes`),
    classes: db.prepare<[], { class: EventClass; pending: number; oldest: number }>(
      `SELECT class, count(*) AS pending, min(createdAt) AS oldest FROM outbox
       WHERE deliveredUptimeMs IS NULL GROUP BY class`),
    counters: db.prepare<[], { name: string; value: number }>('SELECT name, value FROM outbox_counters'),
    bump: db.prepare<[number, string], void>('UPDATE outbox_counters SET value = value + ? WHERE name = ?'),
    readUptime: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    writeUptime: db.prepare<[string, string], void>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  };
}

export class SqliteOutbox implements Outbox {
  private readonly sql: ReturnType<typeof prepare>;
  private readonly newId: () => string;
  /** Last seq handed out per class since the last rewind(). */
  private readonly cursors = new Map<EventClass, number>();
  /** Classes with nothing past their cursor, as last seen; only a hint to skip queries. */
  private readonly drained = new Set<EventClass>();
  /** The last seq appended per class, so a class is not taken for drained before its events are synced. */
  private readonly lastAppended = new Map<EventClass, number>();
  /** take() hands out nothing past this seq but alarms (`awaitSync`, `earlyAlarmsThrough`). */
  private syncedThrough: number;
  private readonly uptimeBase: number;
  private readonly monotonicAtStart: number;
  private readonly appendTx: (events: readonly NewEvent[]) => { written: PendingEvent[]; drops: Drops };
  private readonly deliverTx: (seqs: readonly number[]) => void;
  private readonly expireTx: (uptime: number) => Drops;

  constructor(private readonly db: Db, private readonly opts: SqliteOutboxOptions) {
    this.sql = prepare(db);
    const ulid = monotonicFactory(pooledRandom);
    this.newId = opts.newId ?? (() => ulid(opts.clock.now()));
    // ARCHITECTURE.md invariant 6: ages count on an uptime clock that survives restarts and
    // ignores wall-clock jumps: the persisted base plus monotonic time since construction.
    this.uptimeBase = Number(this.sql.readUptime.get(UPTIME_KEY)?.value ?? 0);
    this.monotonicAtStart = opts.clock.monotonic();
    this.syncedThrough = opts.awaitSync ? (this.sql.head.get()?.lastSeq ?? 0) : Number.MAX_SAFE_INTEGER;
    // Nested inside the caller's transaction these become savepoints (group commit).
    this.appendTx = db.transaction((events: readonly NewEvent[]) => this.write(events));
    this.deliverTx = db.transaction((seqs: readonly number[]) => this.deliver(seqs));
    this.expireTx = db.transaction((uptime: number) => this.expire(uptime));
  }

  /** Returns the events written; a droppable event that cannot fit is left out (invariant 5). */
  append(events: readonly NewEvent[]): PendingEvent[] {
    const { written, drops } = this.appendTx(events);
    this.report(drops, 'budget');
    return written;
  }

  take(limit: number, maxPriority = LOWEST_PRIORITY): PendingEvent[] {
    const eligible = BY_PRIORITY.filter((c) => EVENT_CLASSES[c].priority <= maxPriority && !this.drained.has(c));
    let left = Math.max(0, Math.floor(limit));
    const taken: PendingEvent[] = [];
    // ARCHITECTURE.md invariant 4: every pending alarm (priority 0) before anything else.
    for (const c of eligible.filter((c) => EVENT_CLASSES[c].priority === 0)) {
      const rows = this.peek(c, left);
      taken.push(...this.handOut(c, rows, rows.length));
      left -= rows.length;
    }
    const candidates = eligible.filter((c) => EVENT_CLASSES[c].priority > 0).map((c) => [c, this.peek(c, left)] as const);
    const share = shareByWeight(candidates.map(([c, rows]) => [c, rows.length]), left);
    for (const [c, rows] of candidates) taken.push(...this.handOut(c, rows, share.get(c) ?? 0));
    return taken;
  }

  /** Everything up to `seq` is on disk and may be sent (`awaitSync`). */
  synced(seq: number): void {
    this.syncedThrough = Math.max(this.syncedThrough, seq);
  }

  rewind(): void {
    this.cursors.clear();
    this.drained.clear();
  }

  markDelivered(seqs: readonly number[]): void {
    this.deliverTx(seqs);
  }

  purgeDelivered(): number {
    const uptime = this.uptime();
    const purged = this.sql.purge.run(uptime - this.opts.deliveredRetentionMs).changes;
    this.saveUptime(uptime);
    return purged;
  }

  /** Drops undelivered device and audit events older than `maxAgeMs` of uptime (invariant 6). */
  expireOld(): number {
    const drops = this.expireTx(this.uptime());
    this.report(drops, 'expired');
    return total(drops);
  }

  /**
   * `delivered` is the persisted total of events ever delivered, not the rows still stored,
   * so it does not fall when purgeDelivered runs (INTERFACES.md `menwei outbox status`).
   */
  status(): OutboxStatus {
    const now = this.opts.clock.now();
    const classes = Object.fromEntries(EVENT_CLASS_NAMES.map((c) => [c, { pending: 0, oldestAgeS: 0 }])) as OutboxStatus['classes'];
    for (const row of this.sql.classes.all()) {
      // A backward wall-clock jump must not show a negative age.
      classes[row.class] = { pending: row.pending, oldestAgeS: Math.max(0, Math.floor((now - row.oldest) / 1000)) };
    }
    const counters = new Map(this.sql.counters.all().map((r) => [r.name, r.value]));
    return {
      classes,
      delivered: counters.get('delivered') ?? 0,
      dropped: { budget: counters.get('dropped_budget') ?? 0, expired: counters.get('dropped_expired') ?? 0 },
    };
  }

  pendingBytes(): number {
    return this.sql.head.get()?.pendingBytes ?? 0;
  }

  /** True while never-dropped events alone exceed the budget (invariant 5: `/healthz`, `gateway/disk_full`). */
  overBudget(): boolean {
    return this.pendingBytes() > this.opts.maxBytes;
  }

  /** Persists the uptime clock; the database itself belongs to the caller. */
  close(): void {
    this.saveUptime(this.uptime());
  }

  private uptime(): number {
    // Whole milliseconds: the columns are INTEGER and performance.now() is fractional.
    return this.uptimeBase + Math.floor(this.opts.clock.monotonic() - this.monotonicAtStart);
  }

  private saveUptime(uptime: number): void {
    this.sql.writeUptime.run(UPTIME_KEY, String(uptime));
  }

  private write(events: readonly NewEvent[]): { written: PendingEvent[]; drops: Drops } {
    const head = this.sql.head.get() ?? { lastSeq: 0, pendingBytes: 0 };
    const budget: Budget = { pending: head.pendingBytes, drops: new Map(), evicted: new Set() };
    const now = this.opts.clock.now();
    const [gatewayTs, uptime] = [isoTime(now), this.uptime()];
    let seq = head.lastSeq;
    const written: PendingEvent[] = [];
    for (const event of events) {
      const { priority, droppable } = EVENT_CLASSES[event.class];
      const e = this.envelope(event, seq + 1, gatewayTs);
      const bytes = e.payload.length;
      if (!this.makeRoom(bytes, budget) && droppable) {
        addDrop(budget.drops, event.class, bytes);
        continue;
      }
      seq += 1;
      this.drained.delete(event.class);
      this.lastAppended.set(event.class, seq);
      this.sql.insert.run(seq, e.eventId, e.class, priority, droppable ? 1 : 0, e.topic, this.atRest(e.class, e.payload), bytes, now, uptime);
      budget.pending += bytes;
      written.push(e);
    }
    this.countDrops(budget.drops, 'budget');
    if (budget.pending !== head.pendingBytes) this.sql.bump.run(budget.pending - head.pendingBytes, 'pending_bytes');
    return { written: written.filter((e) => !budget.evicted.has(e.seq)), drops: budget.drops };
  }

  /**
   * ARCHITECTURE.md invariant 5: deletes the oldest undelivered device and audit events,
   * oldest seq first across both classes, until `bytes` more fit. False if they still don't.
   */
  private makeRoom(bytes: number, budget: Budget): boolean {
    while (budget.pending + bytes > this.opts.maxBytes) {
      const victims = this.sql.oldestDroppable.all();
      if (victims.length === 0) return false;
      for (const v of victims) {
        this.sql.remove.run(v.seq);
        budget.pending -= v.bytes;
        budget.evicted.add(v.seq);
        addDrop(budget.drops, v.class, v.bytes);
        if (budget.pending + bytes <= this.opts.maxBytes) return true;
      }
    }
    return true;
  }

  /** PROTOCOL.md §2.1, keys in the spec's order; JSON.stringify omits an undefined unit/deviceId/deviceTs. */
  private envelope(event: NewEvent, seq: number, gatewayTs: string): PendingEvent {
    const { gatewayId, bootId } = this.opts;
    const eventId = this.newId();
    const payload = Buffer.from(JSON.stringify({
      v: 1, eventId, gatewayId, seq, bootId, class: event.class, type: event.type,
      unit: event.unit, deviceId: event.deviceId, deviceTs: event.deviceTs, gatewayTs, data: event.data,
    }));
    return { seq, eventId, class: event.class, topic: upstreamTopic(gatewayId, event.class, event.type), payload };
  }

  /**
   * Up to `limit` undelivered events of a class past its cursor. A class found empty is
   * skipped until the next append or rewind: with one busy class, a take is one query.
   */
  private peek(eventClass: EventClass, limit: number): Row[] {
    if (limit <= 0) return [];
    const through = this.sendableThrough(eventClass);
    const rows = this.sql.pending.all(eventClass, this.cursors.get(eventClass) ?? 0, through, limit);
    if (rows.length === 0 && (this.lastAppended.get(eventClass) ?? 0) <= through) this.drained.add(eventClass);
    return rows;
  }

  /**
   * The last seq of a class that may be handed out: synced, or an alarm inside the
   * reservation (`earlyAlarmsThrough`), but never from inside a transaction, whose rows
   * may still roll back.
   */
  private sendableThrough(eventClass: EventClass): number {
    const { earlyAlarmsThrough } = this.opts;
    const early = earlyAlarmsThrough && SENT_BEFORE_SYNC.has(eventClass) && !this.db.inTransaction;
    return Math.max(this.syncedThrough, early ? earlyAlarmsThrough() : 0);
  }

  private handOut(eventClass: EventClass, rows: readonly Row[], count: number): PendingEvent[] {
    const out = rows.slice(0, count);
    const last = out.at(-1);
    if (last) this.cursors.set(eventClass, last.seq);
    return out.map((r) => ({ seq: r.seq, eventId: r.eventId, class: r.class, topic: r.topic, payload: this.inFlight(r.class, r.payload) }));
  }

  private atRest(eventClass: EventClass, payload: Buffer): Buffer {
    return this.opts.sealer && SEALED_CLASSES.has(eventClass) ? this.opts.sealer.seal(payload) : payload;
  }

  private inFlight(eventClass: EventClass, stored: Buffer): Buffer {
    return this.opts.sealer && SEALED_CLASSES.has(eventClass) ? this.opts.sealer.open(stored) : stored;
  }

  /** The counters change in the same transaction as the rows (invariant 5's budget). */
  private deliver(seqs: readonly number[]): void {
    const rows = this.sql.deliver.all(this.uptime(), JSON.stringify(seqs));
    if (rows.length === 0) return;
    this.sql.bump.run(-rows.reduce((n, r) => n + r.bytes, 0), 'pending_bytes');
    this.sql.bump.run(rows.length, 'delivered');
  }

  private expire(uptime: number): Drops {
    const drops: Drops = new Map();
    const { maxAgeMs } = this.opts;
    if (maxAgeMs !== undefined) for (const row of this.sql.expire.all(uptime - maxAgeMs)) addDrop(drops, row.class, row.bytes);
    const bytes = [...drops.values()].reduce((n, d) => n + d.bytes, 0);
    if (bytes > 0) this.sql.bump.run(-bytes, 'pending_bytes');
    this.countDrops(drops, 'expired');
    this.saveUptime(uptime);
    return drops;
  }

  private countDrops(drops: Drops, reason: DropReason): void {
    const count = total(drops);
    if (count > 0) this.sql.bump.run(count, `dropped_${reason}`);
  }

  private report(drops: Drops, reason: DropReason): void {
    for (const [eventClass, d] of drops) this.opts.onDrop?.({ class: eventClass, count: d.count, bytes: d.bytes, reason });
  }
}
