// A simulated platform (PROTOCOL.md §2): the upstream subscriber that receives a
// gateway's events and sends it commands. It does what a real platform must do with a
// stream that may hold resends (invariant 3: duplicates allowed, losses not): it dedupes
// by eventId, and checks that seq rises within each class among first arrivals (the
// outbox sends by priority, so seq order holds per class, not across classes).
//
// With `group`, it subscribes through a shared subscription
// (`$share/<group>/menwei/up/<gw>/#`), so several instances form one consumer group and
// the broker hands each event to one of them: the platform side scales out on a
// clustered broker. Replies then land on any member, so members of a group share one
// ReplyBook, as the members of a real platform share a database.
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { ulid } from 'ulid';
import { ReplyData, UpstreamEnvelope } from '../protocol/upstream.ts';
import { commandTopic } from '../protocol/topics.ts';
import { isoTime } from '../protocol/time.ts';
import type { CommandName } from '../protocol/commands.ts';

export { describeEvent } from './platform-text.ts';

export type PlatformEvent = UpstreamEnvelope & {
  topic: string;
  /** Wall-clock and monotonic (performance.now) time of arrival here. */
  receivedAt: number;
  receivedMono: number;
};

/** Pending commands by commandId, settled by whichever group member gets the reply. */
export class ReplyBook {
  private readonly pending = new Map<string, (reply: ReplyData) => void>();

  wait(commandId: string, timeoutMs: number): Promise<ReplyData> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(commandId);
        reject(new Error(`no reply to command ${commandId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(commandId, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  settle(reply: ReplyData): void {
    const resolve = this.pending.get(reply.commandId);
    this.pending.delete(reply.commandId);
    resolve?.(reply);
  }
}

export type PlatformSimOptions = {
  url: string;
  gatewayId: string;
  /** Default `platform-sim-<random>`; keep it across restarts to keep the session. */
  clientId?: string;
  /** A shared-subscription group name (MQTT 5 / Mosquitto `$share`). */
  group?: string;
  /** Default false: a persistent session, so nothing published while it was away is lost. */
  clean?: boolean;
  username?: string;
  password?: string;
  replies?: ReplyBook;
  /** Called with every first arrival, after the checks. */
  onEvent?: (event: PlatformEvent) => void;
  reconnectMs?: number;
};

export type SendOptions = { ttlMs?: number; timeoutMs?: number };

type Waiter = { match: (e: PlatformEvent) => boolean; resolve: (e: PlatformEvent) => void };

export class PlatformSim {
  /** First arrivals, in arrival order. */
  readonly events: PlatformEvent[] = [];
  /** Arrivals whose eventId was already seen (resends). */
  duplicates = 0;
  /** Messages that are not a valid §2.1 envelope. */
  invalid = 0;
  /** `class: seq N after M` for every first arrival that broke per-class order. */
  readonly orderViolations: string[] = [];
  readonly replies: ReplyBook;
  private readonly seen = new Set<string>();
  private readonly lastSeq = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private client: MqttClient | undefined;

  constructor(private readonly opts: PlatformSimOptions) {
    this.replies = opts.replies ?? new ReplyBook();
  }

  /** The subscription: plain, or shared by the group. */
  get filter(): string {
    const topic = `menwei/up/${this.opts.gatewayId}/#`;
    return this.opts.group ? `$share/${this.opts.group}/${topic}` : topic;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { url, username, password } = this.opts;
    const client = await mqtt.connectAsync(url, {
      clientId: this.opts.clientId ?? `platform-sim-${randomUUID().slice(0, 8)}`,
      clean: this.opts.clean ?? false, protocolVersion: 4, reconnectPeriod: this.opts.reconnectMs ?? 250,
      ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}),
    });
    this.client = client;
    client.on('message', (topic, payload) => this.receive(topic, payload));
    // It reconnects on its own; a caller waiting for an event notices by its timeout.
    client.on('error', () => undefined);
    await client.subscribeAsync(this.filter, { qos: 1 });
    // MQTT.js does not resubscribe a clean:false 3.1.1 session; a broker that lost the
    // session (sessionPresent false) needs the subscription again.
    client.on('connect', (connack) => {
      if (!connack.sessionPresent) client.subscribe(this.filter, { qos: 1 });
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    // A client that is down would wait for a DISCONNECT it can never send.
    if (client) await client.endAsync(!client.connected);
  }

  /**
   * PROTOCOL.md §2.2: publishes `{v:1, commandId, expiresAt, ...fields}` on
   * `menwei/down/<gw>/<name>` and resolves with the `reply/<name>` data.
   */
  async sendCommand(name: CommandName | string, fields: Record<string, unknown>, opts: SendOptions = {}): Promise<ReplyData> {
    const client = this.client;
    if (!client) throw new Error('platform sim is not started');
    const commandId = `cmd-${ulid()}`;
    const payload = { v: 1, commandId, expiresAt: isoTime(Date.now() + (opts.ttlMs ?? 60_000)), ...fields };
    const reply = this.replies.wait(commandId, opts.timeoutMs ?? 10_000);
    reply.catch(() => undefined); // observed below; a failed publish must not leave it unhandled
    await client.publishAsync(commandTopic(this.opts.gatewayId, name), JSON.stringify(payload), { qos: 1 });
    return reply;
  }

  /** The first event (already received or still to come) that matches. */
  waitFor(match: (e: PlatformEvent) => boolean, timeoutMs = 10_000, what = 'an event'): Promise<PlatformEvent> {
    const found = this.events.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { match, resolve: (e) => { clearTimeout(timer); resolve(e); } };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`platform: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private receive(topic: string, payload: Buffer): void {
    const receivedMono = performance.now();
    const parsed = UpstreamEnvelope.safeParse(parseJson(payload));
    if (!parsed.success) {
      this.invalid++;
      return;
    }
    const envelope = parsed.data;
    if (this.seen.has(envelope.eventId)) {
      this.duplicates++;
      return;
    }
    this.seen.add(envelope.eventId);
    const last = this.lastSeq.get(envelope.class) ?? 0;
    if (envelope.seq <= last) this.orderViolations.push(`${envelope.class}: seq ${envelope.seq} after ${last}`);
    this.lastSeq.set(envelope.class, Math.max(last, envelope.seq));
    const event: PlatformEvent = { ...envelope, topic, receivedAt: Date.now(), receivedMono };
    this.events.push(event);
    if (event.class === 'reply') {
      const reply = ReplyData.safeParse(event.data);
      if (reply.success) this.replies.settle(reply.data);
    }
    this.opts.onEvent?.(event);
    for (const waiter of this.waiters) {
      if (!waiter.match(event)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(event);
    }
  }
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}
