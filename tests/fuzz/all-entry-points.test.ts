// Hostile input against the real gateway as a child process, with a real Mosquitto
// upstream (issue 9), while a well-behaved detector publishes alongside and must lose
// nothing. First raw MQTT sessions at the device listener, each of which must end as
// PROTOCOL.md §1 and MQTT 3.1.1 say; then every entry point at once: raw MQTT, device
// payloads, HTTP requests, platform commands, and hostile peers on a card reader line and
// a Modbus bus (socat ptys). The process never dies, every kind of bad input moves its
// counter in /metrics, refusals are aggregated (§2.3), and VmRSS grows by less than 50 MB.
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { connectDevice } from '../helpers/gateway.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { metric, rssBytes } from '../helpers/process-probe.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { behaved, eventPayload, hostileCases, publish, runCase, type Cast, type HostileCase } from '../helpers/hostile-mqtt.ts';
import { hostilePayloads } from '../helpers/hostile-payloads.ts';
import { hostileRequests, send } from '../helpers/hostile-http.ts';
import { hostileCommands } from '../helpers/hostile-commands.ts';
import { HostileReader, hostileScripts } from '../helpers/hostile-sam.ts';
import { HostileSlave, hostileReplies } from '../helpers/hostile-modbus.ts';

const MB = 1024 * 1024;
const SIZE = bySize({ mqtt: 200, payloads: 300, http: 300, commands: 200, sam: 4, modbus: 15 }, { mqtt: 5_000, payloads: 20_000, http: 20_000, commands: 10_000, sam: 100, modbus: 600 });
const WARM_UP = { mqtt: 20, payloads: 30, http: 30, commands: 20, sam: 1, modbus: 3 };
const MQTT_RUNS = bySize(300, 10_000);

type Provisioned = { id: string; secret: string };

let upstream: Mosquitto;
let platform: Subscriber;
let commander: MqttClient;
let readerLine: PtyPair;
let modbusLine: PtyPair;
let reader: HostileReader;
let slave: HostileSlave;
let gw: GatewayProcess;
let cast: Cast;
let detector: MqttClient;
let lock: MqttClient;
let token: string;

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-fuzz-all' });
  commander = await mqtt.connectAsync(upstream.url, { clientId: 'platform-commander-all', protocolVersion: 4 });
  [readerLine, modbusLine] = await Promise.all([openPtyPair(), openPtyPair()]);
  reader = new HostileReader(new SerialTransport({ path: readerLine.b }));
  slave = new HostileSlave(new SerialTransport({ path: modbusLine.b, baudRate: 9600 }), 1);
  await Promise.all([reader.start(), slave.start()]);
  gw = await gatewayProcess({
    upstream: { url: upstream.url },
    readers: [{ id: 'reader-desk1', transport: 'serial', path: readerLine.a, desk: 'desk-1' }],
    modbus: [{ path: modbusLine.a, pollMs: 300, timeoutMs: 100, detectors: [{ address: 1, deviceId: 'smoke-m1', unit: 'U-1' }] }],
  });
  await gw.start();
  const add = async (kind: string, id: string) => ((await gw.cli(['device', 'add', '--kind', kind, '--id', id])) as Provisioned[])[0]!;
  const staff = gw.cli(['staff', 'add', '--id', 'clerk-fuzz', '--name', '王']) as Promise<Array<{ token: string }>>;
  const [intruder, victim, good, ownLock] = await Promise.all([add('lock', 'lock-intruder'), add('lock', 'lock-victim'), add('smoke', 'smoke-good'), add('lock', 'lock-fuzz')]);
  token = (await staff)[0]!.token;
  cast = { intruder, victim: { id: victim.id, kind: 'lock' } };
  detector = await connectDevice(gw.brokerUrl, good.id, good.secret);
  lock = await connectDevice(gw.brokerUrl, ownLock.id, ownLock.secret);
}, 90_000);

afterAll(async () => {
  for (const client of [detector, lock, commander]) await client?.endAsync();
  await gw?.destroy();
  await reader?.stop().catch(() => undefined);
  await slave?.stop().catch(() => undefined);
  await readerLine?.close();
  await modbusLine?.close();
  await platform?.close();
  await upstream?.destroy();
});

/** The well-behaved detector's events; one counter across the tests, so every seq is checked. */
let deviceSeq = 0;
const publishGood = () => detector.publishAsync('menwei/smoke/smoke-good/event', JSON.stringify({ v: 1, seq: ++deviceSeq, ts: new Date().toISOString(), type: 'test' }), { qos: 1 });

/** Every event the detector had acknowledged reached the platform. */
async function detectorLostNothing(): Promise<void> {
  await platform.waitFor((ms) => deliveredDeviceEvents(analyse(ms)).size >= deviceSeq, 60_000);
  const delivered = deliveredDeviceEvents(analyse(platform.messages));
  expect(Array.from({ length: deviceSeq }, (_, i) => `smoke-good:${i + 1}`).filter((k) => !delivered.has(k))).toEqual([]);
}

/** How long a session may take to end: closing is prompt; junk may leave it open. */
const waitFor = (c: HostileCase) => (c.expect === 'survives' ? 150 : 5_000);

/** One round of every kind of hostile input, each kind in its own sequence, all at once. */
async function round(size: typeof WARM_UP): Promise<void> {
  const port = Number(new URL(gw.brokerUrl).port);
  let commandId = 0;
  const each = async <T>(arb: fc.Arbitrary<T>, n: number, fn: (value: T) => Promise<unknown>) => {
    for (const value of fc.sample(arb, n)) await fn(value);
  };
  await Promise.all([
    each(hostileCases(cast), size.mqtt, (c) => runCase(port, c, cast, waitFor(c))),
    each(hostilePayloads({ lock: 'lock-fuzz' }), size.payloads, (p) => lock.publishAsync(p.topic, p.payload, { qos: 1 })),
    each(hostileRequests, size.http, (r) => send(gw.httpUrl, token, r)),
    each(hostileCommands('gw-test', () => `all-${Date.now()}-${++commandId}`), size.commands, async (group) => {
      for (const c of group) await commander.publishAsync(c.topic, c.payload, { qos: 1 });
    }),
    each(hostileScripts, size.sam, (s) => reader.serve(s.steps)),
    each(hostileReplies(1, 100), size.modbus, (r) => slave.serve(r)),
  ]);
}

const total = (samples: Record<string, number>, match: (labels: string) => boolean) =>
  Object.entries(samples).filter(([labels]) => match(labels)).reduce((n, [, v]) => n + v, 0);

async function counters(): Promise<Record<string, number>> {
  const [mqttErrors, http, commands, input, device, security] = await Promise.all(
    ['menwei_mqtt_errors_total', 'menwei_http_errors_total', 'menwei_commands_total', 'menwei_input_errors_total', 'menwei_device_messages_total', 'menwei_security_events_total'].map((name) => metric(gw.httpUrl, name)),
  );
  return {
    mqttProtocol: total(mqttErrors!, () => true),
    security: total(security!, () => true),
    http: total(http!, () => true),
    badCommand: total(commands!, (l) => l.includes('bad_command')),
    commandErrors: total(commands!, (l) => l.includes('"error"')),
    reader: total(input!, (l) => l.includes('source="reader"')),
    modbus: total(input!, (l) => l.includes('source="modbus"')),
    badMessage: total(device!, (l) => l.includes('bad_message')),
  };
}

describe('hostile MQTT sessions at the device listener', () => {
  it('end as the spec says, while a detector alongside is acked and forwarded, with RSS bounded', async () => {
    const port = Number(new URL(gw.brokerUrl).port);
    // Warm up first, so the baseline includes the heap a running gateway settles at.
    for (let i = 0; i < 20; i++) await publishGood();
    const rssBefore = rssBytes(gw.pid()!);
    const before = await metric(gw.httpUrl, 'menwei_security_events_total');
    const protocolBefore = await metric(gw.httpUrl, 'menwei_mqtt_errors_total');
    const misbehaved: string[] = [];
    const intruderGot: string[] = [];

    await fc.assert(fc.asyncProperty(hostileCases(cast), async (c) => {
      const result = await runCase(port, c, cast, waitFor(c));
      if (!behaved(c, result)) misbehaved.push(c.name);
      for (const p of result.packets) if (p.cmd === 'publish') intruderGot.push(p.topic);
      // The detector's publish is acknowledged (after commit, invariant 2) whatever just happened.
      await publishGood();
      return true;
    }), { numRuns: MQTT_RUNS });

    expect(misbehaved).toEqual([]);
    expect(intruderGot).toEqual([]);
    expect(detector.connected).toBe(true);
    const rssAfter = rssBytes(gw.pid()!);
    expect(rssAfter - rssBefore).toBeLessThan(50 * MB);

    await detectorLostNothing();

    // Counted: malformed packets, auth failures, ACL denials and oversized headers.
    const protocol = await metric(gw.httpUrl, 'menwei_mqtt_errors_total');
    expect(protocol['stage="connect"'] ?? 0).toBeGreaterThan(protocolBefore['stage="connect"'] ?? 0);
    expect(protocol['stage="session"'] ?? 0).toBeGreaterThan(protocolBefore['stage="session"'] ?? 0);
    const after = await metric(gw.httpUrl, 'menwei_security_events_total');
    expect(after['type="auth_failed"'] ?? 0).toBeGreaterThan(before['type="auth_failed"'] ?? 0);
    expect(after['type="acl_denied"'] ?? 0).toBeGreaterThan(before['type="acl_denied"'] ?? 0);
    const oversize = await metric(gw.httpUrl, 'menwei_input_errors_total');
    expect(oversize['source="mqtt",code="MW_MSG_TOO_LARGE"']).toBeGreaterThan(0);

    // PROTOCOL.md §2.3: per (source, type), the first goes out at once and then one summary
    // per minute, so hundreds of refusals reach the platform as a handful of events.
    const minutes = Math.ceil(process.uptime() / 60) + 1;
    const security = analyse(platform.messages).unique.filter((e) => e.class === 'security') as Array<{ type?: string; data: { source?: string } }>;
    for (const [type, source] of [['auth_failed', '127.0.0.2'], ['acl_denied', '127.0.0.3']] as const) {
      const sent = security.filter((e) => e.type === type && e.data.source === source).length;
      expect(sent, `${type} from ${source}`).toBeLessThanOrEqual(minutes + 1);
    }
    const health = await (await fetch(`${gw.httpUrl}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, broker: 'up', upstream: 'connected' });
  }, sizedTimeout(240_000));
});

describe('a QoS 1 PUBLISH with packet id 0', () => {
  it('closes the session ([MQTT-2.3.1-1]) without a PUBACK, and is counted', async () => {
    const port = Number(new URL(gw.brokerUrl).port);
    const before = await metric(gw.httpUrl, 'menwei_mqtt_errors_total');
    const zero: HostileCase = { name: 'packet id 0', bytes: publish(`menwei/lock/${cast.intruder.id}/event`, eventPayload, 1, 0), authenticated: true, expect: 'closed' };
    const result = await runCase(port, zero, cast, 5_000);
    expect(result.closed).toBe(true);
    expect(result.packets.map((p) => p.cmd)).not.toContain('puback');
    const after = await metric(gw.httpUrl, 'menwei_mqtt_errors_total');
    expect(after['stage="session"']).toBe((before['stage="session"'] ?? 0) + 1);
  }, 30_000);
});

describe('hostile input at every entry point of a gateway process', () => {
  it('never kills it, is counted at each entry point, loses nothing of a good detector, and RSS grows < 50 MB', async () => {
    let publishing = true;
    const good = (async () => {
      while (publishing) {
        await publishGood();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await round(WARM_UP);
    const pid = gw.pid()!;
    const rssBefore = rssBytes(pid);
    const before = await counters();
    await round(SIZE);
    publishing = false;
    await good;
    const rssAfter = rssBytes(pid);
    const after = await counters();

    expect(gw.pid()).toBe(pid);
    expect((rssAfter - rssBefore) / MB).toBeLessThan(50);
    for (const [name, value] of Object.entries(after)) expect(value, name).toBeGreaterThan(before[name]!);
    expect(detector.connected).toBe(true);
    await detectorLostNothing();
    const health = await (await fetch(`${gw.httpUrl}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, broker: 'up', upstream: 'connected' });
  }, sizedTimeout(240_000));
});
