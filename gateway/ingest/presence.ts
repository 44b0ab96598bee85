// Online/offline per device (PROTOCOL.md §1.1). Offline on the will, a disconnect, or 2
// heartbeat intervals without a message (monotonic time); online at the next message.
// After a restart a device is unknown until its first message or until 2 intervals pass.
// Polled devices (Modbus, §5) send no heartbeats: their driver reports their state, so
// they are tracked with `heartbeat: false` and never time out here.
import type { Clock } from '../clock.ts';
import type { DeviceKind } from '../../protocol/topics.ts';
import { deviceEvent, type DeviceRef, type Tx } from './tx.ts';

type State = { ref: DeviceRef; kind: DeviceKind; online: boolean | null; lastSeenMono: number; lastSeenAt: number | null; batteryPct: number | null; heartbeat: boolean };

export type DeviceView = { id: string; kind: DeviceKind; unit: string | null; online: boolean | null; lastSeenAt: number | null; batteryPct: number | null };

export type OfflineReason = 'will' | 'disconnect' | 'status' | 'heartbeat' | 'timeout';

/** Told of each online/offline transition inside its commit, with the monotonic time it happened. */
export type PresenceListener = (tx: Tx, device: DeviceView, atMono: number) => void;

export class Presence {
  private readonly devices = new Map<string, State>();
  private readonly listeners: PresenceListener[] = [];

  constructor(private readonly clock: Clock, private readonly heartbeatS: Record<DeviceKind, number>) {}

  /** Seeds provisioned devices as unknown, so a silent one goes offline after 2 intervals. */
  track(ref: DeviceRef & { kind: DeviceKind }, opts: { heartbeat?: boolean } = {}): void {
    if (this.devices.has(ref.id)) return;
    const heartbeat = opts.heartbeat ?? true;
    this.devices.set(ref.id, { ref, kind: ref.kind, online: null, lastSeenMono: this.clock.monotonic(), lastSeenAt: null, batteryPct: null, heartbeat });
  }

  onChange(listener: PresenceListener): void {
    this.listeners.push(listener);
  }

  /** Any message counts as a heartbeat; the first after silence is `device/online`. */
  seen(tx: Tx, ref: DeviceRef & { kind: DeviceKind }, batteryPct?: number): void {
    this.track(ref);
    const state = this.devices.get(ref.id)!;
    const before = { ...state };
    tx.onRollback(() => Object.assign(state, before));
    state.ref = ref;
    state.lastSeenMono = this.clock.monotonic();
    state.lastSeenAt = tx.now;
    if (batteryPct !== undefined) state.batteryPct = batteryPct;
    if (state.online !== true) {
      state.online = true;
      tx.emit(deviceEvent(ref, 'device', 'online', {}));
      this.changed(tx, state);
    }
  }

  offline(tx: Tx, id: string, reason: OfflineReason): void {
    const state = this.devices.get(id);
    if (!state || state.online === false) return;
    const before = state.online;
    tx.onRollback(() => { state.online = before; });
    state.online = false;
    tx.emit(deviceEvent(state.ref, 'device', 'offline', { reason }));
    this.changed(tx, state);
  }

  /** A polled device's driver (Modbus, a serial reader) found it answering or gone. */
  driverState(tx: Tx, ref: DeviceRef & { kind: DeviceKind }, online: boolean): void {
    if (online) this.seen(tx, ref);
    else this.offline(tx, ref.id, 'timeout');
  }

  private changed(tx: Tx, state: State): void {
    const at = this.clock.monotonic();
    for (const listener of this.listeners) listener(tx, view(state), at);
  }

  /** Ids whose last message is older than 2 heartbeat intervals and not yet offline. */
  overdue(): string[] {
    const now = this.clock.monotonic();
    const ids: string[] = [];
    for (const [id, s] of this.devices) {
      if (s.heartbeat && s.online !== false && now - s.lastSeenMono > 2 * this.heartbeatS[s.kind] * 1000) ids.push(id);
    }
    return ids;
  }

  forget(id: string): void {
    this.devices.delete(id);
  }

  onlineByKind(): Record<DeviceKind, number> {
    const counts = { lock: 0, smoke: 0, desk: 0, reader: 0 };
    for (const s of this.devices.values()) if (s.online === true) counts[s.kind]++;
    return counts;
  }

  list(): DeviceView[] {
    return [...this.devices.values()].map(view);
  }
}

function view(s: State): DeviceView {
  return { id: s.ref.id, kind: s.kind, unit: s.ref.unit, online: s.online, lastSeenAt: s.lastSeenAt, batteryPct: s.batteryPct };
}
