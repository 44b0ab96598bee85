// Hostile MQTT sessions at the building broker's socket (issue 9): raw TCP, packets made by
// mqtt-packet and then bent by hand where mqtt-packet refuses (QoS 3, bad UTF-8, a
// protocol level it does not know), plus truncated and random bytes. Each case says what
// PROTOCOL.md §1 and MQTT 3.1.1 make the broker do, so a run checks behaviour, not just
// survival.
import { connect } from 'node:net';
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** What the broker must do with the case. */
export type Expect =
  | 'closed' // the connection is closed (spec violation, refusal or ACL)
  | 'suback-refused' // SUBACK 0x80, and the connection stays up (PROTOCOL.md §1 ACL)
  | 'survives'; // junk with no one right answer: anything but a crash

export type HostileCase = { name: string; bytes: Buffer; authenticated: boolean; expect: Expect };

/** The intruder: a device with valid credentials of its own, trying to reach another's. */
export type Cast = { intruder: { id: string; secret: string }; victim: { id: string; kind: 'lock' } };

const gen = (packet: Partial<Packet>): Buffer => mqttPacket.generate(packet as Packet);

export function connectPacket(id: string, secret: string, extra: Record<string, unknown> = {}): Buffer {
  return gen({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, username: id, password: Buffer.from(secret), clean: true, keepalive: 0, ...extra } as Partial<Packet>);
}

export const publish = (topic: string, payload: Buffer, qos: 0 | 1, messageId = 1) => gen({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(qos ? { messageId } : {}) } as Partial<Packet>);

/** A PUBLISH whose QoS bits say 3 ([MQTT-3.3.1-4]: the server closes). */
function qos3(topic: string): Buffer {
  const bytes = publish(topic, Buffer.from('{}'), 1);
  bytes[0] = bytes[0]! | 0x06;
  return bytes;
}

/** A PUBLISH whose topic holds an invalid UTF-8 sequence of the same byte length. */
function badUtf8Topic(topic: string, at: number): Buffer {
  const bytes = publish(topic, Buffer.from('{}'), 1);
  // Fixed header (1 + 1 length byte for these small packets) and the 2-byte topic length.
  bytes[4 + (at % topic.length)] = 0xff;
  return bytes;
}

/** A fixed header that announces `length` bytes (varint), and a few bytes of body. */
function announcing(type: number, length: number): Buffer {
  const varint: number[] = [];
  let rest = length;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    varint.push(byte);
  } while (rest > 0 && varint.length < 4);
  return Buffer.from([type, ...varint, 0, 4, 0x4d, 0x51]);
}

export const eventPayload = Buffer.from(JSON.stringify({ v: 1, seq: 1, ts: '2026-11-30T10:00:00.000Z', type: 'unlock', data: { method: 'code' } }));

/** Everything a device may not subscribe to (PROTOCOL.md §1: no wildcards, only its own inbound channels). */
function forbiddenFilters(cast: Cast): string[] {
  return ['#', '$SYS/#', '$SYS/broker/clients/connected', 'menwei/#', 'menwei/up/#', '+/+/+/+', 'menwei/lock/+/codes',
    `menwei/lock/${cast.victim.id}/codes`, `menwei/lock/${cast.intruder.id}/#`, `menwei/lock/${cast.intruder.id}/event`];
}

/** Topics a device may not publish to: another device's, wildcards, other kinds, the upstream's. */
function forbiddenTopics(cast: Cast): string[] {
  return [`menwei/lock/${cast.victim.id}/event`, `menwei/lock/${cast.victim.id}/pull`, `menwei/smoke/${cast.intruder.id}/event`,
    `menwei/lock/${cast.intruder.id}/codes`, 'menwei/up/gw-test/alarm/smoke', 'menwei/down/gw-test/unit.suspend', '$SYS/x', 'a'];
}

/** Cases that break the order or shape of a session before it has authenticated. */
function unauthenticated(cast: Cast): fc.Arbitrary<HostileCase> {
  const { intruder, victim } = cast;
  const topic = fc.constantFrom(...forbiddenTopics(cast), `menwei/lock/${intruder.id}/event`);
  return fc.oneof(
    topic.map((t) => ({ name: `PUBLISH before CONNECT to ${t}`, bytes: publish(t, eventPayload, 1), authenticated: false, expect: 'closed' as const })),
    fc.constantFrom(...forbiddenFilters(cast)).map((f) => ({ name: `SUBSCRIBE ${f} before CONNECT`, bytes: gen({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: f, qos: 1 }] } as Partial<Packet>), authenticated: false, expect: 'closed' as const })),
    fc.string({ minLength: 1, maxLength: 8 }).filter((p) => p !== 'MQTT' && p !== 'MQIsdp').map((p) => ({ name: `CONNECT with protocol name ${JSON.stringify(p)}`, bytes: connectPacket(intruder.id, intruder.secret, { protocolId: p }), authenticated: false, expect: 'closed' as const })),
    fc.integer({ min: 0, max: 255 }).filter((l) => l !== 3 && l !== 4).map((level) => {
      const bytes = connectPacket(intruder.id, intruder.secret);
      bytes[8] = level; // fixed header (2) + name length (2) + "MQTT" (4): the level byte
      return { name: `CONNECT with protocol level ${level}`, bytes, authenticated: false, expect: 'closed' as const };
    }),
    fc.constant({ name: 'CONNECT whose clientId is not its username', bytes: connectPacket(intruder.id, intruder.secret, { clientId: victim.id }), authenticated: false, expect: 'closed' as const }),
    fc.string({ maxLength: 60 }).map((s) => ({ name: 'CONNECT as the victim with a guessed secret', bytes: connectPacket(victim.id, s), authenticated: false, expect: 'closed' as const })),
    fc.string({ minLength: 65, maxLength: 300 }).map((id) => ({ name: 'CONNECT with an over-long clientId', bytes: connectPacket(id, 'x'), authenticated: false, expect: 'closed' as const })),
    fc.integer({ min: 64 * 1024 + 1025, max: 268_435_455 }).map((n) => ({ name: `CONNECT announcing ${n} bytes`, bytes: announcing(0x10, n), authenticated: false, expect: 'closed' as const })),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => ({ name: 'random bytes', bytes: Buffer.from(b), authenticated: false, expect: 'survives' as const })),
    fc.nat().map((cut) => {
      const whole = connectPacket(intruder.id, intruder.secret);
      return { name: 'a CONNECT cut short', bytes: whole.subarray(0, 1 + (cut % (whole.length - 1))), authenticated: false, expect: 'survives' as const };
    }),
  );
}

/** Cases sent after a valid CONNECT of the intruder's own device. */
function authenticated(cast: Cast): fc.Arbitrary<HostileCase> {
  const { intruder } = cast;
  const own = `menwei/lock/${intruder.id}/event`;
  return fc.oneof(
    fc.constantFrom(...forbiddenFilters(cast)).map((f) => ({ name: `SUBSCRIBE ${f}`, bytes: gen({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: f, qos: 1 }] } as Partial<Packet>), authenticated: true, expect: 'suback-refused' as const })),
    fc.record({ t: fc.constantFrom(...forbiddenTopics(cast)), qos: fc.constantFrom(0 as const, 1 as const) })
      .map(({ t, qos }) => ({ name: `PUBLISH QoS ${qos} to ${t}`, bytes: publish(t, eventPayload, qos), authenticated: true, expect: 'closed' as const })),
    fc.constantFrom(`menwei/lock/${intruder.id}/+`, `menwei/lock/${intruder.id}/#`, 'menwei/lock/+/event', '#')
      .map((t) => ({ name: `PUBLISH to the wildcard ${t}`, bytes: publish(t, eventPayload, 1), authenticated: true, expect: 'closed' as const })),
    fc.constant({ name: 'PUBLISH with QoS 3', bytes: qos3(own), authenticated: true, expect: 'closed' as const }),
    fc.constant({ name: 'PUBLISH with an empty topic', bytes: publish('', eventPayload, 1), authenticated: true, expect: 'closed' as const }),
    fc.nat().map((at) => ({ name: 'PUBLISH with a topic that is not UTF-8', bytes: badUtf8Topic(own, at), authenticated: true, expect: 'closed' as const })),
    fc.constant({ name: 'a second CONNECT', bytes: connectPacket(intruder.id, intruder.secret), authenticated: true, expect: 'closed' as const }),
    fc.integer({ min: 64 * 1024 + 1025, max: 268_435_455 }).map((n) => ({ name: `PUBLISH announcing ${n} bytes`, bytes: announcing(0x32, n), authenticated: true, expect: 'closed' as const })),
    fc.constant({ name: 'PUBLISH QoS 1 with packet id 0', bytes: publish(own, eventPayload, 1, 0), authenticated: true, expect: 'closed' as const }),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => ({ name: 'random bytes after CONNECT', bytes: Buffer.from(b), authenticated: true, expect: 'survives' as const })),
  );
}

export function hostileCases(cast: Cast): fc.Arbitrary<HostileCase> {
  return fc.oneof(unauthenticated(cast), authenticated(cast));
}

export type SessionResult = { closed: boolean; packets: Packet[] };

/**
 * Opens a raw TCP session from `localAddress` (another loopback address than the
 * well-behaved devices, so the auth throttle of PROTOCOL.md §1 refuses only the
 * intruder), writes `chunks` (waiting for the CONNACK after a leading CONNECT), then
 * probes with a PINGREQ and waits up to `waitMs` for the broker to close, or until the
 * packets received settle the outcome.
 */
export function rawSession(port: number, chunks: Buffer[], opts: { localAddress: string; waitMs: number; until?: (packets: Packet[]) => boolean }): Promise<SessionResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: Packet[] = [];
    let pending = [...chunks];
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    parser.on('packet', (p: Packet) => {
      packets.push(p);
      if (p.cmd === 'connack' && pending.length > 0) sendRest();
      else if (pending.length === 0 && opts.until?.(packets)) finish();
    });
    parser.on('error', () => undefined);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, packets });
    };
    const sendRest = () => {
      const rest = pending;
      pending = [];
      for (const chunk of rest) socket.write(chunk);
      socket.write(gen({ cmd: 'pingreq' }));
      timer = setTimeout(finish, opts.waitMs);
    };
    socket.on('data', (d) => parser.parse(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => {
      socket.write(pending.shift()!);
      if (pending.length === 0) sendRest();
      // A CONNACK that never comes (refusal by silence) still ends the session.
      else timer = setTimeout(finish, opts.waitMs);
    });
  });
}

export function runCase(port: number, c: HostileCase, cast: Cast, waitMs: number): Promise<SessionResult> {
  const chunks = c.authenticated ? [connectPacket(cast.intruder.id, cast.intruder.secret), c.bytes] : [c.bytes];
  // Authenticated cases come from an address that never fails auth, so the throttle
  // that the unauthenticated cases trip does not refuse them.
  const settled = c.expect === 'suback-refused' ? (ps: Packet[]) => ps.some((p) => p.cmd === 'suback') && ps.some((p) => p.cmd === 'pingresp') : undefined;
  return rawSession(port, chunks, { localAddress: c.authenticated ? '127.0.0.3' : '127.0.0.2', waitMs, ...(settled ? { until: settled } : {}) });
}

/** Whether the session went as the case expects. */
export function behaved(c: HostileCase, r: SessionResult): boolean {
  if (c.expect === 'closed') return r.closed;
  if (c.expect === 'suback-refused') {
    const suback = r.packets.find((p) => p.cmd === 'suback') as { granted?: number[] } | undefined;
    return !r.closed && suback?.granted?.[0] === 0x80 && r.packets.some((p) => p.cmd === 'pingresp');
  }
  return true;
}
