// Alarms first with nothing starving, and the byte budget (ARCHITECTURE.md invariants
// 4–5): a real gateway in process, a real Mosquitto upstream, real mqtt.js devices.
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { until, fillBacklog } from '../helpers/wait.ts';
import { startTestGateway, T } from '../helpers/gateway.ts';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});



describe('alarms first (invariant 4)', () => {
  it('delivers an alarm before a 50,000-event device backlog finishes draining', async () => {
    const upstream = await startMosquitto();
    cleanups.push(() => upstream.destroy());
    const platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-priority' });
    cleanups.push(() => platform.close());
    const gw = await startTestGateway({ upstream: { url: upstream.url } });
    cleanups.push(() => gw.stop());
    const { secret } = gw.provision('smoke', 'smoke-0401', 'HL-0401');
    const detector = await gw.connectDevice('smoke-0401', secret);
    cleanups.push(() => detector.endAsync());
    await upstream.stop();
    await fillBacklog(gw, 50_000);
    await upstream.restart();
    await until(() => gw.gateway.upstreamState() === 'connected', 15_000);
    await detector.publishAsync('menwei/smoke/smoke-0401/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type: 'alarm', value: 700 }), { qos: 1 });
    await platform.waitFor((m) => m.some((x) => x.topic.endsWith('/alarm/smoke')), 30_000);
    const alarmAt = platform.messages.findIndex((x) => x.topic.endsWith('/alarm/smoke'));
    const backlogBefore = platform.messages.slice(0, alarmAt).filter((x) => x.topic.endsWith('/device/test')).length;
    console.info(`priority: alarm arrived after ${backlogBefore} of 50,000 backlogged device events`);
    expect(backlogBefore).toBeLessThan(50_000);
    expect(gw.gateway.outbox.status().classes.device.pending).toBeGreaterThan(0);
  }, 90_000);
});

describe('byte budget (invariant 5)', () => {
  it('drops only device and audit events past outbox.maxBytes, counts them, and keeps every alarm', async () => {
    const gw = await startTestGateway({ outbox: { maxBytes: 64 * 1024 } });
    cleanups.push(() => gw.stop());
    const { secret } = gw.provision('smoke', 'smoke-0501', 'HL-0501');
    const detector = await gw.connectDevice('smoke-0501', secret);
    cleanups.push(() => detector.endAsync());
    let seq = 0;
    const publish = (type: string) => detector.publishAsync('menwei/smoke/smoke-0501/event', JSON.stringify({ v: 1, seq: ++seq, ts: T(), type }), { qos: 1 });
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20; i++) await publish('test');
      await publish('tamper');
      await publish('alarm');
      await publish('clear');
    }
    await gw.gateway.upkeepTick();
    const status = gw.gateway.outbox.status();
    expect(status.dropped.budget).toBeGreaterThan(0);
    expect(status.classes.security.pending).toBe(40);
    expect(status.classes.alarm.pending).toBe(80);
    expect(status.classes.gateway.pending).toBeGreaterThanOrEqual(2); // started, outbox_dropped
    expect(gw.gateway.outbox.pendingBytes()).toBeLessThanOrEqual(64 * 1024 + 40 * 1024);
  }, 60_000);

  it('keeps never-dropped events past the budget and raises gateway/disk_full and /healthz instead', async () => {
    const gw = await startTestGateway({ outbox: { maxBytes: 4 * 1024 } });
    cleanups.push(() => gw.stop());
    const { secret } = gw.provision('smoke', 'smoke-0601', 'HL-0601');
    const detector = await gw.connectDevice('smoke-0601', secret);
    cleanups.push(() => detector.endAsync());
    for (let seq = 1; seq <= 40; seq++) {
      await detector.publishAsync('menwei/smoke/smoke-0601/event', JSON.stringify({ v: 1, seq, ts: T(), type: 'tamper' }), { qos: 1 });
    }
    await gw.gateway.upkeepTick();
    expect(gw.gateway.outbox.status().classes.security.pending).toBe(40);
    const health = await fetch(`http://127.0.0.1:${gw.ports.http}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, diskFull: true });
    const gatewayEvents = gw.gateway.outbox.take(1000).filter((e) => e.topic.endsWith('/gateway/disk_full'));
    expect(gatewayEvents).toHaveLength(1);
  }, 60_000);
});
