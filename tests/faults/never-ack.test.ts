// Issue 9 "Upstream that never acks": the broker takes the gateway's connection, CONNACKs
// and SUBACKs, and never PUBACKs. The gateway runs as a child process under device load.
// - The forwarder's in-flight window holds (PROTOCOL.md §2: "a bounded in-flight window").
// - Devices are still acknowledged: their events wait in the outbox (invariant 2).
// - Memory stays bounded: the outbox is on disk, not in a queue.
// - /healthz says `stalled` (INTERFACES.md).
// - When a good upstream takes the port back, everything arrives, in order per class.
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { startSilentUpstream } from '../helpers/silent-upstream.ts';
import { eventually, health, metric, rssMb } from '../helpers/process-probes.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { LoadGenerator, type LoadDevice } from '../../firmware-sim/load.ts';

/** gateway/forwarder/forwarder.ts defaults: 64 in flight, plus 8 only alarms may use. */
const WINDOW = 64;
const URGENT_RESERVE = 8;
const STALL_S = 3;
/** Detectors of the load; each raises at most one alarm, fewer than the reserve holds. */
const DETECTORS = 4;
const EVENTS = bySize(10_000, 200_000);
/**
 * The child's RSS may grow by at most this over the run. At full size the backlog is
 * 200,000 envelopes of about 280 B of JSON (the padding is not stored) ≈ 56 MB, several
 * times that as queued MQTT.js packets or JS objects, so a gateway that held them in
 * memory (an offline queue, an unbounded in-flight map) would break the bound; what it
 * may use is SQLite's page cache and V8 heap headroom. Measured here: +14 MB at the
 * quick size (10,000 events), +49 MB at full size.
 */
const RSS_GROWTH_LIMIT_MB = 64;

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('an upstream that accepts the connection and never acknowledges', () => {
  it(`holds the window, acks devices, stays bounded, reports stalled, and delivers all ${EVENTS} events once a real broker returns`, async () => {
    // The platform's persistent session exists before the outage, so Mosquitto keeps
    // what the gateway sends when it comes back on the same port.
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.destroy());
    const platform = await startSubscriber(mosquitto.url, 'menwei/up/gw-test/#', { clientId: 'platform-never-ack' });
    cleanups.push(() => platform.close());
    await mosquitto.stop();
    const silent = await startSilentUpstream(mosquitto.port);
    cleanups.push(() => silent.close());

    const gw = await gatewayProcess({ upstream: { url: mosquitto.url, stallS: STALL_S } });
    cleanups.push(() => gw.destroy());
    await gw.start();
    const fleet = (await Promise.all(Array.from({ length: DETECTORS }, (_, i) => gw.cli(['device', 'add', '--kind', 'smoke', '--id', `smoke-na-${i}`])))).flat() as LoadDevice[];
    await eventually('the gateway connected to the silent upstream', () => silent.connections('gw-test') >= 1, 10_000);
    const pid = gw.pid()!;
    const rssStart = rssMb(pid);

    const load = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: fleet, total: EVENTS, window: 32, padBytes: 120 });
    let rssPeak = rssStart;
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMb(pid)); }, 100);
    cleanups.push(async () => clearInterval(sampler));
    load.start();
    await load.finished(sizedTimeout(60_000));
    await load.stop();
    // Alarms may use the urgent reserve past a full window (invariant 4). One alarm per
    // detector: repeats while in alarm are counted, not sent (PROTOCOL.md §1.4).
    const alarms = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: fleet, total: DETECTORS, window: 1, type: 'alarm' });
    alarms.start();
    await alarms.finished(30_000);
    await alarms.stop();
    await eventually('health says stalled', async () => (await health(gw.httpUrl)).upstream === 'stalled', (STALL_S + 10) * 1000);
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssMb(pid));

    const stalled = await health(gw.httpUrl);
    const alarmsPending = await metric(gw.httpUrl, 'menwei_outbox_pending', { class: 'alarm' });
    console.info(`never-ack: ${load.acked.size} events acked by the gateway, ${silent.publishes()} PUBLISHes at the silent upstream ` +
      `(max ${silent.maxOnOneConnection()} on one connection, ${silent.connections('gw-test')} connections), RSS ${rssStart.toFixed(1)} → peak ${rssPeak.toFixed(1)} MB`);
    expect(load.acked.size).toBe(EVENTS);
    expect(stalled.outboxPending).toBeGreaterThanOrEqual(EVENTS);
    // The window was filled and never exceeded; each alarm took a reserve slot.
    expect(alarmsPending).toBeGreaterThanOrEqual(1);
    expect(alarmsPending).toBeLessThanOrEqual(URGENT_RESERVE);
    expect(silent.maxOnOneConnection()).toBe(WINDOW + alarmsPending);
    expect(silent.connections('gw-test')).toBe(1);
    expect(rssPeak - rssStart).toBeLessThan(RSS_GROWTH_LIMIT_MB);

    await silent.close();
    await mosquitto.restart();
    const acked = [...load.acked, ...alarms.acked];
    await platform.waitFor(() => {
      const delivered = deliveredDeviceEvents(analyse(platform.messages));
      return acked.every((k) => delivered.has(k));
    }, sizedTimeout(60_000)).catch(() => undefined);
    const report = analyse(platform.messages);
    const delivered = deliveredDeviceEvents(report);
    const lost = acked.filter((k) => !delivered.has(k));
    console.info(`never-ack: after recovery ${delivered.size} delivered, ${lost.length} lost, ${report.duplicates} duplicates`);
    expect(lost).toEqual([]);
    expect(report.unique.filter((e) => e.class === 'alarm')).toHaveLength(alarmsPending);
    expect(report.orderViolations).toEqual([]);
    await eventually('health says connected with an empty outbox', async () => {
      const h = await health(gw.httpUrl);
      return h.upstream === 'connected' && h.outboxPending === 0;
    }, 30_000);
  }, sizedTimeout(90_000));
});
