// The building broker (PROTOCOL.md §1): aedes with per-device auth, the ACL, a packet
// size guard, and ack-after-commit. aedes sends a QoS 1 PUBACK as soon as
// authorizePublish calls back, so the callback waits for the commit (invariant 2).
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import type { Logger } from '../logger.ts';
import { validateDeviceMessage, type BadMessage, type DeviceMessage } from '../../protocol/validate.ts';
import { canPublish, canSubscribe, type Identity } from './acl.ts';
import { guardSocket } from './packet-guard.ts';
import type { Authenticator } from './auth.ts';
import { deviceIdShaped } from '../typed-text.ts';

export type DeviceIdentityOf<I = Identity> = Extract<I, { role: 'device' }>;
export type SecurityType = 'auth_failed' | 'acl_denied' | 'session_takeover';

export type BrokerHooks = {
  /** Resolves once the message's effects are committed; rejects to close the connection. */
  onMessage(device: DeviceIdentityOf, message: DeviceMessage, raw: Buffer, isWill: boolean): Promise<void>;
  onBadMessage(device: DeviceIdentityOf, topic: string, error: BadMessage): Promise<void>;
  onSecurity(type: SecurityType, source: string, detail: Record<string, string>): void;
  onDisconnect(device: DeviceIdentityOf): void;
  onOversize(source: string): void;
  /** aedes closed the connection for a malformed or out-of-order packet. */
  onProtocolError(stage: 'connect' | 'session', source: string, reason: string): void;
};

export type Listen = { host: string; port: number; tls?: { host?: string; port: number; cert: string | Buffer; key: string | Buffer; ca?: string | Buffer } };

const IDENTITY = Symbol('menwei.identity');

/** The broker's own refusal of a publish: already reported (acl_denied), not a malformed packet. */
class PublishRefused extends Error {}
type TaggedClient = Client & { [IDENTITY]?: Identity; conn: { remoteAddress?: string; encrypted?: boolean } };

export class BuildingBroker {
  readonly aedes: Aedes;
  private readonly servers: Server[] = [];
  /** Payload buffers that failed validation: aedes must not route them (authorizeForward). */
  private readonly invalid = new WeakSet<Buffer>();

  constructor(private readonly auth: Authenticator, private readonly hooks: BrokerHooks, private readonly logger: Logger) {
    this.aedes = new Aedes({
      maxClientsIdLength: 64,
      authenticate: (client, username, password, done) => this.authenticate(client as TaggedClient, username, password, done),
      authorizePublish: (client, packet, done) => this.authorizePublish(client as TaggedClient | null, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, canSubscribe(identityOf(client as TaggedClient)!, sub.topic) ? sub : null),
      authorizeForward: (_client, packet) => (this.invalid.has(packet.payload as Buffer) ? null : packet),
    });
    // Bad packets (mqtt-packet's parser, [MQTT-3.1.0-1] and [MQTT-3.1.0-2] order, wildcards
    // in PUBLISH) are bad input like any other: counted, not only closed.
    this.aedes.on('connectionError', (client, err) => this.protocolError('connect', client as TaggedClient, err));
    this.aedes.on('clientError', (client, err) => this.protocolError('session', client as TaggedClient, err));
    this.aedes.on('clientDisconnect', (client) => {
      const who = identityOf(client as TaggedClient);
      if (who?.role === 'device') hooksSafe(() => this.hooks.onDisconnect(who), this.logger);
    });
  }

  async listen(opts: Listen): Promise<{ port: number; tlsPort?: number }> {
    await this.aedes.listen();
    const port = await this.serve(createServer((s) => this.accept(s, false)), opts.host, opts.port);
    if (!opts.tls) return { port };
    const tlsServer = createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca }, (s) => this.accept(s, true));
    return { port, tlsPort: await this.serve(tlsServer, opts.tls.host ?? opts.host, opts.tls.port) };
  }

  /** Publishes from the gateway to a device topic (codes, card); not subject to the ACL. */
  publish(topic: string, payload: object, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const packet = { cmd: 'publish' as const, topic, payload: Buffer.from(JSON.stringify(payload)), qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false };
    return new Promise((resolve, reject) => this.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  /** Closes the connection of a device (`device remove`). */
  disconnect(id: string): void {
    this.clients()[id]?.close();
  }

  connectedIds(): string[] {
    return Object.keys(this.clients());
  }

  /** aedes keeps connected clients by id; its typings do not show the map. */
  private clients(): Record<string, Client> {
    return (this.aedes as unknown as { clients: Record<string, Client> }).clients;
  }

  async close(): Promise<void> {
    for (const server of this.servers) server.close();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
  }

  private serve(server: Server, host: string, port: number): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as { port: number }).port));
    });
  }

  private accept(socket: Socket, secure: boolean): void {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    const source = socket.remoteAddress ?? 'unknown';
    const conn = guardSocket(socket, () => this.hooks.onOversize(source));
    (conn as { encrypted?: boolean }).encrypted = secure;
    this.aedes.handle(conn);
  }

  private protocolError(stage: 'connect' | 'session', client: TaggedClient, err: Error & { code?: unknown; errorCode?: number }): void {
    // Socket errors and keep-alive timeouts are a device going away; refused CONNECTs
    // (CONNACK 2–5) and refused publishes are already counted as security events.
    if (typeof err.code === 'string' || err.message === 'keep alive timeout' || err instanceof PublishRefused) return;
    if (err.errorCode !== undefined && err.errorCode >= 2 && err.errorCode <= 5) return;
    hooksSafe(() => this.hooks.onProtocolError(stage, client.conn?.remoteAddress ?? 'unknown', err.message.slice(0, 200)), this.logger);
  }

  private authenticate(client: TaggedClient, username: string | undefined, password: Buffer | undefined, done: (err: (Error & { returnCode: number }) | null, ok: boolean | null) => void): void {
    const source = client.conn.remoteAddress ?? 'unknown';
    const result = this.auth.authenticate({ clientId: client.id, username, password, source, secure: client.conn.encrypted === true });
    if (!result.ok) {
      // A username that is no device id may be a secret typed into the wrong field.
      this.hooks.onSecurity('auth_failed', source, { reason: result.reason, ...(username ? { deviceId: deviceIdShaped(username) } : {}) });
      return done(Object.assign(new Error(result.reason), { returnCode: result.returnCode }), false);
    }
    client[IDENTITY] = result.identity;
    // PROTOCOL.md §1: a new connection with the id of a connected device replaces it.
    if (this.clients()[client.id]) this.hooks.onSecurity('session_takeover', source, { deviceId: client.id });
    done(null, true);
  }

  private authorizePublish(client: TaggedClient | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    // [MQTT-2.3.1-1]: a QoS 1 or 2 PUBLISH carries a non-zero packet id. mqtt-packet lets
    // 0 through, and its PUBACK would be ambiguous, so the session is closed (and counted).
    if (packet.qos > 0 && packet.messageId === 0) return done(new Error('PUBLISH with QoS > 0 and packet id 0'));
    const who = client ? identityOf(client) : undefined;
    if (!who || !canPublish(who, packet.topic)) {
      // MQTT 3.1.1 has no negative PUBACK: a forbidden publish closes the connection.
      const source = client?.conn.remoteAddress ?? 'unknown';
      this.hooks.onSecurity('acl_denied', source, { deviceId: who?.id ?? 'unknown', topic: packet.topic.slice(0, 200) });
      return done(new PublishRefused('publish not allowed'));
    }
    if (who.role !== 'device') return done(new PublishRefused('publish not allowed'));
    // PROTOCOL.md §1: the retain flag is honoured only on status.
    if (packet.retain && !packet.topic.endsWith('/status')) packet.retain = false;
    // aedes hands the will to authorizePublish after it has begun closing the client.
    const isWill = client !== null && client.closed === true;
    // The will of a session that a newer connection replaced would mark a live device offline.
    const current = client ? this.clients()[client.id] : undefined;
    if (isWill && current !== undefined && current !== client) return done(new PublishRefused('will of a replaced session'));
    const raw = packet.payload as Buffer;
    const checked = validateDeviceMessage(packet.topic, raw);
    let committed: Promise<void>;
    if (checked.ok) committed = this.hooks.onMessage(who, checked.value, raw, isWill);
    else {
      this.invalid.add(raw);
      committed = this.hooks.onBadMessage(who, packet.topic, checked.error);
    }
    // PROTOCOL.md §1 QoS: only QoS 1 and 2 wait for the commit.
    if (packet.qos === 0) {
      done(null);
      committed.catch((err) => this.logger.error({ err }, 'QoS 0 message not committed'));
    } else committed.then(() => done(null), (err) => done(err instanceof Error ? err : new Error(String(err))));
  }
}

function identityOf(client: TaggedClient): Identity | undefined {
  return client[IDENTITY];
}

function hooksSafe(fn: () => void, logger: Logger): void {
  try {
    fn();
  } catch (err) {
    logger.error({ err }, 'broker hook failed');
  }
}
