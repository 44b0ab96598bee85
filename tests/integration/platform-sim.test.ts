// The platform simulator (firmware-sim/platform-sim.ts) on a real Mosquitto: two
// instances in one shared-subscription group share the gateway's stream as a consumer
// group would on a clustered platform broker, and its dedupe and order checks catch
// resends and disorder. aedes has no shared subscriptions, hence Mosquitto (MQTT 3.1.1
// clients may use `$share/` with Mosquitto 2).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { ulid } from 'ulid';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { PlatformSim, ReplyBook } from '../../firmware-sim/platform-sim.ts';
import { SmokeSim } from '../../firmware-sim/smoke-sim.ts';

const DETECTORS = 8;
const TESTS_EACH = 5;
const UNIT = 'HL-0101';

let upstream: Mosquitto;
let gw: TestGateway;
let members: PlatformSim[] = [];
let detectors: SmokeSim[] = [];

async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  upstream = await startMosquitto();
  const replies = new ReplyBook();
  members = ['platform-a', 'platform-b'].map((clientId) => new PlatformSim({ url: upstream.url, gatewayId: 'gw-test', clientId, group: 'platform', replies }));
  // Subscribed before the gateway starts, so the group's sessions hold its first event too.
  await Promise.all(members.map((m) => m.start()));
  gw = await startTestGateway({ upstream: { url: upstream.url } });
  gw.gateway.units.add({ code: UNIT, address: '海淀区学院路 8 号', licensed: true }, Date.now());
  detectors = Array.from({ length: DETECTORS }, (_, i) => {
    const id = `smoke-${String(i + 1).padStart(4, '0')}`;
    return new SmokeSim({ brokerUrl: gw.brokerUrl, id, secret: gw.provision('smoke', id, UNIT).secret });
  });
  await Promise.all(detectors.map((d) => d.start()));
}, 30_000);

afterAll(async () => {
  await Promise.all(detectors.map((d) => d.stop()));
  await gw?.stop();
  await Promise.all(members.map((m) => m.stop()));
  await upstream?.destroy();
});

describe('platform simulator in a shared-subscription group on Mosquitto', () => {
  it('subscribes as $share/<group>/menwei/up/<gw>/#', () => {
    expect(members[0]!.filter).toBe('$share/platform/menwei/up/gw-test/#');
  });

  it('hands each event to exactly one member; together they receive all of them, in seq order per class', async () => {
    for (let round = 0; round < TESTS_EACH; round++) await Promise.all(detectors.map((d) => d.test()));
    const [a, b] = members as [PlatformSim, PlatformSim];
    const tests = () => [...a.events, ...b.events].filter((e) => e.type === 'test').length;
    await until('every self-test at the platform', () => tests() === DETECTORS * TESTS_EACH);
    await until('an empty outbox', () => Object.values(gw.gateway.outbox.status().classes).every((c) => c.pending === 0));
    const delivered = gw.gateway.outbox.status().delivered;
    await until('every delivered event at a member', () => a.events.length + b.events.length >= delivered);

    const ids = [...a.events, ...b.events].map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length); // no event went to both
    expect(ids).toHaveLength(delivered);
    const seqs = [...a.events, ...b.events].map((e) => e.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: delivered }, (_, i) => i + 1)); // none missing
    expect(a.events.length).toBeGreaterThan(0);
    expect(b.events.length).toBeGreaterThan(0);
    for (const m of members) {
      expect(m.duplicates).toBe(0);
      expect(m.invalid).toBe(0);
      expect(m.orderViolations).toEqual([]);
    }
  }, 40_000);

  it('gets the reply to a command even when the broker hands it to the other member', async () => {
    const a = members[0]!;
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const guests = [{ name: '张三', idNumber: '11010519491231002X' }];
    // All sent by `a`: Mosquitto deals the group's messages out in turn, so some replies go to `b`.
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      a.sendCommand('booking.upsert', { bookingId: `bk-${i}`, unit: UNIT, from, to, guests })));
    expect(replies.map((r) => r.status)).toEqual(Array(6).fill('ok'));
    const unknown = await a.sendCommand('booking.upsert', { bookingId: 'bk-x', unit: 'HL-NONE', from, to, guests });
    expect(unknown).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_UNIT' } });
    const [atA, atB] = members.map((m) => m.events.filter((e) => e.class === 'reply').length) as [number, number];
    expect(atA + atB).toBe(7);
    expect(atB).toBeGreaterThan(0);
  }, 20_000);
});

describe('platform simulator checks', () => {
  it('drops a resend by eventId, and records a first arrival whose seq goes back within its class', async () => {
    const platform = new PlatformSim({ url: upstream.url, gatewayId: 'gw-checks', clean: true });
    await platform.start();
    const raw = await mqtt.connectAsync(upstream.url, { clientId: `raw-${ulid()}`, protocolVersion: 4 });
    const envelope = (seq: number, eventClass = 'device', type = 'test') => JSON.stringify({
      v: 1, eventId: ulid(), gatewayId: 'gw-checks', seq, bootId: 'boot-1', class: eventClass, type, gatewayTs: new Date().toISOString(), data: {},
    });
    try {
      const first = envelope(5);
      for (const payload of [first, first, envelope(3), envelope(4, 'alarm', 'smoke'), '{"v":2}']) {
        await raw.publishAsync('menwei/up/gw-checks/device/test', payload, { qos: 1 });
      }
      await until('all five messages', () => platform.events.length + platform.duplicates + platform.invalid === 5, 5_000);
      expect(platform.events.map((e) => e.seq)).toEqual([5, 3, 4]);
      expect(platform.duplicates).toBe(1);
      expect(platform.invalid).toBe(1);
      // seq 4 is the first alarm: order is checked per class, not across classes.
      expect(platform.orderViolations).toEqual(['device: seq 3 after 5']);
    } finally {
      await raw.endAsync();
      await platform.stop();
    }
  });
});
