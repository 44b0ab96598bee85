// The upstream forwarder (PROTOCOL.md §2): drains the outbox to the platform broker over
// one MQTT 3.1.1 session (clientId = gatewayId, clean:false, QoS 1) and hands commands
// from the platform to the domain.
//
// - Publishes only while connected and never lets MQTT.js queue offline (ARCHITECTURE.md
//   "MQTT.js upstream"). The outbox is the only queue.
// - Each connection is a fresh MQTT.js client with reconnectPeriod 0; the forwarder
//   schedules the next one with backoff.ts. A fresh client has an empty outgoing store,
//   so MQTT.js never replays anything itself: on every CONNACK the outbox is rewound and
//   every unacknowledged event is published again, in seq order (duplicates allowed,
//   losses not; invariant 3). The resends carry new packet ids, not the original ones
//   of [MQTT-4.4.0-1]: for QoS 1 the broker forwards them as new messages either way,
//   and consumers dedupe by eventId.
// - At most `window` events are in flight; priority ≤ 1 (alarm, security, gateway) may
//   use `urgentReserve` more, so an alarm never waits behind a full window (invariant 4).
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import type { Outbox, PendingEvent } from '../outbox/outbox.ts';
import { commandFilter as defaultCommandFilter } from '../../protocol/topics.ts';
import { URGENT_PRIORITY } from '../../protocol/upstream.ts';
import { AckBatch } from './ack-batch.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';

/** A connection up this long resets the backoff; a connection that flaps keeps backing off. */
const STABLE_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_S = 30;
const DRAIN_POLL_MS = 10;
/**
 * Each batch of PUBACKs is marked in a commit whose fsync blocks the event loop (a few ms
 * on a cheap disk). Marking every 5 ms or every window's worth of acks cost a commit per
 * 64 events while a backlog drains (issue 8 §3); a mark that comes later only means more
 * events are sent again after a crash, which invariant 3 allows.
 */
const ACK_FLUSH_MS = 20;
const ACK_BATCH_MAX = 4096;

export type ForwarderState = 'connected' | 'down' | 'stalled' | 'none';

export type ForwarderMetrics = {
  /** Events acknowledged by the upstream broker since start (duplicates included). */
  delivered: number;
  /** Published and not yet acknowledged, on the current connection. */
  inFlight: number;
  /** Successful connections after the first one. */
  reconnects: number;
  /** Monotonic time of the last PUBACK, or null before the first. */
  lastAckMono: number | null;
};

export type ForwarderOptions = {
  outbox: Outbox;
  url: string;
  /** The gatewayId (PROTOCOL.md §2). */
  clientId: string;
  username?: string;
  password?: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Events in flight at most (default 64). */
  window?: number;
  /** Extra in-flight slots only priority ≤ 1 may use (default 8). */
  urgentReserve?: number;
  /** No PUBACK for this long while events are in flight is "stalled" (default 30 s, INTERFACES.md /healthz). */
  stallMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** stop() waits at most this long for in-flight PUBACKs (default 2 s). */
  drainMs?: number;
  /** Acks are marked delivered at most this much later (default 50 ms). */
  ackFlushMs?: number;
  clock: Clock;
  logger: Logger;
  /**
   * Applies a command and commits its effect and reply. Its PUBACK is sent only after it
   * resolves (PROTOCOL.md §2.2). It should be quick: MQTT.js handles no other incoming
   * packet, PUBACKs included, until it settles.
   */
  onCommand?: (topic: string, payload: Buffer) => Promise<void>;
  /** Default `menwei/down/<clientId>/#` (PROTOCOL.md §2.2); used only with onCommand. */
  commandFilter?: string;
  /** Builds each connection's client; `mqtt.connect` unless a test injects one. */
  connect?: ConnectFn;
};

export type ConnectFn = (url: string, options: IClientOptions) => MqttClient;

export class Forwarder {
  private readonly outbox: Outbox;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly window: number;
  private readonly urgentReserve: number;
  private readonly stallMs: number;
  private readonly drainMs: number;
  private readonly backoff: BackoffOptions;
  private readonly acks: AckBatch;
  private readonly connectFn: ConnectFn;
  private client: MqttClient | undefined;
  private started = false;
  private pumpScheduled = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  /** Seqs published on the current connection and not yet acknowledged. */
  private readonly inFlight = new Set<number>();
  /** When inFlight last went from empty to non-empty (monotonic). */
  private busySinceMono = 0;
  private connectedOnce = false;
  private readonly counters: Omit<ForwarderMetrics, 'inFlight'> = { delivered: 0, reconnects: 0, lastAckMono: null };

  constructor(private readonly opts: ForwarderOptions) {
    this.outbox = opts.outbox;
    this.clock = opts.clock;
    this.logger = opts.logger.child({ component: 'forwarder' });
    this.window = opts.window ?? 64;
    this.urgentReserve = opts.urgentReserve ?? 8;
    this.stallMs = opts.stallMs ?? 30_000;
    this.drainMs = opts.drainMs ?? 2_000;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.acks = new AckBatch(this.outbox, this.logger, opts.ackFlushMs ?? ACK_FLUSH_MS, ACK_BATCH_MAX);
    this.connectFn = opts.connect ?? mqtt.connect;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connectNow();
  }

  /** Waits up to drainMs for in-flight PUBACKs, marks them, then ends the session. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.stableTimer);
    const client = this.client;
    for (let waited = 0; client?.connected && this.inFlight.size > 0 && waited < this.drainMs; waited += DRAIN_POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    this.acks.flush();
    this.acks.cancel();
    // A clean DISCONNECT only when nothing is outstanding (no PUBACK or SUBACK missing):
    // MQTT.js would otherwise wait for it forever. Unacknowledged events stay in the outbox.
    const clean = client?.connected === true && Object.keys(client.outgoing).length === 0;
    this.client = undefined;
    this.inFlight.clear();
    if (client) await client.endAsync(!clean);
  }

  /**
   * Called after each outbox commit; many wakes in one tick make one pump. A commit with
   * an urgent event pumps at once instead: under load, waiting for the next turn of the
   * event loop costs an alarm several milliseconds (invariant 4).
   */
  wake(urgent = false): void {
    if (urgent) {
      this.pump();
      return;
    }
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** For /healthz (INTERFACES.md): 'none' when not started. */
  state(): ForwarderState {
    if (!this.started) return 'none';
    if (!this.client?.connected) return 'down';
    if (this.inFlight.size === 0) return 'connected';
    const since = Math.max(this.busySinceMono, this.counters.lastAckMono ?? -Infinity);
    return this.clock.monotonic() - since >= this.stallMs ? 'stalled' : 'connected';
  }

  metrics(): ForwarderMetrics {
    return { ...this.counters, inFlight: this.inFlight.size };
  }

  private connectNow(): void {
    const { opts } = this;
    const options: IClientOptions = {
      clientId: opts.clientId,
      protocolVersion: 4,
      clean: false,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
      connectTimeout: CONNECT_TIMEOUT_MS,
      keepalive: KEEPALIVE_S,
      username: opts.username,
      password: opts.password,
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
    };
    const client = this.connectFn(opts.url, options);
    this.client = client;
    client.handleMessage = (packet, done) => this.handleCommand(client, packet, done);
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose(client));
    client.on('error', (err) => this.logger.warn({ err }, 'upstream connection error'));
  }

  private onConnect(client: MqttClient): void {
    if (client !== this.client) return;
    // Nagle would hold each small PUBLISH until the previous one's TCP ACK (up to 40 ms
    // of delayed ACK): an alarm must not wait for that.
    (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    if (this.connectedOnce) this.counters.reconnects++;
    this.connectedOnce = true;
    this.logger.info({ reconnects: this.counters.reconnects }, 'upstream connected');
    this.stableTimer = setTimeout(() => (this.attempt = 0), STABLE_MS);
    // Acks of the last connection first, so rewind does not resend what is delivered.
    this.acks.flush();
    this.outbox.rewind();
    if (this.opts.onCommand) this.subscribeCommands(client);
    this.pump();
  }

  private subscribeCommands(client: MqttClient): void {
    const filter = this.opts.commandFilter ?? defaultCommandFilter(this.opts.clientId);
    // Resubscribed on every connect: a platform broker may have lost the session.
    client.subscribe(filter, { qos: 1 }, (err, granted) => {
      if (err) this.logger.error({ err, filter }, 'command subscribe failed');
      else if (granted?.[0]?.qos === 128) this.logger.error({ filter }, 'command subscribe refused (SUBACK 0x80)');
    });
  }

  private onClose(client: MqttClient): void {
    // Stop MQTT.js touching this client again; the next connection is a new client.
    client.end(true);
    if (client !== this.client) return;
    this.client = undefined;
    this.inFlight.clear();
    clearTimeout(this.stableTimer);
    this.acks.flush();
    if (!this.started) return;
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.logger.info({ delayMs: delay, attempt: this.attempt }, 'upstream down; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connectNow(), delay);
  }

  /** Fills the free in-flight slots: urgent classes first, then everything by priority. */
  private pump(): void {
    const client = this.client;
    if (!this.started || !client?.connected) return;
    // One write for the whole refill instead of a syscall per event.
    client.stream.cork();
    process.nextTick(() => client.stream.uncork());
    try {
      const urgentFree = this.window + this.urgentReserve - this.inFlight.size;
      if (urgentFree > 0) for (const event of this.outbox.take(urgentFree, URGENT_PRIORITY)) this.publish(client, event);
      const free = this.window - this.inFlight.size;
      if (free > 0) for (const event of this.outbox.take(free)) this.publish(client, event);
    } catch (err) {
      // Whatever was taken and not published is taken again after the next rewind.
      this.logger.error({ err }, 'outbox take failed; dropping the connection to rewind');
      client.end(true);
    }
  }

  private publish(client: MqttClient, event: PendingEvent): void {
    if (this.inFlight.size === 0) this.busySinceMono = this.clock.monotonic();
    this.inFlight.add(event.seq);
    client.publish(event.topic, event.payload, { qos: 1 }, (err) => this.onPuback(client, event.seq, err));
  }

  /** The QoS 1 publish callback: called on PUBACK, or with an error. */
  private onPuback(client: MqttClient, seq: number, err: Error | undefined): void {
    if (client !== this.client) return;
    if (err) {
      this.logger.warn({ err, seq }, 'upstream publish failed; dropping the connection to rewind');
      client.end(true);
      return;
    }
    this.inFlight.delete(seq);
    this.counters.delivered++;
    this.counters.lastAckMono = this.clock.monotonic();
    this.acks.add(seq);
    this.wake();
  }

  /**
   * MQTT.js sends the command's PUBACK when `done()` is called without an error. On a
   * failed commit no PUBACK is sent (`done(err)` skips it, and MQTT.js goes on with the
   * next packet), and the connection is dropped: a broker resends unacknowledged QoS 1
   * messages only when the session resumes [MQTT-4.4.0-1], and the reconnect backoff
   * paces the retries. Commands are idempotent by commandId (PROTOCOL.md §2.2).
   */
  private handleCommand(client: MqttClient, packet: IPublishPacket, done: (err?: Error) => void): void {
    const onCommand = this.opts.onCommand;
    if (!onCommand) return done();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    onCommand(packet.topic, payload).then(
      () => done(),
      (err: unknown) => {
        this.logger.error({ err, topic: packet.topic }, 'command failed; not acknowledged, reconnecting for redelivery');
        done(err instanceof Error ? err : new Error(String(err)));
        client.end(true);
      },
    );
  }
}
