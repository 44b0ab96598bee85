// The gateway's typed in-process event bus: what the console's Server-Sent Events stream
// shows (INTERFACES.md GET /api/events). Publishers emit after their commit, so the
// console never shows what is not durable. Payloads carry masked personal data only.
import { EventEmitter } from 'node:events';

export type BusEvents = {
  /** A card read at a desk (ID number and name masked). */
  read: { readId: string; desk: string; readerId: string; name: string; idNumber: string; docType: string; validTo: string | null; at: string };
  /** A face result attached to a read. */
  verify: { readId: string; desk: string; score: number; liveness: boolean; at: string };
  /** A check-in, visitor or reissue decision. */
  decision: { readId: string; desk: string | null; unit: string; ok: boolean; reason?: string; stayId?: string; at: string };
  /** A smoke alarm raised, cleared or acknowledged. */
  alarm: { alarmId: string; unit: string | null; deviceId: string; state: 'open' | 'cleared' | 'acknowledged'; occupants: number; at: string };
  /** A device went online or offline, or its health changed. */
  device: { deviceId: string; kind: string; unit: string | null; online: boolean | null; at: string };
  /** A unit's occupancy, suspension or safety changed. */
  unit: { unit: string; at: string };
};

export type BusEventName = keyof BusEvents;

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open console tab; the default limit of 10 is too low for a desk.
    this.emitter.setMaxListeners(1000);
  }

  emit<K extends BusEventName>(name: K, data: BusEvents[K]): void {
    this.emitter.emit(name, data);
  }

  on<K extends BusEventName>(name: K, listener: (data: BusEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
