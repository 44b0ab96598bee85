// What a handler gets while it runs inside a group commit (ARCHITECTURE.md invariant 2):
// - emit: an upstream event, appended to the outbox in the same transaction;
// - after: an effect that runs only once the commit is durable (publishing to a device,
//   pushing to the console), so nothing leaves before it is on disk;
// - onRollback: how to undo a change to in-memory state (presence, alarm state, flood
//   windows) if the transaction does not commit, so a retried batch sees what it saw the
//   first time and an event is never lost to a half-applied memory change.
import type { NewEvent } from '../outbox/outbox.ts';
import type { FloodControl } from '../flood.ts';

export type Effect = () => void;

export type Tx = {
  /** Wall-clock time of this commit, epoch ms. */
  readonly now: number;
  emit(event: NewEvent): void;
  /** PROTOCOL.md §2.3: events caused by untrusted input go through flood control. */
  emitFlooded(source: string, event: NewEvent): void;
  after(effect: Effect): void;
  onRollback(undo: Effect): void;
};

/** One piece of work's view of a batch: its events, effects and undo log. */
export class TxScope implements Tx {
  readonly events: NewEvent[] = [];
  readonly effects: Effect[] = [];
  private readonly undos: Effect[] = [];

  constructor(readonly now: number, private readonly flood: FloodControl) {}

  emit(event: NewEvent): void {
    this.events.push(event);
  }

  emitFlooded(source: string, event: NewEvent): void {
    const admitted = this.flood.admit(source, event);
    this.onRollback(() => this.flood.unadmit(source, event));
    if (admitted) this.events.push(admitted);
  }

  after(effect: Effect): void {
    this.effects.push(effect);
  }

  onRollback(undo: Effect): void {
    this.undos.push(undo);
  }

  /** Undoes this work's memory changes, newest first. */
  rollback(): void {
    for (const undo of this.undos.reverse()) undo();
    this.undos.length = 0;
  }
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
