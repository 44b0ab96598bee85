// What a message handler gets while it runs inside a group commit: a way to enqueue
// upstream events in the same transaction, and effects to run only after the commit
// (publishing to devices, pushing to the console), so nothing leaves before it is durable.
import type { NewEvent, Outbox } from '../outbox/outbox.ts';
import type { FloodControl } from '../flood.ts';

export type Effect = () => void;

export type Tx = {
  /** Wall-clock time of this commit, epoch ms. */
  readonly now: number;
  emit(event: NewEvent): void;
  /** PROTOCOL.md §2.3: events caused by untrusted input go through flood control. */
  emitFlooded(source: string, event: NewEvent): void;
  after(effect: Effect): void;
};

export function createTx(outbox: Outbox, flood: FloodControl, now: number): Tx & { effects: Effect[] } {
  const effects: Effect[] = [];
  return {
    now,
    effects,
    emit: (event) => void outbox.append([event]),
    emitFlooded: (source, event) => {
      const admitted = flood.admit(source, event);
      if (admitted) outbox.append([admitted]);
    },
    after: (effect) => void effects.push(effect),
  };
}

export type DeviceRef = { id: string; kind: string; unit: string | null };

/** An event about a device: unit, deviceId and deviceTs where they apply (§2.1). */
export function deviceEvent(
  device: DeviceRef,
  eventClass: NewEvent['class'],
  type: string,
  data: Record<string, unknown>,
  deviceTs?: string,
): NewEvent {
  return {
    class: eventClass,
    type,
    deviceId: device.id,
    ...(device.unit ? { unit: device.unit } : {}),
    ...(deviceTs ? { deviceTs } : {}),
    data,
  };
}
