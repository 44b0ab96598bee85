// Smoke detector events → upstream events (PROTOCOL.md §1.4). MQTT and Modbus detectors
// both come through here. Alarms are class `alarm`: the outbox sends them ahead of
// everything (ARCHITECTURE.md invariant 4).
import type { SmokeEventPayload } from '../../protocol/device-messages.ts';
import { deviceEvent, type DeviceRef, type Tx } from './tx.ts';

/**
 * The detector events handle() maps to class `alarm` or `security` (urgent, invariant 4);
 * a repeated alarm emits nothing but still commits in the urgent lane.
 */
export const URGENT_SMOKE_EVENTS: ReadonlySet<SmokeEventPayload['type']> = new Set(['alarm', 'clear', 'silenced', 'tamper']);

export type SmokeEvent = Pick<SmokeEventPayload, 'type' | 'value' | 'what' | 'seq' | 'ts'>;

/** The fire service wants to know whether people are inside (issue 4 registers stays). */
export type OccupantCount = (unit: string | null) => number;

export class SmokeHandler {
  /** Detectors in alarm, with how many repeated alarms arrived since. */
  private readonly inAlarm = new Map<string, number>();
  repeatedAlarms = 0;

  constructor(private readonly occupants: OccupantCount) {}

  handle(tx: Tx, device: DeviceRef, e: SmokeEvent): void {
    const seq = { deviceSeq: e.seq };
    const emit = (cls: Parameters<typeof deviceEvent>[1], type: string, data: Record<string, unknown>) =>
      tx.emit(deviceEvent(device, cls, type, { ...data, ...seq }, e.ts));
    switch (e.type) {
      case 'alarm': return this.alarm(tx, device, e);
      case 'clear': {
        const repeats = this.inAlarm.get(device.id);
        this.setAlarm(tx, device.id, undefined);
        return emit('alarm', 'smoke_clear', { repeats: repeats ?? 0 });
      }
      case 'silenced': return emit('alarm', 'silenced', {});
      case 'test': return emit('device', 'test', {});
      case 'tamper': return emit('security', 'tamper', {});
      case 'battery_low': return emit('device', 'battery_low', {});
      case 'battery_defect': return emit('device', 'fault', { what: 'battery' });
      case 'fault': return emit('device', 'fault', { what: 'sensor' });
      case 'restored': return emit('device', 'restored', { what: e.what });
      case 'eol': return emit('device', 'end_of_life', {});
    }
  }

  /** A repeated alarm while already in alarm is counted, not re-sent (§1.4). */
  private alarm(tx: Tx, device: DeviceRef, e: SmokeEvent): void {
    const repeats = this.inAlarm.get(device.id);
    if (repeats !== undefined) {
      this.setAlarm(tx, device.id, repeats + 1);
      this.repeatedAlarms++;
      return;
    }
    this.setAlarm(tx, device.id, 0);
    const data = { ...(e.value !== undefined ? { value: e.value } : {}), occupants: this.occupants(device.unit), deviceSeq: e.seq };
    tx.emit(deviceEvent(device, 'alarm', 'smoke', data, e.ts));
  }

  /** In-memory alarm state changes are undone if their commit fails (ingest/tx.ts). */
  private setAlarm(tx: Tx, id: string, repeats: number | undefined): void {
    const before = this.inAlarm.get(id);
    tx.onRollback(() => (before === undefined ? this.inAlarm.delete(id) : this.inAlarm.set(id, before)));
    if (repeats === undefined) this.inAlarm.delete(id);
    else this.inAlarm.set(id, repeats);
  }
}
