// Raw hostile MQTT at the device listener (issue 9), against the real gateway as a child
// process with a real Mosquitto upstream: packets out of order, refused CONNECTs, headers
// announcing more than PROTOCOL.md §1 allows, QoS 3, wildcards and other devices' topics,
// forbidden subscriptions, truncated and random bytes. Each session must end as the spec
// says, a well-behaved detector alongside keeps getting its PUBACKs and its events
// upstream, every refusal is counted, flood control holds, and RSS stays bounded.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { connectDevice } from '../helpers/gateway.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { behaved, hostileCases, runCase, type Cast, type HostileCase } from '../helpers/hostile-mqtt.ts';
import { metric, rssBytes } from '../helpers/process-probe.ts';

const RUNS = bySize(300, 10_000);
const MB = 1024 * 1024;

let upstream: Mosquitto;
let platform: Subscriber;
let gw: GatewayProcess;
let cast: Cast;
let detector: MqttClient;
let port: number;

type Provisioned = { id: string; secret: string };

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-fuzz-mqtt' });
  gw = await gatewayProcess({ upstream: { url: upstream.url } });
  await gw.start();
  const add = async (kind: string, id: string) => ((await gw.cli(['device', 'add', '--kind', kind, '--id', id])) as Provisioned[])[0]!;
  const [intruder, victim, smoke] = await Promise.all([add('lock', 'lock-intruder'), add('lock', 'lock-victim'), add('smoke', 'smoke-good')]);
  cast = { intruder, victim: { id: victim.id, kind: 'lock' } };
  detector = await connectDevice(gw.brokerUrl, smoke.id, smoke.secret);
  port = Number(new URL(gw.brokerUrl).port);
}, 60_000);

afterAll(async () => {
  await detector?.endAsync();
  await gw?.destroy();
  await platform?.close();
  await upstream?.destroy();
});

/** How long a case may take to end: closing is prompt; junk may leave the session open. */
const waitFor = (c: HostileCase) => (c.expect === 'survives' ? 150 : 5_000);

describe('hostile MQTT sessions at the device listener', () => {
  it('end as the spec says, while a detector alongside is acked and forwarded, with RSS bounded', async () => {
    let deviceSeq = 0;
    const test = () => detector.publishAsync('menwei/smoke/smoke-good/event', JSON.stringify({ v: 1, seq: ++deviceSeq, ts: new Date().toISOString(), type: 'test' }), { qos: 1 });
    // Warm up first, so the baseline includes the heap a running gateway settles at.
    for (let i = 0; i < 20; i++) await test();
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
      await test();
      return true;
    }), { numRuns: RUNS });

    expect(misbehaved).toEqual([]);
    expect(intruderGot).toEqual([]);
    expect(detector.connected).toBe(true);
    const rssAfter = rssBytes(gw.pid()!);
    expect(rssAfter - rssBefore).toBeLessThan(50 * MB);

    // Every acknowledged event of the detector reached the platform.
    await platform.waitFor((ms) => deliveredDeviceEvents(analyse(ms)).size >= deviceSeq, 30_000);
    const delivered = deliveredDeviceEvents(analyse(platform.messages));
    expect(Array.from({ length: deviceSeq }, (_, i) => `smoke-good:${i + 1}`).filter((k) => !delivered.has(k))).toEqual([]);

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
