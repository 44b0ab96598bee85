// Validated device messages → domain handlers, inside the group commit. One dispatch
// table by (kind, channel), as aedes dispatches by packet type; features (smoke here,
// locks and check-in elsewhere) plug their handlers in.
import type { DeviceMessage, BadMessage } from '../../protocol/validate.ts';
import type { DeviceKind } from '../../protocol/topics.ts';
import type { Logger } from '../logger.ts';
import type { Presence } from './presence.ts';
import type { SeqDedupe } from './dedupe.ts';
import { deviceEvent, type DeviceRef, type Tx } from './tx.ts';

export type DeviceIdentity = DeviceRef & { kind: DeviceKind };
export type MessageHandler<M extends DeviceMessage = DeviceMessage> = (tx: Tx, device: DeviceIdentity, message: M) => void;

export type IngestCounters = { duplicates: number; seqConflicts: number; badMessages: number; unhandled: number };

/** Whether a message will emit an urgent-class event, known before its commit runs. */
export type UrgencyTest<M extends DeviceMessage = DeviceMessage> = (message: M) => boolean;

export class DeviceIngest {
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly urgency = new Map<string, UrgencyTest>();
  readonly counters: IngestCounters = { duplicates: 0, seqConflicts: 0, badMessages: 0, unhandled: 0 };

  constructor(private readonly deps: { presence: Presence; dedupe: SeqDedupe; logger: Logger }) {}

  on<K extends DeviceMessage['kind'], C extends Extract<DeviceMessage, { kind: K }>['channel']>(
    kind: K,
    channel: C,
    handler: MessageHandler<Extract<DeviceMessage, { kind: K; channel: C }>>,
    urgent?: UrgencyTest<Extract<DeviceMessage, { kind: K; channel: C }>>,
  ): void {
    const key = `${kind}/${String(channel)}`;
    this.handlers.set(key, handler as MessageHandler);
    if (urgent) this.urgency.set(key, urgent as UrgencyTest);
    else this.urgency.delete(key);
  }

  /** The group commit commits urgent messages ahead of the rest (ARCHITECTURE.md invariant 4). */
  isUrgent(message: DeviceMessage): boolean {
    return this.urgency.get(`${message.kind}/${message.channel}`)?.(message) ?? false;
  }

  /** Runs inside the commit. `raw` is the payload as received, for exact-duplicate checks. */
  apply(tx: Tx, device: DeviceIdentity, message: DeviceMessage, raw: Uint8Array, isWill = false): void {
    if (message.channel === 'status') return this.status(tx, device, message.payload, isWill);
    if ('seq' in message.payload) {
      const verdict = this.deps.dedupe.check(device.id, message.payload.seq, raw, tx.now);
      if (verdict === 'duplicate') {
        this.counters.duplicates++;
        return;
      }
      if (verdict === 'seq_conflict') this.counters.seqConflicts++;
    }
    this.deps.presence.seen(tx, device);
    const handler = this.handlers.get(`${message.kind}/${message.channel}`);
    if (handler) handler(tx, device, message);
    else this.counters.unhandled++;
  }

  /** PROTOCOL.md §0: counted, logged (masked), reported upstream, aggregated; never acted on. */
  bad(tx: Tx, device: DeviceIdentity, topic: string, error: BadMessage): void {
    this.counters.badMessages++;
    this.deps.logger.warn({ deviceId: device.id, topic, code: error.code, reason: error.reason, field: error.field }, 'bad message');
    this.deps.presence.seen(tx, device);
    tx.emitFlooded(device.id, deviceEvent(device, 'device', 'bad_message', { reason: error.reason, topic, deviceId: device.id }));
  }

  private status(tx: Tx, device: DeviceIdentity, payload: { online: boolean; batteryPct?: number }, isWill: boolean): void {
    if (payload.online) this.deps.presence.seen(tx, device, payload.batteryPct);
    else this.deps.presence.offline(tx, device.id, isWill ? 'will' : 'status');
  }
}
