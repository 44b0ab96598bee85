// Issue 9 "Disk full", on a real full disk: the gateway runs as a child process with its
// data dir on a small tmpfs, under device load, with the upstream down (ARCHITECTURE.md
// invariant 5).
// - Past `outbox.maxBytes`, only `device` events are dropped, and the drops are counted
//   (`gateway/outbox_dropped`, /metrics); every alarm stays.
// - When ballast fills the disk so even alarms cannot be written, the alarm's PUBACK is
//   withheld, /healthz says `diskFull` with 503, and after at most 10 s the device's
//   connection is closed. The process keeps running.
// - Once space is freed, the gateway recovers without a restart: the device resends, the
//   withheld alarm is committed and acknowledged, and everything arrives upstream.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { connectDevice } from '../helpers/gateway.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { eventually, health, metric } from '../helpers/process-probes.ts';
import { mountTmpfs } from '../helpers/tmpfs.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { LoadGenerator, type LoadDevice } from '../../firmware-sim/load.ts';

const TMPFS_MB = 24;
const MAX_BYTES = 256 * 1024;
const DEVICE_EVENTS = bySize(4_000, 40_000);
const ALARM_ROUNDS = bySize(20, 200);
/** ARCHITECTURE.md invariant 5: a PUBACK is withheld at most this long, then the connection closes. */
const WITHHOLD_MS = 10_000;

type Envelope = { class: string; type: string; deviceId?: string; data: { deviceSeq?: number; class?: string; count?: number; reason?: string } };

let cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch(() => undefined);
  cleanups = [];
});

/** A detector that raises and clears alarms over its own session, and remembers what was acked. */
/**
 * The first alarm or clear the full disk withholds. An urgent message commits alone
 * (gateway/ingest/urgent-lane.ts), so it may still fit in WAL space a refused batch left
 * allocated; it is then acknowledged, rightly, and the next one is tried.
 */
async function firstWithheld(alarms: AlarmDetector): Promise<{ withheld: Promise<string>; withheldAt: number }> {
  for (let i = 0; i < 100; i++) {
    const withheldAt = Date.now();
    const sent = alarms.publish(i % 2 === 0 ? 'alarm' : 'clear');
    const acked = await Promise.race([sent.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 1_000))]);
    if (!acked) return { withheld: sent, withheldAt };
  }
  throw new Error('100 alarms in a row were written to the full disk');
}

class AlarmDetector {
  readonly acked: string[] = [];
  closes = 0;
  private seq = 0;

  constructor(readonly client: MqttClient, readonly id: string) {
    client.on('close', () => this.closes++);
    client.on('error', () => undefined);
  }

  /** Resolves with the event's key once the gateway acknowledged it (after any resend). */
  publish(type: 'alarm' | 'clear'): Promise<string> {
    const seq = ++this.seq;
    const payload = JSON.stringify({ v: 1, seq, ts: new Date().toISOString(), type, value: 600 });
    return this.client.publishAsync(`menwei/smoke/${this.id}/event`, payload, { qos: 1 }).then(() => {
      this.acked.push(`${this.id}:${seq}`);
      return `${this.id}:${seq}`;
    });
  }
}

describe('a full disk (ARCHITECTURE.md invariant 5)', () => {
  it('drops and counts only device events past the budget, withholds acks on a full tmpfs, and recovers without a restart', async () => {
    const mosquitto = await startMosquitto();
    cleanups.push(() => mosquitto.destroy());
    const platform = await startSubscriber(mosquitto.url, 'menwei/up/gw-test/#', { clientId: 'platform-disk-full' });
    cleanups.push(() => platform.close());
    await mosquitto.stop();
    const disk = mountTmpfs(TMPFS_MB);
    cleanups.push(() => disk.unmount());

    const gw = await gatewayProcess({ dataDir: disk.dir, upstream: { url: mosquitto.url }, outbox: { maxBytes: MAX_BYTES } });
    cleanups.push(() => gw.destroy());
    await gw.start();
    // One device per generator: a second generator on the same device would reuse its seqs.
    const [loadDevices, moreDevices, detector] = await Promise.all([
      gw.cli(['device', 'add', '--kind', 'smoke', '--id', 'smoke-df-load']) as Promise<LoadDevice[]>,
      gw.cli(['device', 'add', '--kind', 'smoke', '--id', 'smoke-df-more']) as Promise<LoadDevice[]>,
      gw.cli(['device', 'add', '--kind', 'smoke', '--id', 'smoke-df-alarm']).then(([d]) => d as LoadDevice),
    ]);
    const alarms = new AlarmDetector(await connectDevice(gw.brokerUrl, detector.id, detector.secret, { reconnectPeriod: 500, clean: false }), detector.id);
    cleanups.push(() => alarms.client.endAsync(true));

    // Past the budget: device events make room, alarms stay.
    const load = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: loadDevices, total: DEVICE_EVENTS, window: 32, padBytes: 200 });
    load.start();
    for (let round = 0; round < ALARM_ROUNDS; round++) {
      await alarms.publish('alarm');
      await alarms.publish('clear');
    }
    await load.finished(sizedTimeout(60_000));
    const droppedByBudget = await metric(gw.httpUrl, 'menwei_outbox_dropped_total', { reason: 'budget' });
    expect(droppedByBudget).toBeGreaterThan(0);
    expect(await metric(gw.httpUrl, 'menwei_outbox_pending', { class: 'alarm' })).toBe(2 * ALARM_ROUNDS);
    expect(await metric(gw.httpUrl, 'menwei_outbox_pending', { class: 'device' })).toBeLessThan(DEVICE_EVENTS);
    expect((await health(gw.httpUrl)).ok).toBe(true);

    // The real fault: nothing left on the disk. A reader holding a snapshot (as `menwei
    // outbox status` does for a moment) keeps SQLite from reusing its WAL, so every commit
    // needs new space; device load keeps the writer busy until it is refused.
    const snapshot = new Database(join(disk.dir, 'menwei.db'), { readonly: true });
    cleanups.push(() => void snapshot.close());
    snapshot.exec('BEGIN');
    snapshot.prepare('SELECT count(*) FROM outbox').get();
    const ballast = disk.fill();
    const more = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: moreDevices, ratePerSec: 2_000, window: 8, padBytes: 200 });
    more.start();
    cleanups.push(() => more.stop());
    await eventually('/healthz reports the full disk', async () => (await health(gw.httpUrl)).diskFull === true, 60_000);
    await more.stop();
    const full = await fetch(`${gw.httpUrl}/healthz`);
    expect(full.status).toBe(503);
    const closesBefore = alarms.closes;
    const { withheld, withheldAt } = await firstWithheld(alarms);
    let withheldAcked = false;
    void withheld.then(() => { withheldAcked = true; });
    await eventually('the withheld device connection closed', () => alarms.closes > closesBefore, WITHHOLD_MS + 10_000);
    const closedAfterMs = Date.now() - withheldAt;
    expect(withheldAcked).toBe(false);
    expect(gw.pid()).toBeDefined();
    expect((await health(gw.httpUrl)).diskFull).toBe(true);

    // Space returns: no restart, the device resends, the gateway takes it.
    snapshot.exec('COMMIT');
    disk.free();
    const withheldKey = await withheld;
    await eventually('/healthz is ok again', async () => (await health(gw.httpUrl)).ok, 30_000);
    console.info(`disk full: ${(ballast / 1048576).toFixed(1)} MB ballast, connection closed ${closedAfterMs} ms after the withheld alarm, ` +
      `acked after space returned; ${droppedByBudget} device events dropped by the budget before`);

    await mosquitto.restart();
    const mustArrive = [...alarms.acked];
    expect(mustArrive).toContain(withheldKey);
    // Every drop the outbox counted is also reported upstream, once the reports get through.
    const reportedDrops = (events: readonly Envelope[], cls?: string) => events
      .filter((e) => e.type === 'outbox_dropped' && (cls === undefined || e.data.class === cls))
      .reduce((n, e) => n + (e.data.count ?? 0), 0);
    const deviceAcked = [...load.acked, ...more.acked];
    await eventually('the outbox drained', async () => (await health(gw.httpUrl)).outboxPending === 0, sizedTimeout(60_000));
    const droppedTotal = await metric(gw.httpUrl, 'menwei_outbox_dropped_total', { reason: 'budget' });
    await platform.waitFor(() => {
      const report = analyse(platform.messages);
      const delivered = deliveredDeviceEvents(report);
      const events = report.unique as unknown as Envelope[];
      const deviceLost = deviceAcked.filter((k) => !delivered.has(k)).length;
      return mustArrive.every((k) => delivered.has(k)) && reportedDrops(events) >= Math.max(droppedTotal, deviceLost) && events.some((e) => e.type === 'disk_full');
    }, 20_000).catch(() => undefined);
    const report = analyse(platform.messages);
    const events = report.unique as unknown as Envelope[];
    const delivered = deliveredDeviceEvents(report);
    expect(mustArrive.filter((k) => !delivered.has(k))).toEqual([]);

    // Every device event a device had acked either arrived or is counted as dropped.
    const deviceLost = deviceAcked.filter((k) => !delivered.has(k)).length;
    const counted = reportedDrops(events, 'device');
    expect(reportedDrops(events)).toBe(droppedTotal);
    expect(counted).toBe(droppedTotal);
    expect(counted).toBeGreaterThanOrEqual(deviceLost);
    expect(events.some((e) => e.type === 'disk_full' && e.data.reason === 'sqlite')).toBe(true);
    expect(report.orderViolations).toEqual([]);
    console.info(`disk full: ${deviceAcked.length} device events acked, ${deviceAcked.length - deviceLost} delivered, ${counted} counted as dropped; ` +
      `${mustArrive.length} alarm-detector events acked, all delivered; ${report.duplicates} duplicates`);
  }, sizedTimeout(150_000));
});
