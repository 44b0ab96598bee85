// The alarm fast path (ARCHITECTURE.md invariant 4, the smoke issue): "under a 100,000
// event device backlog with the upstream just reconnected, an alarm published at that
// moment arrives upstream before the backlog is half drained". A real gateway with the
// smoke feature, a real Mosquitto upstream, a real mqtt.js detector.
import { afterAll, describe, expect, it } from 'vitest';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { until, fillBacklog } from '../helpers/wait.ts';
import { startTestGateway, T } from '../helpers/gateway.ts';
import { SmokeFeature } from '../../gateway/smoke/smoke-feature.ts';

const BACKLOG = 100_000;
const BATCH = 5_000;

let cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});



describe('alarm fast path', () => {
  it('delivers an alarm published as the upstream reconnects before half of a 100,000-event device backlog', async () => {
    const upstream = await startMosquitto();
    cleanups.push(() => upstream.destroy());
    const platform = await startSubscriber(upstream.url, 'menwei/up/gw-backlog/#');
    cleanups.push(() => platform.close());
    const gw = await startTestGateway({ gatewayId: 'gw-backlog', upstream: { url: upstream.url } }, { features: [new SmokeFeature()] });
    cleanups.push(() => gw.stop());
    const { secret } = gw.provision('smoke', 'smoke-0601', 'U-0601');
    const detector = await gw.connectDevice('smoke-0601', secret);
    cleanups.push(() => detector.endAsync());

    await upstream.stop();
    await fillBacklog(gw, BACKLOG, BATCH);
    await upstream.restart();
    await until(() => gw.gateway.upstreamState() === 'connected', 15_000);
    await detector.publishAsync('menwei/smoke/smoke-0601/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type: 'alarm', value: 700 }), { qos: 1 });

    await platform.waitFor((m) => m.some((x) => x.topic.endsWith('/alarm/smoke')), 30_000);
    const alarmAt = platform.messages.findIndex((x) => x.topic.endsWith('/alarm/smoke'));
    const backlogBefore = platform.messages.slice(0, alarmAt).filter((x) => x.topic.endsWith('/device/test')).length;
    console.info(`alarm fast path: the alarm arrived after ${backlogBefore} of ${BACKLOG} backlogged device events`);
    expect(backlogBefore).toBeLessThan(BACKLOG / 2);
  }, 90_000);
});
