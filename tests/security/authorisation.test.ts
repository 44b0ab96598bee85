// Authorisation on the building broker (PROTOCOL.md §1 ACL, issue 9): a device with valid
// credentials for lock A reads nothing of lock B, speaks as no one else, and subscribes to
// no wildcard; a smoke detector speaks no lock channel. A forbidden publish closes the
// connection and is reported as security/acl_denied, and has no effect; a forbidden
// subscription gets SUBACK 0x80 and the connection stays up. Real aedes, mqtt.js, SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connectDevice, startTestGateway, T, type TestGateway } from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';
import { LocksFeature } from '../../gateway/locks/locks-feature.ts';

const DAY = 86_400_000;
const QUIET_MS = 300;

let gw: TestGateway;
const locks = new LocksFeature();
let lockA: { secret: string };
let smoke: { secret: string };
/** Lock B itself, subscribed to its own codes: what the gateway sends it. */
let lockB: MqttClient;
const toB: string[] = [];
const clients: MqttClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({}, { features: [locks] });
  gw.gateway.units.add({ code: 'U-A', address: 'test', licensed: true }, Date.now());
  gw.gateway.units.add({ code: 'U-B', address: 'test', licensed: true }, Date.now());
  lockA = gw.provision('lock', 'lock-a', 'U-A');
  const b = gw.provision('lock', 'lock-b', 'U-B');
  smoke = gw.provision('smoke', 'smoke-a', 'U-A');
  lockB = await gw.connectDevice('lock-b', b.secret);
  lockB.on('message', (_topic, payload) => toB.push(payload.toString()));
  await lockB.subscribeAsync('menwei/lock/lock-b/codes', { qos: 1 });
});

afterAll(async () => {
  for (const client of [...clients, lockB]) client?.end(true);
  await gw?.stop();
});

async function device(id: string, secret: string): Promise<{ client: MqttClient; received: string[] }> {
  const client = await connectDevice(gw.brokerUrl, id, secret);
  clients.push(client);
  const received: string[] = [];
  client.on('message', (topic) => received.push(topic));
  return { client, received };
}

/** SUBACK return codes, one per filter, each asked alone. */
async function granted(client: MqttClient, filters: string[]): Promise<number[]> {
  const codes: number[] = [];
  for (const filter of filters) {
    const result = await client.subscribeAsync(filter, { qos: 1 })
      .then((grants) => grants[0]!.qos as number)
      .catch((err: { packet?: { granted?: number[] } }) => err.packet?.granted?.[0] ?? -1);
    codes.push(result);
  }
  return codes;
}

/** Publishes, and resolves once the broker has closed the connection. */
async function forbidden(client: MqttClient, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish(topic, JSON.stringify(payload), { qos });
  await closed;
}

function outboxEvents(classType: string): Array<{ deviceId?: string; data: Record<string, unknown> }> {
  return gw.gateway.db.prepare<[], { payload: Buffer }>('SELECT payload FROM outbox ORDER BY seq').all()
    .map((r) => JSON.parse(r.payload.toString()))
    .filter((e) => `${e.class}/${e.type}` === classType);
}

/** menwei_security_events_total{type="acl_denied"}: every denial, before flood control. */
async function aclCount(): Promise<number> {
  return (await gw.gateway.metrics.security.get()).values.find((v) => v.labels.type === 'acl_denied')?.value ?? 0;
}

const aclDenied = (deviceId: string) => outboxEvents('security/acl_denied').filter((e) => e.data.deviceId === deviceId);
const quiet = () => new Promise((resolve) => setTimeout(resolve, QUIET_MS));

describe('lock A cannot read lock B\'s codes', () => {
  it('a subscription to B\'s codes gets 0x80, and a code issued for B reaches B but not A', async () => {
    const a = await device('lock-a', lockA.secret);
    expect(await granted(a.client, ['menwei/lock/lock-b/codes'])).toEqual([0x80]);
    expect(a.client.connected).toBe(true);
    const before = toB.length;
    await gw.gateway.transact((tx) => locks.issueCodes(tx, {
      unit: 'U-B', lockIds: ['lock-b'], kind: 'stay', validFrom: Date.now(), validTo: Date.now() + DAY, uses: null, stayId: 's_B',
    }));
    await until(() => toB.length > before, 5_000);
    await quiet();
    expect(a.received).toEqual([]);
    a.client.end(true);
  });

  it('a pull published as B closes A\'s connection, is reported, and sends B nothing', async () => {
    const a = await device('lock-a', lockA.secret);
    const before = toB.length;
    await forbidden(a.client, 'menwei/lock/lock-b/pull', { v: 1, reqId: 'steal', have: 0 });
    await until(() => aclDenied('lock-a').length > 0, 5_000);
    await quiet();
    expect(toB.slice(before)).toEqual([]);
    // The control: B's own pull on the same subscription is answered.
    await lockB.publishAsync('menwei/lock/lock-b/pull', JSON.stringify({ v: 1, reqId: 'own', have: 0 }), { qos: 1 });
    await until(() => toB.slice(before).some((p) => JSON.parse(p).reqId === 'own'), 5_000);
  });
});

describe('lock A cannot speak as anyone else', () => {
  const cases: Array<[string, string, unknown, 0 | 1]> = [
    ['an event as lock B', 'menwei/lock/lock-b/event', { v: 1, seq: 1, ts: T(), type: 'tamper' }, 1],
    ['an event as lock B at QoS 0', 'menwei/lock/lock-b/event', { v: 1, seq: 2, ts: T(), type: 'tamper' }, 0],
    ['a status as lock B', 'menwei/lock/lock-b/status', { v: 1, online: false }, 1],
    ['a code list on its own inbound channel', 'menwei/lock/lock-a/codes', { v: 1, version: 99 }, 1],
    ['an event of another kind with its own id', 'menwei/smoke/lock-a/event', { v: 1, seq: 3, ts: T(), type: 'alarm', value: 900 }, 1],
    ['an upstream event', 'menwei/up/gw-test/alarm/smoke', { v: 1 }, 1],
    ['a platform command', 'menwei/down/gw-test/unit.suspend', { v: 1, commandId: 'x', expiresAt: T(), unit: 'U-B', reason: 'x' }, 1],
  ];

  it.each(cases)('%s closes the connection and has no effect', async (_what, topic, payload, qos) => {
    const a = await device('lock-a', lockA.secret);
    const deniedBefore = await aclCount();
    const lastSeq = gw.gateway.db.prepare<[], { seq: number }>('SELECT max(seq) AS seq FROM outbox').get()!.seq;
    await forbidden(a.client, topic, payload, qos);
    expect(a.client.connected).toBe(false);
    expect(await aclCount()).toBe(deniedBefore + 1);
    await quiet();
    // Nothing was committed but the (flood-controlled, PROTOCOL.md §2.3) report and lock A's own presence.
    const added = gw.gateway.db.prepare<[number], { payload: Buffer }>('SELECT payload FROM outbox WHERE seq > ?').all(lastSeq)
      .map((r) => JSON.parse(r.payload.toString()) as { class: string; type: string; deviceId?: string });
    const expected = (e: (typeof added)[number]) => `${e.class}/${e.type}` === 'security/acl_denied' || (e.class === 'device' && e.deviceId === 'lock-a');
    expect(added.filter((e) => !expected(e)), JSON.stringify(added)).toEqual([]);
  });
});

describe('no wildcard, and only its own inbound channels', () => {
  it('lock A gets 0x80 for every wildcard and for its outbound channels, keeps its connection, and may subscribe to its codes', async () => {
    const a = await device('lock-a', lockA.secret);
    const refused = ['#', '+', 'menwei/#', 'menwei/lock/#', 'menwei/lock/+/codes', 'menwei/lock/lock-a/+', 'menwei/lock/lock-a/#', '+/lock/lock-a/codes', '$SYS/#', 'menwei/up/#', 'menwei/lock/lock-a/event', 'menwei/lock/lock-a/pull'];
    expect(await granted(a.client, refused)).toEqual(refused.map(() => 0x80));
    expect(a.client.connected).toBe(true);
    expect(await granted(a.client, ['menwei/lock/lock-a/codes'])).toEqual([1]);
    a.client.end(true);
  });

  it('a smoke detector may subscribe to nothing, not even a lock\'s codes', async () => {
    const s = await device('smoke-a', smoke.secret);
    expect(await granted(s.client, ['menwei/smoke/smoke-a/event', 'menwei/lock/smoke-a/codes', 'menwei/lock/lock-a/codes'])).toEqual([0x80, 0x80, 0x80]);
    expect(s.client.connected).toBe(true);
    s.client.end(true);
  });

  it.each([
    ['a lock event with its own id', 'menwei/lock/smoke-a/event', { v: 1, seq: 1, ts: T(), type: 'unlock', method: 'key' }],
    ['a lock pull with its own id', 'menwei/lock/smoke-a/pull', { v: 1, reqId: 'r', have: 0 }],
    ['a lock event as lock A', 'menwei/lock/lock-a/event', { v: 1, seq: 1, ts: T(), type: 'door', open: true }],
    ['a channel smoke detectors do not have', 'menwei/smoke/smoke-a/pull', { v: 1, reqId: 'r', have: 0 }],
  ])('a smoke detector publishing %s is closed and reported', async (_what, topic, payload) => {
    const s = await device('smoke-a', smoke.secret);
    const before = await aclCount();
    await forbidden(s.client, topic, payload);
    expect(s.client.connected).toBe(false);
    // Counted; the upstream report from this address this minute is in the flood summary (§2.3).
    expect(await aclCount()).toBe(before + 1);
    expect(outboxEvents('security/mechanical_key')).toEqual([]);
    expect(outboxEvents('occupancy/entry')).toEqual([]);
  });
});
