// Lock events → upstream events (PROTOCOL.md §1.2). Runs inside the group commit; every
// upstream event carries the unit, deviceId, deviceTs and the lock's seq as
// data.deviceSeq (§2.1). Door timers run on monotonic time (ARCHITECTURE.md invariant 6).
import type { LockEventPayload } from '../../protocol/device-messages.ts';
import { isoTime } from '../../protocol/time.ts';
import type { NewEvent } from '../outbox/outbox.ts';
import type { Logger } from '../logger.ts';
import { deviceEvent, type DeviceRef, type Tx } from '../ingest/tx.ts';
import type { CodeStore } from './code-store.ts';

/** Monotonic one-shot timers; injectable so tests fire the door-ajar timer by hand. */
export type Timers = { set(fn: () => void, ms: number): () => void };

export const realTimers: Timers = {
  set(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** §1.2: `security/wrong_code` once the consecutive count reaches 3. */
const WRONG_CODE_REPORTED_FROM = 3;
/** §1.2: `device/battery_low` when the level crosses below 20. */
const BATTERY_LOW_BELOW = 20;

type UnlockEvent = Extract<LockEventPayload, { type: 'unlock' }>;

export type LockEventsDeps = {
  store: CodeStore;
  /** Registers the after-commit hints for locks whose list changed (§1.3). */
  changed(tx: Tx, lockIds: readonly string[]): void;
  transact(fn: (tx: Tx) => void): Promise<void>;
  doorAjarMs: number;
  timers: Timers;
  logger: Logger;
};

export class LockEvents {
  /** The last battery level per lock; unknown after a start. */
  private readonly battery = new Map<string, number>();
  /** Cancels of the door-ajar timers of locks whose door is open. */
  private readonly doorOpen = new Map<string, () => void>();

  constructor(private readonly deps: LockEventsDeps) {}

  /**
   * Whether handle() emits a `security` event for it, known before its commit (urgent,
   * invariant 4). An unknown code is found only inside the commit, so it is not.
   */
  static isUrgent(e: LockEventPayload): boolean {
    switch (e.type) {
      case 'wrong_code': return e.count >= WRONG_CODE_REPORTED_FROM;
      case 'lockout':
      case 'tamper': return true;
      case 'unlock': return e.method === 'key';
      default: return false;
    }
  }

  handle(tx: Tx, device: DeviceRef, e: LockEventPayload): void {
    const emit = (cls: NewEvent['class'], type: string, data: Record<string, unknown>) =>
      tx.emit(deviceEvent(device, cls, type, { ...data, deviceSeq: e.seq }, e.ts));
    switch (e.type) {
      case 'unlock': return this.unlock(tx, device, e);
      case 'wrong_code':
        // §2.3: guessing is untrusted input, aggregated per lock per minute.
        if (e.count >= WRONG_CODE_REPORTED_FROM) {
          tx.emitFlooded(device.id, deviceEvent(device, 'security', 'wrong_code', { count: e.count, deviceSeq: e.seq }, e.ts));
        }
        return;
      case 'lockout': return emit('security', 'lockout', { until: isoTime(Date.parse(e.until)) });
      case 'tamper': return emit('security', 'tamper', {});
      case 'door': return this.door(tx, device, e.open, e.seq, e.ts);
      case 'battery': return this.batteryLevel(tx, device, e.pct, emit);
      case 'jammed': return emit('device', 'fault', { what: 'jammed' });
    }
  }

  /** Cancels the door timers (gateway stop). */
  stop(): void {
    for (const cancel of this.doorOpen.values()) cancel();
    this.doorOpen.clear();
  }

  /**
   * §1.2: every unlock is an `occupancy/entry`. A code use counts against `uses`; an
   * unknown, revoked, used-up or expired code is also `security/unknown_code` (CHECKIN.md
   * "Occupancy": a code of a closed stay is gone, so its use is suspicious).
   */
  private unlock(tx: Tx, device: DeviceRef, e: UnlockEvent): void {
    const entry: Record<string, unknown> = { method: e.method, deviceSeq: e.seq };
    if (e.method === 'code' && e.codeId !== undefined) {
      entry.codeId = e.codeId;
      const outcome = this.deps.store.use(device.id, e.codeId, tx.now);
      if (outcome === 'used') this.deps.changed(tx, [device.id]);
      if (outcome === 'unknown') {
        tx.emit(deviceEvent(device, 'security', 'unknown_code', { codeId: e.codeId, deviceSeq: e.seq }, e.ts));
      } else {
        const stayId = this.deps.store.find(e.codeId)?.stayId;
        if (stayId) entry.stayId = stayId;
      }
    }
    tx.emit(deviceEvent(device, 'occupancy', 'entry', entry, e.ts));
    if (e.method === 'key') tx.emit(deviceEvent(device, 'security', 'mechanical_key', { deviceSeq: e.seq }, e.ts));
  }

  /**
   * §1.2: open longer than policy.doorAjarMin gives `security/door_ajar`, once per opening.
   * Timers start and stop after the commit, so a rolled-back event leaves no timer.
   */
  private door(tx: Tx, device: DeviceRef, open: boolean, seq: number, ts: string): void {
    tx.after(() => {
      const cancel = this.doorOpen.get(device.id);
      if (!open) {
        cancel?.();
        this.doorOpen.delete(device.id);
        return;
      }
      if (cancel) return;
      this.doorOpen.set(device.id, this.deps.timers.set(() => this.ajar(device, seq, ts), this.deps.doorAjarMs));
    });
  }

  private ajar(device: DeviceRef, seq: number, ts: string): void {
    this.doorOpen.delete(device.id);
    const data = { openSinceMin: this.deps.doorAjarMs / 60_000, deviceSeq: seq };
    this.deps.transact((tx) => tx.emit(deviceEvent(device, 'security', 'door_ajar', data, ts)))
      .catch((err: unknown) => this.deps.logger.error({ err, deviceId: device.id }, 'door_ajar not committed'));
  }

  /**
   * §1.2: once per crossing below 20. Nothing is known before the first level after a
   * start, so a low first level counts as a crossing: a repeat is better than a miss.
   */
  private batteryLevel(tx: Tx, device: DeviceRef, pct: number, emit: (c: 'device', t: string, d: Record<string, unknown>) => void): void {
    const before = this.battery.get(device.id);
    this.battery.set(device.id, pct);
    tx.onRollback(() => (before === undefined ? this.battery.delete(device.id) : this.battery.set(device.id, before)));
    if (pct < BATTERY_LOW_BELOW && (before === undefined || before >= BATTERY_LOW_BELOW)) emit('device', 'battery_low', { pct });
  }
}
