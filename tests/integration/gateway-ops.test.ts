// Operating the gateway (issue 3): TLS devices, throttling, session takeover, device
// removal, health and metrics, in process with real aedes and mqtt.js devices.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { connectDevice, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { selfSignedPair } from '../../gateway/tls.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

const pending = (g: TestGateway, cls: 'security' | 'device') => g.gateway.outbox.status().classes[cls].pending;

describe('TLS listener (PROTOCOL.md §1)', () => {
  it('accepts a device over TLS that verifies the gateway certificate, and refuses one with the wrong CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'menwei-tls-'));
    const pair = await selfSignedPair('localhost');
    writeFileSync(join(dir, 'cert.pem'), pair.cert);
    writeFileSync(join(dir, 'key.pem'), pair.key);
    const tlsPort = await freePort();
    gw = await startTestGateway({ broker: { port: 0, tls: { port: tlsPort, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') } } });
    const { secret } = gw.provision('smoke', 'smoke-tls');
    const url = `mqtts://127.0.0.1:${gw.ports.brokerTls}`;
    const device = await connectDevice(url, 'smoke-tls', secret, { ca: pair.cert, servername: 'localhost' });
    expect(device.connected).toBe(true);
    await device.endAsync();
    const other = await selfSignedPair('localhost');
    await expect(connectDevice(url, 'smoke-tls', secret, { ca: other.cert, servername: 'localhost' })).rejects.toThrow();
  });
});

describe('refusals and sessions (PROTOCOL.md §1)', () => {
  it('refuses an address after more than 5 failures in a minute, even with the right secret', async () => {
    gw = await startTestGateway();
    const { secret } = gw.provision('lock', 'lock-guess');
    for (let i = 0; i < 6; i++) {
      await expect(connectDevice(gw.brokerUrl, 'lock-guess', `guess-${i}`)).rejects.toMatchObject({ code: 4 });
    }
    await expect(connectDevice(gw.brokerUrl, 'lock-guess', secret)).rejects.toMatchObject({ code: 5 });
  });

  it('aggregates failed logins per source: one event at once, the rest in the minute summary', async () => {
    gw = await startTestGateway();
    gw.provision('lock', 'lock-flood');
    const before = pending(gw, 'security');
    for (let i = 0; i < 5; i++) await connectDevice(gw.brokerUrl, 'lock-flood', 'bad').catch(() => undefined);
    expect(pending(gw, 'security') - before).toBe(1);
  });

  it('reports a new connection that takes over a connected device id', async () => {
    gw = await startTestGateway();
    const { secret } = gw.provision('lock', 'lock-twin');
    const first = await connectDevice(gw.brokerUrl, 'lock-twin', secret);
    const closed = new Promise<void>((resolve) => first.once('close', () => resolve()));
    const before = pending(gw, 'security');
    const second = await connectDevice(gw.brokerUrl, 'lock-twin', secret);
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(pending(gw, 'security') - before).toBe(1);
    first.end(true);
    await second.endAsync();
  });

  it('closes the connection of a removed device and refuses it afterwards', async () => {
    gw = await startTestGateway();
    const { secret } = gw.provision('lock', 'lock-gone');
    const device = await connectDevice(gw.brokerUrl, 'lock-gone', secret);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    gw.gateway.registry.disable('lock-gone');
    await gw.gateway.upkeepTick();
    await closed;
    device.end(true);
    await expect(connectDevice(gw.brokerUrl, 'lock-gone', secret)).rejects.toMatchObject({ code: 4 });
  });

  it('marks a device offline on its will and online again at its next message', async () => {
    gw = await startTestGateway();
    const { secret } = gw.provision('smoke', 'smoke-will');
    const will = { topic: 'menwei/smoke/smoke-will/status', payload: Buffer.from('{"v":1,"online":false}'), qos: 1 as const, retain: true };
    const device = await connectDevice(gw.brokerUrl, 'smoke-will', secret, { will });
    await device.publishAsync('menwei/smoke/smoke-will/status', '{"v":1,"online":true,"batteryPct":80}', { qos: 1, retain: true });
    const view = () => gw!.gateway.presence.list().find((d) => d.id === 'smoke-will');
    expect(view()).toMatchObject({ online: true, batteryPct: 80 });
    (device as unknown as { stream: { destroy(): void } }).stream.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(view()?.online).toBe(false);
    device.end(true);
    const again = await connectDevice(gw.brokerUrl, 'smoke-will', secret);
    await again.publishAsync('menwei/smoke/smoke-will/status', '{"v":1,"online":true}', { qos: 1 });
    expect(view()?.online).toBe(true);
    await again.endAsync();
  });
});

describe('health and metrics (INTERFACES.md)', () => {
  it('answers /healthz with the outbox backlog and no upstream', async () => {
    gw = await startTestGateway();
    const health = await (await fetch(`http://127.0.0.1:${gw.ports.http}/healthz`)).json();
    expect(health).toMatchObject({ ok: true, broker: 'up', upstream: 'none', outboxPending: expect.any(Number), oldestPendingAgeS: expect.any(Number) });
  });

  it('serves Prometheus metrics for the outbox, devices, upstream and acks', async () => {
    gw = await startTestGateway();
    const { secret } = gw.provision('smoke', 'smoke-metrics');
    const device = await connectDevice(gw.brokerUrl, 'smoke-metrics', secret);
    await device.publishAsync('menwei/smoke/smoke-metrics/status', '{"v":1,"online":true}', { qos: 1 });
    const text = await (await fetch(`http://127.0.0.1:${gw.ports.http}/metrics`)).text();
    expect(text).toMatch(/menwei_outbox_pending\{class="alarm"\} 0/);
    expect(text).toMatch(/menwei_outbox_oldest_age_seconds\{class="gateway"\}/);
    expect(text).toMatch(/menwei_devices_online\{kind="smoke"\} 1/);
    expect(text).toMatch(/menwei_upstream_state\{state="none"\} 1/);
    expect(text).toMatch(/menwei_ack_latency_seconds_count [1-9]/);
    expect(text).toMatch(/menwei_outbox_dropped_total\{reason="budget"\} 0/);
    await device.endAsync();
  });

  it('reports the event-loop delay since the last scrape', async () => {
    const tg = await startTestGateway();
    gw = tg;
    const maxDelay = async () => {
      const text = await (await fetch(`http://127.0.0.1:${tg.ports.http}/metrics`)).text();
      return Number(/^menwei_event_loop_delay_seconds\{quantile="1"\} (\S+)$/m.exec(text)?.[1]);
    };
    await maxDelay();
    const blockedUntil = Date.now() + 80; // the gateway shares this test's event loop
    while (Date.now() < blockedUntil) { /* a callback that hogs the loop */ }
    await new Promise((r) => setTimeout(r, 5));
    const blocked = await maxDelay();
    expect(blocked).toBeGreaterThanOrEqual(0.07);
    expect(await maxDelay()).toBeLessThan(blocked); // reset by the scrape
  });

  it('lets an admin account subscribe to menwei/#, and closes it when it publishes', async () => {
    gw = await startTestGateway();
    const admin = gw.gateway.registry.addAdmin('console-1', Date.now());
    const client = await mqtt.connectAsync(gw.brokerUrl, { clientId: 'console-1', username: 'console-1', password: admin.secret, protocolVersion: 4 });
    const granted = await client.subscribeAsync('menwei/#', { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('menwei/lock/lock-0301/codes', '{"v":1,"version":1}', { qos: 1 });
    await closed;
    client.end(true);
  });
});
