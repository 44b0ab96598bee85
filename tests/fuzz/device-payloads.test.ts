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
    // PROTOCOL.md §2.3: device/bad_message is aggregated per source per minute, so hundreds
    // of bad payloads leave at most one report and one summary per device and minute.
    gw.gateway.outbox.rewind();
    const reports = gw.gateway.outbox.take(1_000_000).map((e) => JSON.parse(e.payload.toString('utf8')) as { class: string; type: string; deviceId?: string })
      .filter((e) => e.class === 'device' && e.type === 'bad_message');
    const minutes = Math.ceil(process.uptime() / 60) + 1;
    for (const id of Object.values(OWN)) expect(reports.filter((e) => e.deviceId === id).length, id).toBeLessThanOrEqual(minutes);
    expect(reports.length).toBeGreaterThan(0);
    const health = await (await fetch(`http://127.0.0.1:${gw.ports.http}/healthz`)).json();
    expect(health).toMatchObject({ broker: 'up' });
  }, sizedTimeout(120_000));
});
