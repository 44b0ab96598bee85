// One contract for every Outbox (STYLE.md §5): the same behaviours of ARCHITECTURE.md
// invariants 3–6 and PROTOCOL.md §2.1, run against each storage by outbox-*.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { DropInfo, NewEvent, Outbox, PendingEvent } from '../../gateway/outbox/outbox.ts';
import type { FakeClock } from '../../gateway/clock.ts';
import { EVENT_CLASS_NAMES, type EventClass } from '../../protocol/upstream.ts';
import { upstreamTopic } from '../../protocol/topics.ts';
import { validateUpstreamEvent } from '../../protocol/validate.ts';
import { isoTime } from '../../protocol/time.ts';

export type ContractOutbox = Outbox & { expireOld(): number; overBudget(): boolean; close(): void };
export type HarnessOptions = { maxBytes?: number; maxAgeMs?: number; deliveredRetentionMs?: number };

export type OutboxHarness = {
  outbox: ContractOutbox;
  clock: FakeClock;
  gatewayId: string;
  bootId: string;
  /** Runs `fn` in one storage transaction, as the gateway's group commit does. */
  transaction: (fn: () => void) => void;
  /** Every onDrop call, in order. */
  drops: DropInfo[];
  /**
   * Restarts on the same storage with a fresh monotonic clock (a reboot): 'close' calls
   * close() first, 'crash' does not. Absent when the storage does not outlive the process.
   */
  reopen?: (how: 'close' | 'crash') => OutboxHarness;
  cleanup: () => void;
};

const T = '2026-11-30T10:00:00.000Z';

/** One event of each class with data shaped as PROTOCOL.md §2.1 says. */
const SAMPLE: Record<EventClass, (n: number) => NewEvent> = {
  alarm: (n) => ({ class: 'alarm', type: 'smoke', unit: 'HL-MY-0301', deviceId: 'smoke-0301', deviceTs: T, data: { value: 640, occupants: 2, deviceSeq: n } }),
  security: (n) => ({ class: 'security', type: 'tamper', unit: 'HL-MY-0301', deviceId: 'lock-0301', deviceTs: T, data: { deviceSeq: n } }),
  gateway: () => ({ class: 'gateway', type: 'clock_jump', data: { deltaMs: 180_000 } }),
  registration: (n) => ({ class: 'registration', type: 'checkout', unit: 'HL-MY-0301', data: { stayId: `s_${n}`, unit: 'HL-MY-0301', checkoutAt: T, by: 'desk' } }),
  reply: (n) => ({ class: 'reply', type: 'booking.cancel', data: { commandId: `cmd-${n}`, status: 'ok' } }),
  occupancy: (n) => ({ class: 'occupancy', type: 'entry', unit: 'HL-MY-0301', deviceId: 'lock-0301', data: { method: 'code', deviceSeq: n } }),
  device: () => ({ class: 'device', type: 'online', deviceId: 'lock-0301', data: {} }),
  audit: (n) => ({ class: 'audit', type: 'login', data: { staffId: `desk-${n}` } }),
};
const NEVER_DROP: EventClass[] = ['alarm', 'security', 'gateway', 'registration', 'reply', 'occupancy'];

function events(eventClass: EventClass, count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => SAMPLE[eventClass](i));
}
const seqs = (list: readonly PendingEvent[]) => list.map((e) => e.seq);
const parse = (e: PendingEvent) => JSON.parse(e.payload.toString('utf8')) as Record<string, unknown>;

/** Takes in small batches until nothing is left, as a forwarder with a window would. */
function drain(outbox: Outbox, batch = 7): PendingEvent[] {
  const out: PendingEvent[] = [];
  for (let got = outbox.take(batch); got.length > 0; got = outbox.take(batch)) out.push(...got);
  return out;
}

/** `restarts`: the storage outlives the process, so the restart behaviours apply. */
export function outboxContract(name: string, make: (opts: HarnessOptions) => OutboxHarness, { restarts }: { restarts: boolean }): void {
  // In-memory storage has no restart to test: those behaviours are not registered for it.
  const itAcrossRestarts = restarts ? it : (() => undefined) as unknown as typeof it;
  describe(`Outbox contract: ${name}`, () => {
    const open: OutboxHarness[] = [];
    const start = (opts: HarnessOptions = {}) => track(make(opts));
    const restart = (h: OutboxHarness, how: 'close' | 'crash') => track(h.reopen!(how));
    function track(h: OutboxHarness): OutboxHarness {
      open.push(h);
      return h;
    }
    afterEach(() => {
      for (const h of open.splice(0).reverse()) h.cleanup();
    });

    describe('envelope (PROTOCOL.md §2.1)', () => {
      it('writes a valid envelope for every class, on its class/type topic', () => {
        const h = start();
        const written = h.outbox.append(EVENT_CLASS_NAMES.map((c) => SAMPLE[c](1)));
        expect(written.map((e) => e.class)).toEqual(EVENT_CLASS_NAMES);
        for (const e of written) {
          const body = parse(e);
          expect(e.topic).toBe(upstreamTopic(h.gatewayId, e.class, String(body.type)));
          expect(validateUpstreamEvent(e.topic, e.payload)).toMatchObject({ ok: true });
          expect(body).toMatchObject({ v: 1, eventId: e.eventId, gatewayId: h.gatewayId, seq: e.seq, bootId: h.bootId, gatewayTs: isoTime(h.clock.now()) });
        }
      });

      it('has exactly the spec keys in order, leaving out unit, deviceId and deviceTs when not given', () => {
        const h = start();
        const [smoke, online] = h.outbox.append([SAMPLE.alarm(7), SAMPLE.device(0)]);
        expect(Object.keys(parse(smoke!))).toEqual(
          ['v', 'eventId', 'gatewayId', 'seq', 'bootId', 'class', 'type', 'unit', 'deviceId', 'deviceTs', 'gatewayTs', 'data']);
        expect(parse(smoke!).data).toEqual({ value: 640, occupants: 2, deviceSeq: 7 });
        expect(Object.keys(parse(online!))).toEqual(['v', 'eventId', 'gatewayId', 'seq', 'bootId', 'class', 'type', 'deviceId', 'gatewayTs', 'data']);
        expect(smoke!.eventId < online!.eventId).toBe(true);
      });

      it('hands out the exact bytes it wrote', () => {
        const h = start();
        const written = h.outbox.append(events('registration', 3));
        expect(h.outbox.take(10)).toEqual(written);
      });
    });

    describe('seq (invariant 3)', () => {
      it('strictly increases, also after every event was delivered and purged', () => {
        const h = start({ deliveredRetentionMs: 0 });
        const first = h.outbox.append(events('device', 3));
        h.outbox.markDelivered(seqs(first));
        expect(h.outbox.purgeDelivered()).toBe(3);
        const [next] = h.outbox.append(events('device', 1));
        expect(seqs(first)).toEqual([1, 2, 3]);
        expect(next!.seq).toBe(4);
      });

      itAcrossRestarts('keeps increasing across restarts, even when nothing was left stored', () => {
        const h = start({ deliveredRetentionMs: 0 });
        h.outbox.markDelivered(seqs(h.outbox.append(events('audit', 5))));
        h.outbox.purgeDelivered();
        const after = restart(h, 'close');
        expect(after.outbox.append(events('audit', 1))[0]!.seq).toBe(6);
        const crashed = restart(after, 'crash');
        expect(crashed.outbox.append(events('audit', 1))[0]!.seq).toBe(7);
      });

      it('commits 10,000 single-event appends made inside one transaction', () => {
        const h = start();
        const written: PendingEvent[] = [];
        h.transaction(() => {
          for (let i = 0; i < 10_000; i++) written.push(...h.outbox.append([SAMPLE.device(i)]));
        });
        expect(seqs(written)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
        expect(h.outbox.status().classes.device.pending).toBe(10_000);
      });

      it('leaves no event and no budget use behind when the caller rolls back', () => {
        const h = start();
        expect(() => h.transaction(() => {
          h.outbox.append(events('registration', 2));
          throw new Error('domain write failed');
        })).toThrow('domain write failed');
        expect(h.outbox.pendingBytes()).toBe(0);
        expect(h.outbox.take(10)).toEqual([]);
      });
    });

    describe('take (invariant 4)', () => {
      it('returns every pending alarm ahead of a large device backlog', () => {
        const h = start();
        h.outbox.append(events('device', 1_000));
        const alarms = h.outbox.append(events('alarm', 3));
        const batch = h.outbox.take(5);
        expect(batch.slice(0, 3)).toEqual(alarms);
        expect(batch.slice(3).map((e) => e.class)).toEqual(['device', 'device']);
      });

      it('keeps seq order within each class while classes interleave', () => {
        const h = start();
        const appended = Array.from({ length: 240 }, (_, i) => EVENT_CLASS_NAMES[(i * 5) % 8]!)
          .flatMap((c, i) => h.outbox.append([SAMPLE[c](i)]));
        const taken = drain(h.outbox);
        for (const c of EVENT_CLASS_NAMES) {
          expect(seqs(taken.filter((e) => e.class === c))).toEqual(seqs(appended.filter((e) => e.class === c)));
        }
      });

      it('still takes the lowest class while every higher class has a backlog, giving higher ones more', () => {
        const h = start();
        for (const c of EVENT_CLASS_NAMES.filter((c) => c !== 'alarm')) h.outbox.append(events(c, 50));
        const batch = h.outbox.take(20);
        const count = (c: EventClass) => batch.filter((e) => e.class === c).length;
        expect(batch).toHaveLength(20);
        for (const c of EVENT_CLASS_NAMES.filter((c) => c !== 'alarm')) expect(count(c)).toBeGreaterThanOrEqual(1);
        expect(count('security')).toBeGreaterThan(count('audit'));
      });

      it('with maxPriority, takes only classes at least that urgent', () => {
        const h = start();
        for (const c of ['device', 'registration', 'security', 'alarm'] as const) h.outbox.append(events(c, 5));
        const classes = new Set(h.outbox.take(100, 1).map((e) => e.class));
        expect([...classes].sort()).toEqual(['alarm', 'security']);
      });

      it('does not hand out an event again until rewind', () => {
        const h = start();
        const written = h.outbox.append(events('device', 10));
        const first = h.outbox.take(4);
        const second = h.outbox.take(4);
        expect(seqs([...first, ...second])).toEqual(seqs(written.slice(0, 8)));
        h.outbox.rewind();
        expect(h.outbox.take(20)).toEqual(written);
      });

      it('never hands out a delivered event again, even after rewind', () => {
        const h = start();
        const written = h.outbox.append(events('occupancy', 6));
        h.outbox.markDelivered(seqs(h.outbox.take(4)));
        h.outbox.rewind();
        expect(h.outbox.take(20)).toEqual(written.slice(4));
      });

      itAcrossRestarts('after a crash, resends exactly the undelivered events, same bytes, delivered ones never', () => {
        const h = start();
        const written = h.outbox.append([...events('alarm', 2), ...events('registration', 3)]);
        h.outbox.take(10);
        h.outbox.markDelivered([written[0]!.seq, written[3]!.seq]);
        const after = restart(h, 'crash');
        expect(after.outbox.take(10)).toEqual([written[1], written[2], written[4]]);
      });
    });

    describe('byte budget (invariant 5)', () => {
      it('drops the oldest device and audit events first, counts them and reports them', () => {
        const h = start({ maxBytes: 2_000 });
        const appended = Array.from({ length: 30 }, (_, i) => h.outbox.append([SAMPLE[i % 2 ? 'audit' : 'device'](i)])).flat();
        const kept = drain(h.outbox, 100);
        expect(h.outbox.pendingBytes()).toBeLessThanOrEqual(2_000);
        expect(seqs(kept).sort((a, b) => a - b)).toEqual(seqs(appended.slice(-kept.length)));
        const dropped = h.drops.reduce((n, d) => n + d.count, 0);
        expect(dropped).toBe(30 - kept.length);
        expect(h.outbox.status().dropped.budget).toBe(dropped);
        expect(new Set(h.drops.map((d) => `${d.class}/${d.reason}`))).toEqual(new Set(['device/budget', 'audit/budget']));
        const bytes = (list: PendingEvent[]) => list.reduce((n, e) => n + e.payload.length, 0);
        expect(h.drops.reduce((n, d) => n + d.bytes, 0)).toBe(bytes(appended) - bytes(kept));
      });

      it('keeps every never-dropped event past the budget, says so, and refuses new device events', () => {
        const h = start({ maxBytes: 2_000 });
        h.outbox.append(events('device', 3));
        const kept = NEVER_DROP.flatMap((c) => h.outbox.append(events(c, 5)));
        expect(h.outbox.overBudget()).toBe(true);
        expect(h.outbox.append(events('device', 1))).toEqual([]);
        expect(seqs(drain(h.outbox, 100)).sort((a, b) => a - b)).toEqual(seqs(kept));
        expect(new Set(h.drops.map((d) => `${d.class}/${d.reason}`))).toEqual(new Set(['device/budget']));
        expect(h.drops.reduce((n, d) => n + d.count, 0)).toBe(4);
      });

      it('counts only undelivered payload bytes', () => {
        const h = start();
        const written = h.outbox.append(events('security', 4));
        h.outbox.markDelivered(seqs(written.slice(0, 3)));
        expect(h.outbox.pendingBytes()).toBe(written[3]!.payload.length);
      });

      itAcrossRestarts('keeps the drop counts across a restart', () => {
        const h = start({ maxBytes: 1_000 });
        h.outbox.append(events('audit', 20));
        const before = h.outbox.status().dropped.budget;
        expect(before).toBeGreaterThan(0);
        expect(restart(h, 'close').outbox.status().dropped.budget).toBe(before);
      });
    });

    describe('expiry by monotonic age (invariant 6)', () => {
      const HOUR = 3_600_000;

      it('expires device and audit events once maxAgeMs old, never the others', () => {
        const h = start({ maxAgeMs: HOUR });
        h.outbox.append([SAMPLE.device(1), SAMPLE.audit(1), SAMPLE.alarm(1), SAMPLE.reply(1)]);
        h.clock.advance(HOUR - 1);
        expect(h.outbox.expireOld()).toBe(0);
        h.clock.advance(1);
        expect(h.outbox.expireOld()).toBe(2);
        expect(drain(h.outbox).map((e) => e.class)).toEqual(['alarm', 'reply']);
        expect(h.outbox.status().dropped.expired).toBe(2);
        expect(h.drops.map((d) => `${d.class}/${d.reason}/${d.count}`).sort()).toEqual(['audit/expired/1', 'device/expired/1']);
      });

      it('expires nothing when the wall clock jumps', () => {
        const h = start({ maxAgeMs: HOUR });
        h.outbox.append(events('device', 3));
        h.clock.jumpWall(30 * 24 * HOUR);
        expect(h.outbox.expireOld()).toBe(0);
        h.clock.jumpWall(-60 * 24 * HOUR);
        expect(h.outbox.expireOld()).toBe(0);
        expect(h.outbox.status().classes.device.pending).toBe(3);
      });

      itAcrossRestarts('counts age across a restart on the persisted uptime clock', () => {
        const h = start({ maxAgeMs: HOUR });
        h.outbox.append(events('device', 1));
        h.clock.advance(40 * 60_000);
        const after = restart(h, 'close');
        after.clock.advance(20 * 60_000 - 1);
        expect(after.outbox.expireOld()).toBe(0);
        after.clock.advance(1);
        expect(after.outbox.expireOld()).toBe(1);
      });
    });

    describe('purge and status', () => {
      it('purgeDelivered deletes delivered events only once the retention has passed', () => {
        const h = start({ deliveredRetentionMs: 60_000 });
        const written = h.outbox.append(events('registration', 3));
        h.outbox.markDelivered(seqs(written.slice(0, 2)));
        h.clock.advance(59_999);
        expect(h.outbox.purgeDelivered()).toBe(0);
        h.clock.advance(1);
        expect(h.outbox.purgeDelivered()).toBe(2);
        expect(h.outbox.take(10)).toEqual(written.slice(2));
        expect(h.outbox.status().delivered).toBe(2);
      });

      it('status reports all 8 classes, oldest age in wall seconds, the delivered total and drops by reason', () => {
        const h = start();
        const [alarm] = h.outbox.append(events('alarm', 1));
        h.clock.advance(90_500);
        h.outbox.append(events('device', 2));
        const status = h.outbox.status();
        expect(Object.keys(status.classes).sort()).toEqual([...EVENT_CLASS_NAMES].sort());
        expect(status.classes.alarm).toEqual({ pending: 1, oldestAgeS: 90 });
        expect(status.classes.device).toEqual({ pending: 2, oldestAgeS: 0 });
        expect(status.classes.audit).toEqual({ pending: 0, oldestAgeS: 0 });
        expect(status).toMatchObject({ delivered: 0, dropped: { budget: 0, expired: 0 } });
        h.outbox.markDelivered([alarm!.seq, alarm!.seq]);
        expect(h.outbox.status()).toMatchObject({ delivered: 1, classes: { alarm: { pending: 0, oldestAgeS: 0 } } });
      });
    });
  });
}
