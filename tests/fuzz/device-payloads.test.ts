// Hostile payloads on every device topic (issue 9, the quick size): random bytes, broken
// JSON, and valid samples with fields replaced by junk, published by real mqtt.js device
// sessions. The gateway keeps running, the sessions stay up, and each bad payload is
// acknowledged and counted.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { DEVICE_SAMPLES } from '../helpers/samples.ts';
import type { DeviceKind } from '../../protocol/topics.ts';

const OWN: Record<DeviceKind, string> = { lock: 'lock-fuzz', smoke: 'smoke-fuzz', desk: 'desk-fuzz', reader: 'reader-fuzz' };

let gw: TestGateway;
const clients = new Map<DeviceKind, MqttClient>();

beforeAll(async () => {
  gw = await startTestGateway();
  for (const [kind, id] of Object.entries(OWN) as Array<[DeviceKind, string]>) {
    const { secret } = gw.provision(kind, id, 'HL-FUZZ');
    clients.set(kind, await gw.connectDevice(id, secret));
  }
});

afterAll(async () => {
  for (const client of clients.values()) await client.endAsync();
  await gw?.stop();
});

/** Device-side topics of the samples, rewritten to this test's own device of that kind. */
const topics = DEVICE_SAMPLES
  .filter((s) => !s.topic.endsWith('/codes') && !s.topic.endsWith('/card'))
  .map((s) => {
    const [, kind, , channel] = s.topic.split('/') as [string, DeviceKind, string, string];
    return { kind, topic: `menwei/${kind}/${OWN[kind]}/${channel}`, sample: s.payload };
  });

const junk = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));
const mutated = fc.record({ pick: fc.nat(), field: fc.nat(), value: junk }).map(({ pick, field, value }) => {
  const t = topics[pick % topics.length]!;
  const keys = Object.keys(t.sample);
  return { t, payload: Buffer.from(JSON.stringify({ ...t.sample, [keys[field % keys.length]!]: value })) };
});
const raw = fc.record({ pick: fc.nat(), bytes: fc.uint8Array({ maxLength: 2048 }) })
  .map(({ pick, bytes }) => ({ t: topics[pick % topics.length]!, payload: Buffer.from(bytes) }));

describe('hostile device payloads', () => {
  it('never crash the gateway or drop a device session, and are counted', async () => {
    const before = gw.gateway.ingest.counters.badMessages;
    await fc.assert(fc.asyncProperty(fc.oneof(mutated, raw), async ({ t, payload }) => {
      const client = clients.get(t.kind)!;
      await client.publishAsync(t.topic, payload, { qos: 1 });
      return client.connected;
    }), { numRuns: 300 });
    for (const client of clients.values()) expect(client.connected).toBe(true);
    expect(gw.gateway.ingest.counters.badMessages).toBeGreaterThan(before);
    const health = await (await fetch(`http://127.0.0.1:${gw.ports.http}/healthz`)).json();
    expect(health).toMatchObject({ broker: 'up' });
  }, 120_000);
});
