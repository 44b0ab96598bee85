// Open and recent smoke alarms, for the console (INTERFACES.md GET /api/alarms and the
// event stream). The book follows the upstream events the smoke handler emits, so an
// alarm is opened exactly when `alarm/smoke` is committed (a repeat while in alarm emits
// nothing, PROTOCOL.md §1.4) and closed by `alarm/smoke_clear`. It lives in memory: after
// a gateway restart the console shows only alarms raised since, like the handler's own
// in-alarm state.
import { ulid } from 'ulid';
import type { BusEvents, EventBus } from '../event-bus.ts';
import type { NewEvent } from '../outbox/outbox.ts';
import { deviceEvent, type DeviceRef, type Tx } from '../ingest/tx.ts';
import { isoTime } from '../../protocol/time.ts';

type AlarmRecord = {
  /** `a_` + ULID: a console id (PROTOCOL.md §0 prefix style); the upstream knows the alarm by its eventId. */
  alarmId: string;
  unit: string | null;
  deviceId: string;
  deviceTs: string | null;
  /** Smoke density 0–1000, when the detector sent one. */
  value: number | null;
  /** The unit's registered occupant count when the alarm was raised. */
  occupants: number;
  openedAt: string;
  clearedAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
};

type AlarmState = BusEvents['alarm']['state'];

/**
 * An alarm as the console lists it: the record, plus its latest transition as `state`
 * and `at`, so a listing has the shape of the bus's `alarm` event (the HTTP API's AlarmView).
 */
export type Alarm = AlarmRecord & { state: AlarmState; at: string };

/** Cleared alarms kept for the console beside the open ones. */
const RECENT_CLEARED = 100;

export class AlarmBook {
  /** Oldest first. */
  private readonly list: AlarmRecord[] = [];

  constructor(private readonly bus: EventBus) {}

  /** Called with every event the smoke handler emits, inside the same commit. */
  observe(tx: Tx, device: DeviceRef, event: NewEvent): void {
    if (event.class !== 'alarm') return;
    if (event.type === 'smoke') this.open(tx, device, event);
    else if (event.type === 'smoke_clear') this.clear(tx, device.id);
  }

  /** Newest first: open alarms and the most recent cleared ones. */
  alarms(): Alarm[] {
    return this.list.map((a) => ({ ...a, ...latest(a) })).reverse();
  }

  /**
   * Staff saw the alarm: `audit/alarm_acknowledged` (PROTOCOL.md §2.1). False for an
   * unknown id; acknowledging twice keeps the first acknowledgement and emits nothing.
   */
  acknowledge(tx: Tx, alarmId: string, staffId: string): boolean {
    const alarm = this.list.find((a) => a.alarmId === alarmId);
    if (!alarm) return false;
    if (alarm.acknowledgedAt !== null) return true;
    tx.onRollback(() => Object.assign(alarm, { acknowledgedAt: null, acknowledgedBy: null }));
    Object.assign(alarm, { acknowledgedAt: isoTime(tx.now), acknowledgedBy: staffId });
    const device = { id: alarm.deviceId, kind: 'smoke', unit: alarm.unit };
    tx.emit(deviceEvent(device, 'audit', 'alarm_acknowledged', { alarmId, staffId }));
    tx.after(() => this.publish(alarm, 'acknowledged', tx.now));
    return true;
  }

  private open(tx: Tx, device: DeviceRef, event: NewEvent): void {
    const { value, occupants } = event.data;
    const alarm: AlarmRecord = {
      alarmId: `a_${ulid()}`,
      unit: device.unit,
      deviceId: device.id,
      deviceTs: event.deviceTs ?? null,
      value: typeof value === 'number' ? value : null,
      occupants: typeof occupants === 'number' ? occupants : 0,
      openedAt: isoTime(tx.now),
      clearedAt: null,
      acknowledgedAt: null,
      acknowledgedBy: null,
    };
    this.list.push(alarm);
    tx.onRollback(() => this.remove(alarm));
    // ARCHITECTURE.md invariant 4 and the issue: the console hears of it as soon as it is durable.
    tx.after(() => this.publish(alarm, 'open', tx.now));
  }

  private clear(tx: Tx, deviceId: string): void {
    const alarm = this.list.findLast((a) => a.deviceId === deviceId && a.clearedAt === null);
    if (!alarm) return;
    alarm.clearedAt = isoTime(tx.now);
    tx.onRollback(() => { alarm.clearedAt = null; });
    tx.after(() => {
      this.publish(alarm, 'cleared', tx.now);
      this.prune();
    });
  }

  private publish(alarm: AlarmRecord, state: AlarmState, at: number): void {
    const { alarmId, unit, deviceId, occupants } = alarm;
    this.bus.emit('alarm', { alarmId, unit, deviceId, state, occupants, at: isoTime(at) });
  }

  private remove(alarm: AlarmRecord): void {
    const i = this.list.indexOf(alarm);
    if (i !== -1) this.list.splice(i, 1);
  }

  /** Runs after commit only, so no rollback can need a pruned alarm back. */
  private prune(): void {
    const cleared = this.list.filter((a) => a.clearedAt !== null);
    const drop = new Set(cleared.slice(0, Math.max(0, cleared.length - RECENT_CLEARED)));
    if (drop.size === 0) return;
    const kept = this.list.filter((a) => !drop.has(a));
    this.list.splice(0, this.list.length, ...kept);
  }
}

function latest(a: AlarmRecord): { state: AlarmState; at: string } {
  if (a.clearedAt !== null) return { state: 'cleared', at: a.clearedAt };
  if (a.acknowledgedAt !== null) return { state: 'acknowledged', at: a.acknowledgedAt };
  return { state: 'open', at: a.openedAt };
}
