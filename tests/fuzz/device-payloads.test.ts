// Hostile payloads on every device topic (issue 9): random bytes, broken
// JSON, and valid samples with fields replaced by junk, published by real mqtt.js device
// sessions. The gateway keeps running, the sessions stay up, and each bad payload is
// acknowledged and counted.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { hostilePayloads } from '../helpers/hostile-payloads.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
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

describe('hostile device payloads', () => {
  it('never crash the gateway or drop a device session, and are counted', async () => {
    const before = gw.gateway.ingest.counters.badMessages;
    await fc.assert(fc.asyncProperty(hostilePayloads(OWN), async ({ kind, topic, payload }) => {
      const client = clients.get(kind)!;
      await client.publishAsync(topic, payload, { qos: 1 });
      return client.connected;
    }), { numRuns: bySize(300, 20_000) });
    for (const client of clients.values()) expect(client.connected).toBe(true);
    expect(gw.gateway.ingest.counters.badMessages).toBeGreaterThan(before);
    const health = await (await fetch(`http://127.0.0.1:${gw.ports.http}/healthz`)).json();
    expect(health).toMatchObject({ broker: 'up' });
  }, sizedTimeout(120_000));
});
