// Benchmark: loss under crash (issue 8 §6). Devices publish QoS 1 events at a steady
// rate while the system is SIGKILLed and restarted on the same data dir N times; then we
// count the events a device had acknowledged that never reached the upstream. Menwei
// acknowledges after commit (invariant 2), so its figure must be 0; Mosquitto with a
// persistent bridge saves its store once a second, so what it acked and had not yet
// forwarded is at risk: little while the uplink is up, a second's worth while it is down.
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Received } from '../helpers/subscriber.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { until } from '../helpers/wait.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import { startMenwei, startMosquittoBridge, type SystemUnderTest } from './systems.ts';
import { goalText, type Benchmark, type BenchRow } from './report.ts';

const DEVICES = 5;
const RATE_PER_SEC = 1_500;
/**
 * Acks to see after each restart before the next kill: the devices reconnect on a backoff,
 * and a kill before they are back would hit a system with no load in flight.
 */
const RESUMED_ACKS = 300;
/**
 * Delivered keys stop growing for this long: whatever is missing will not come. The
 * bridge takes some 6 s to reconnect after the outage even when set to retry every second.
 */
const QUIET_MS = 15_000;
/** --quick: long enough for the bridge's reconnect while the uplink is up. */
const QUICK_QUIET_MS = 8_000;
const SETTLE_MAX_MS = 60_000;

/**
 * The bridge retries its uplink every second instead of its default 5–30 s jittered
 * backoff: that changes when its queue drains after the outage, not what it lost, and
 * shortens the wait for stragglers.
 */
const startBridge = (upstreamUrl: string, devices: number) => startMosquittoBridge(upstreamUrl, devices, ['restart_timeout 1']);

export type CrashLoss = { acked: number; lost: number; duplicates: number };

/** `deviceId:seq` of each event upstream, and how many arrived more than once. */
type Deliveries = (messages: readonly Received[]) => { delivered: Set<string>; duplicates: number };

/** Menwei's envelopes (PROTOCOL.md §2.1): duplicates by eventId, as a platform dedupes. */
const menweiDeliveries: Deliveries = (messages) => {
  const report = analyse(messages);
  return { delivered: deliveredDeviceEvents(report), duplicates: report.duplicates };
};

/** A bridge relays the device's own payload to `bridge/menwei/smoke/<id>/event`. */
const bridgeDeliveries: Deliveries = (messages) => {
  const delivered = new Set<string>();
  let duplicates = 0;
  for (const m of messages) {
    const key = `${m.topic.split('/')[3]}:${(m.json as { seq: number }).seq}`;
    if (delivered.has(key)) duplicates++;
    delivered.add(key);
  }
  return { delivered, duplicates };
};

export async function measureCrashLoss(
  start: (upstreamUrl: string, devices: number) => Promise<SystemUnderTest>,
  deliveries: Deliveries,
  kills: number,
  outage: boolean,
  quietMs = QUIET_MS,
): Promise<CrashLoss> {
  const upstream = await startMosquitto();
  const system = await start(upstream.url, DEVICES);
  // A persistent session, so what the upstream queues while it is down still arrives.
  const platform = await startSubscriber(upstream.url, system.upstreamFilter);
  const load = new LoadGenerator({ brokerUrl: system.brokerUrl, devices: system.devices, ratePerSec: RATE_PER_SEC, window: 16, padBytes: 120 });
  try {
    if (outage) await upstream.stop();
    load.start();
    for (let kill = 0; kill < kills; kill++) {
      const resumed = load.acked.size + RESUMED_ACKS;
      await until(() => load.acked.size >= resumed, 30_000);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 500));
      await system.crash!();
    }
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    if (outage) await upstream.restart();
    const acked = [...load.acked];
    await settle(() => deliveries(platform.messages).delivered, acked, quietMs);
    const { delivered, duplicates } = deliveries(platform.messages);
    return { acked: acked.length, lost: acked.filter((k) => !delivered.has(k)).length, duplicates };
  } finally {
    await platform.close();
    await system.stop();
    await upstream.destroy();
  }
}

/** Waits until every acked event arrived, or until arrivals stop for `quietMs`. */
async function settle(delivered: () => Set<string>, acked: readonly string[], quietMs: number): Promise<void> {
  const until = Date.now() + SETTLE_MAX_MS;
  let size = -1;
  let changedAt = Date.now();
  while (Date.now() < until) {
    const now = delivered();
    if (acked.every((k) => now.has(k))) return;
    if (now.size !== size) [size, changedAt] = [now.size, Date.now()];
    else if (Date.now() - changedAt > quietMs) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const sum = (results: readonly CrashLoss[]): CrashLoss => results.reduce(
  (t, r) => ({ acked: t.acked + r.acked, lost: t.lost + r.lost, duplicates: t.duplicates + r.duplicates }),
  { acked: 0, lost: 0, duplicates: 0 },
);

const fmt = (r: CrashLoss) => `${r.lost} lost of ${r.acked} acked, ${r.duplicates} duplicates`;

type Scenario = { label: string; outage: boolean };

const SCENARIOS: Scenario[] = [
  { label: 'upstream up', outage: false },
  { label: 'upstream down (outage), back after the kills', outage: true },
];

/** Issue 8 §6: the same load and kills through Menwei and Mosquitto with a persistent bridge. */
export const crashLossBench: Benchmark = {
  name: 'crash-loss',
  async run({ quick, runs }) {
    // --quick: the uplink-up scenario only, with 2 kills.
    const kills = quick ? 2 : 20;
    const quietMs = quick ? QUICK_QUIET_MS : QUIET_MS;
    const rows: BenchRow[] = [];
    for (const { label, outage } of quick ? SCENARIOS.slice(0, 1) : SCENARIOS) {
      const menwei: CrashLoss[] = [];
      const bridge: CrashLoss[] = [];
      for (let i = 0; i < runs; i++) {
        menwei.push(await measureCrashLoss(startMenwei, menweiDeliveries, kills, outage, quietMs));
        bridge.push(await measureCrashLoss(startBridge, bridgeDeliveries, kills, outage, quietMs));
      }
      const [a, c] = [sum(menwei), sum(bridge)];
      rows.push({
        benchmark: `loss under crash, ${label}: ${kills} SIGKILLs and restarts per run, each 150–650 ms after the devices are back (${RESUMED_ACKS} acks), under ${RATE_PER_SEC} QoS 1 events/s from ${DEVICES} devices (device-acknowledged events never delivered upstream, total of ${runs} runs)`,
        menwei: fmt(a),
        baselines: `(c) Mosquitto + persistent bridge (autosave 1 s): ${fmt(c)}`,
        ratios: '',
        goal: goalText('Menwei loses 0', a.lost === 0),
      });
    }
    return rows;
  },
};
