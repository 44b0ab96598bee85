// Smoke detectors and device health (issue: smoke detectors and device health), as one
// feature. It owns the smoke event path for MQTT (PROTOCOL.md §1.4) and Modbus (§5)
// detectors, the console's alarm list and its `alarm` stream (INTERFACES.md
// GET /api/alarms, GET /api/events), and the health behind GET /api/devices and the
// unsafe flag of GET /api/units. The HTTP routes read it through its public methods.
import type { Feature } from '../feature.ts';
import type { Gateway } from '../main.ts';
import type { DeviceIdentity } from '../ingest/device-ingest.ts';
import type { DeviceView } from '../ingest/presence.ts';
import { SmokeHandler, URGENT_SMOKE_EVENTS, type SmokeEvent } from '../ingest/smoke.ts';
import type { Tx } from '../ingest/tx.ts';
import type { NewEvent } from '../outbox/outbox.ts';
import { AlarmBook, type Alarm } from './alarms.ts';
import { DetectorHealth, type DeviceHealth, type DeviceStatus, type UnsafeDetector } from './health.ts';
import { WiredDetectors } from './wired.ts';
import { isoTime } from '../../protocol/time.ts';

export type { Alarm } from './alarms.ts';
export type { DeviceHealth, DeviceStatus, UnsafeDetector, UnsafeReason } from './health.ts';

export type SmokeFeatureOptions = {
  /** The unit's registered occupant count now (§1.4 `occupants`); the check-in feature supplies it. */
  occupants?: (unit: string) => number;
};

export class SmokeFeature implements Feature {
  private gw!: Gateway;
  private alarmBook!: AlarmBook;
  private health!: DetectorHealth;
  private wired!: WiredDetectors;
  private readonly handler: SmokeHandler;

  constructor(private readonly opts: SmokeFeatureOptions = {}) {
    this.handler = new SmokeHandler((unit) => (unit === null ? 0 : (this.opts.occupants?.(unit) ?? 0)));
  }

  /** Replaces the composition root's bare smoke handler (DeviceIngest keeps one per kind and channel). */
  attach(gateway: Gateway): void {
    this.gw = gateway;
    this.alarmBook = new AlarmBook(gateway.bus);
    this.health = new DetectorHealth(gateway.clock, gateway.presence);
    this.wired = new WiredDetectors(gateway, (tx, device, e) => this.handle(tx, device, e));
    gateway.ingest.on('smoke', 'event', (tx, device, { payload }) => {
      // §1.4: an event may carry the battery level; it is shown in GET /api/devices.
      if (payload.batteryPct !== undefined) gateway.presence.seen(tx, device, payload.batteryPct);
      this.handle(tx, device, payload);
    }, ({ payload }) => URGENT_SMOKE_EVENTS.has(payload.type));
    gateway.presence.onChange((tx, device, atMono) => this.presenceChanged(tx, device, atMono));
    this.wired.track();
  }

  start(): void {
    this.wired.start();
  }

  stop(): Promise<void> {
    return this.wired.stop();
  }

  /** GET /api/alarms: open alarms and the recent cleared ones, newest first. */
  alarms(): Alarm[] {
    return this.alarmBook.alarms();
  }

  /** Resolves once `audit/alarm_acknowledged` is committed; false for an unknown alarmId. */
  acknowledge(alarmId: string, staffId: string): Promise<boolean> {
    return this.gw.transact((tx) => this.alarmBook.acknowledge(tx, alarmId, staffId));
  }

  /** GET /api/devices: every device with kind, unit, online state, battery, last seen and health. */
  devices(): DeviceStatus[] {
    return this.health.devices();
  }

  deviceHealth(deviceId: string): DeviceHealth | undefined {
    return this.health.deviceHealth(deviceId);
  }

  /** GET /api/units: a unit is unsafe while one of its detectors has a fault or tamper, or is offline over a day. */
  unsafeUnits(): Map<string, UnsafeDetector[]> {
    return this.health.unsafeUnits();
  }

  /**
   * The HTTP API's `unsafe` of one unit: one `<reason>:<deviceId>` string per cause, e.g.
   * `fault:smoke-0301`, `offline:smoke-0302`; empty when the unit is safe.
   */
  unitUnsafe(unit: string): string[] {
    return (this.health.unsafeUnits().get(unit) ?? []).map((u) => `${u.reason}:${u.deviceId}`);
  }

  /** Repeated alarms while in alarm, counted not re-sent (§1.4). */
  repeatedAlarms(): number {
    return this.handler.repeatedAlarms;
  }

  private handle(tx: Tx, device: DeviceIdentity, e: SmokeEvent): void {
    if (this.health.apply(tx, device.id, e)) {
      // The event proves the detector is online: presence saw it in this commit.
      tx.after(() => this.gw.bus.emit('device', { deviceId: device.id, kind: device.kind, unit: device.unit, online: true, at: isoTime(tx.now) }));
    }
    this.handler.handle(observing(tx, (event) => this.alarmBook.observe(tx, device, event)), device, e);
  }

  private presenceChanged(tx: Tx, device: DeviceView, atMono: number): void {
    this.health.presenceChanged(tx, device, atMono);
    const { id, kind, unit, online } = device;
    tx.after(() => this.gw.bus.emit('device', { deviceId: id, kind, unit, online, at: isoTime(tx.now) }));
  }
}

/**
 * The handler's tx, with every event it emits also shown to `observe`: the alarm book
 * follows what the handler actually sent, repeats suppressed, so the two never disagree.
 */
function observing(tx: Tx, observe: (event: NewEvent) => void): Tx {
  return {
    now: tx.now,
    emit: (event) => {
      tx.emit(event);
      observe(event);
    },
    emitFlooded: (source, event) => tx.emitFlooded(source, event),
    after: (effect) => tx.after(effect),
    onRollback: (undo) => tx.onRollback(undo),
  };
}
