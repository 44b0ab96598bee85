// Device health (issue 4): the fault, tamper, battery and end-of-life flags of each
// detector, set by its §1.4 events and cleared by `restored {what}` (PROTOCOL.md §1.4,
// §5), and since when each device has been offline.
//
// Both live in memory. The schema is not extended for them, so after a gateway restart
// a detector's flags are re-learned from its next event: a Modbus detector reports any
// flag still set at the first good reply (§5: the state before it is all zero), an MQTT
// detector only when it sends the event again. "Offline longer than a day" counts on
// monotonic time from the offline transition (ARCHITECTURE.md invariant 6), so a wall
// clock jump neither makes nor hides an unsafe unit. A device that never spoke since the
// start turns offline after 2 heartbeat intervals (§1.1), and its day counts from then.
import type { Clock } from '../clock.ts';
import type { DeviceView, Presence } from '../ingest/presence.ts';
import type { SmokeEvent } from '../ingest/smoke.ts';
import type { Tx } from '../ingest/tx.ts';
import type { DeviceKind } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';

export type HealthFlags = { fault: boolean; tamper: boolean; batteryLow: boolean; batteryDefect: boolean; endOfLife: boolean };

/**
 * Why a detector makes its unit unsafe: a fault (`device/fault`, sensor or battery), a
 * detector taken off its base (the issue: "a restored fault or tamper clears the unit's
 * unsafe state"), or offline for more than a day.
 */
export type UnsafeReason = 'fault' | 'battery_defect' | 'tamper' | 'offline';

export type UnsafeDetector = { deviceId: string; reason: UnsafeReason };

export type DeviceHealth = Omit<HealthFlags, 'fault'> & {
  /**
   * A sensor fault, as the `what` of its `device/fault` (§1.4), null when none: the
   * HTTP API's `fault` field. A battery fault is `batteryDefect`.
   */
  fault: 'sensor' | null;
  /** When the device went offline (gateway wall time), null while online or unknown. */
  offlineSince: string | null;
  /** Empty for devices that are not smoke detectors. */
  unsafe: UnsafeReason[];
};

/** One row of GET /api/devices. */
export type DeviceStatus = {
  id: string;
  kind: DeviceKind;
  unit: string | null;
  online: boolean | null;
  batteryPct: number | null;
  lastSeenAt: string | null;
  health: DeviceHealth;
};

const DAY_MS = 86_400_000;

const HEALTHY: HealthFlags = Object.freeze({ fault: false, tamper: false, batteryLow: false, batteryDefect: false, endOfLife: false });

type Offline = { sinceMono: number; sinceAt: number };

export class DetectorHealth {
  private readonly flags = new Map<string, HealthFlags>();
  private readonly offline = new Map<string, Offline>();

  constructor(private readonly clock: Clock, private readonly presence: Presence) {}

  /** Applies a §1.4 event inside its commit; true when a flag changed. */
  apply(tx: Tx, deviceId: string, e: SmokeEvent): boolean {
    const before = this.flags.get(deviceId) ?? HEALTHY;
    const after = nextFlags(before, e);
    if (Object.entries(after).every(([flag, set]) => before[flag as keyof HealthFlags] === set)) return false;
    this.flags.set(deviceId, after);
    tx.onRollback(() => this.flags.set(deviceId, before));
    return true;
  }

  /** Presence listener: notes the monotonic time of an offline transition, forgets it on the way back. */
  presenceChanged(tx: Tx, device: DeviceView, atMono: number): void {
    const before = this.offline.get(device.id);
    tx.onRollback(() => (before ? this.offline.set(device.id, before) : this.offline.delete(device.id)));
    if (device.online === false) this.offline.set(device.id, { sinceMono: atMono, sinceAt: tx.now });
    else this.offline.delete(device.id);
  }

  deviceHealth(id: string): DeviceHealth | undefined {
    const device = this.presence.list().find((d) => d.id === id);
    return device && this.healthOf(device);
  }

  devices(): DeviceStatus[] {
    return this.presence.list().map((d) => ({
      id: d.id,
      kind: d.kind,
      unit: d.unit,
      online: d.online,
      batteryPct: d.batteryPct,
      lastSeenAt: d.lastSeenAt === null ? null : isoTime(d.lastSeenAt),
      health: this.healthOf(d),
    }));
  }

  /** Units with at least one unsafe detector, and which detectors make them so. */
  unsafeUnits(): Map<string, UnsafeDetector[]> {
    const units = new Map<string, UnsafeDetector[]>();
    for (const device of this.presence.list()) {
      if (device.unit === null) continue;
      const reasons = this.healthOf(device).unsafe.map((reason) => ({ deviceId: device.id, reason }));
      if (reasons.length > 0) units.set(device.unit, [...(units.get(device.unit) ?? []), ...reasons]);
    }
    return units;
  }

  private healthOf(device: DeviceView): DeviceHealth {
    const flags = this.flags.get(device.id) ?? HEALTHY;
    const offline = this.offline.get(device.id);
    const offlineForMs = offline ? this.clock.monotonic() - offline.sinceMono : 0;
    const unsafe: UnsafeReason[] = [];
    if (device.kind === 'smoke') {
      if (flags.fault) unsafe.push('fault');
      if (flags.batteryDefect) unsafe.push('battery_defect');
      if (flags.tamper) unsafe.push('tamper');
      if (offlineForMs > DAY_MS) unsafe.push('offline');
    }
    return { ...flags, fault: flags.fault ? 'sensor' : null, offlineSince: offline ? isoTime(offline.sinceAt) : null, unsafe };
  }
}

/** PROTOCOL.md §1.4: each condition is set by its event and cleared by the matching `restored`. */
function nextFlags(flags: HealthFlags, e: SmokeEvent): HealthFlags {
  switch (e.type) {
    case 'fault': return { ...flags, fault: true };
    case 'tamper': return { ...flags, tamper: true };
    case 'battery_low': return { ...flags, batteryLow: true };
    case 'battery_defect': return { ...flags, batteryDefect: true };
    case 'eol': return { ...flags, endOfLife: true };
    case 'restored':
      if (e.what === 'fault') return { ...flags, fault: false };
      if (e.what === 'tamper') return { ...flags, tamper: false };
      if (e.what === 'battery') return { ...flags, batteryLow: false, batteryDefect: false };
      return flags;
    default: return flags;
  }
}
