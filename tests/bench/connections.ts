// Benchmark: memory per connected idle device (issue 8 §5). The same fleet of lock-like
// sessions (idle-fleet.ts) connects to (a) Menwei and (b) bare aedes, each in its own
// process; we read the broker process's VmRSS before and after each step and divide by
// the devices added. Menwei's per-source throttle counts only failed logins (broker/
// throttle.ts), so 10,000 good logins from 127.0.0.1 are all accepted, as they must be.
import { join } from 'node:path';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { DeviceRegistry } from '../../gateway/store/devices.ts';
import { parseDataKey } from '../../gateway/crypto.ts';
import { startBareAedes } from './systems.ts';
import { IdleFleet, anonymousFleet, fleetId, rssBytes, type FleetDevice } from './idle-fleet.ts';
import { goalText, type Benchmark, type BenchRow } from './report.ts';
import { median, round } from './stats.ts';

/** Sessions connected and closed before the baseline, so the connect path's code and JIT are in it. */
const WARM_UP = 200;
/** Idle time before each RSS reading, so the work of connecting (auth, acks, timers) is over. */
const SETTLE_MS = 3_000;

/** A broker process under test and the fleet it accepts. */
type System = { brokerUrl: string; fleet: FleetDevice[]; pid: () => number | undefined; stop(): Promise<void> };

/** Menwei with `count` locks provisioned offline, in one transaction (10,000 fsyncs would take minutes). */
async function startMenweiLocks(upstreamUrl: string, count: number): Promise<System> {
  const gw = await gatewayProcess({ upstream: { url: upstreamUrl } });
  const db = openDatabase(join(gw.dataDir, 'menwei.db'));
  const registry = new DeviceRegistry(db);
  const dataKey = parseDataKey(gw.env.MENWEI_DATA_KEY);
  const fleet = db.transaction(() => Array.from({ length: count + WARM_UP }, (_, i) => {
    const { id, secret } = registry.add({ id: fleetId(i), kind: 'lock' }, dataKey, Date.now());
    return { id, secret };
  }))();
  db.close();
  await gw.start();
  return { brokerUrl: gw.brokerUrl, fleet, pid: () => gw.pid(), stop: () => gw.destroy() };
}

async function startAedes(upstreamUrl: string, count: number): Promise<System> {
  const { brokerUrl, pid, stop } = await startBareAedes(upstreamUrl, 0);
  return { brokerUrl, pid, stop, fleet: anonymousFleet(count + WARM_UP) };
}

/** RSS of the broker process before the fleet and at each fleet size, all after idling. */
export type ConnectionsResult = { rssBefore: number; steps: Array<{ devices: number; rss: number }> };

/**
 * Connects the fleet in steps (e.g. 2,000 then up to 10,000) to one broker process. One
 * process for both sizes also gives the marginal cost between them, which is free of the
 * one-off growth (V8's young generation, libuv pools) that the first connections pay.
 */
export async function measureConnections(start: (upstreamUrl: string, count: number) => Promise<System>, sizes: readonly number[], settleMs = SETTLE_MS): Promise<ConnectionsResult> {
  const settle = () => new Promise((r) => setTimeout(r, settleMs));
  const upstream = await startMosquitto();
  const largest = sizes.at(-1)!;
  const system = await start(upstream.url, largest);
  const pid = system.pid()!;
  const warmUp = new IdleFleet(system.brokerUrl);
  const fleet = new IdleFleet(system.brokerUrl);
  try {
    await warmUp.connect(system.fleet.slice(largest));
    await warmUp.close();
    await settle();
    const rssBefore = rssBytes(pid);
    const steps: ConnectionsResult['steps'] = [];
    for (const devices of sizes) {
      await fleet.connect(system.fleet.slice(fleet.size, devices));
      await settle();
      steps.push({ devices, rss: rssBytes(pid) });
    }
    return { rssBefore, steps };
  } finally {
    await system.stop();
    await fleet.close();
    await upstream.destroy();
  }
}


/** Issue 8 §5: RSS per idle device, Menwei against bare aedes, at two fleet sizes. */
export const connectionsBench: Benchmark = {
  name: 'connections',
  async run({ quick, runs }) {
    const sizes = quick ? [200, 600] : [2_000, 10_000];
    const settleMs = quick ? 1_000 : SETTLE_MS;
    const a: ConnectionsResult[] = [];
    const b: ConnectionsResult[] = [];
    for (let i = 0; i < runs; i++) {
      a.push(await measureConnections(startMenweiLocks, sizes, settleMs));
      b.push(await measureConnections(startAedes, sizes, settleMs));
    }
    const fleet = 'lock-like devices: clean session, keepalive 60 s, will, QoS 1 subscription to their own codes topic, then silent';
    const rows: BenchRow[] = sizes.map((devices, step) => {
      const perA = median(a.map((r) => (r.steps[step]!.rss - r.rssBefore) / devices));
      const perB = median(b.map((r) => (r.steps[step]!.rss - r.rssBefore) / devices));
      return {
        benchmark: `connections: ${devices} idle ${fleet}; broker VmRSS growth per device, ${settleMs / 1000} s after connecting (median of ${runs})`,
        menwei: `${kib(perA)} KiB/device (RSS ${mib(median(a.map((r) => r.rssBefore)))} → ${mib(median(a.map((r) => r.steps[step]!.rss)))} MiB)`,
        baselines: `(b) bare aedes ${kib(perB)} KiB/device (RSS ${mib(median(b.map((r) => r.rssBefore)))} → ${mib(median(b.map((r) => r.steps[step]!.rss)))} MiB)`,
        ratios: `a/b ${round(perA / perB, 2)}`,
        goal: goalText('≤ 1.5× (b) per device', perA / perB <= 1.5),
      };
    });
    const [small, large] = sizes as [number, number];
    const marginal = (r: ConnectionsResult) => (r.steps[1]!.rss - r.steps[0]!.rss) / (large - small);
    const perA = median(a.map(marginal));
    const perB = median(b.map(marginal));
    rows.push({
      benchmark: `connections: marginal VmRSS per device from ${small} to ${large} connected (same processes)`,
      menwei: `${kib(perA)} KiB/device`,
      baselines: `(b) bare aedes ${kib(perB)} KiB/device`,
      ratios: `a/b ${round(perA / perB, 2)}`,
      goal: goalText('≤ 1.5× (b) per device', perA / perB <= 1.5),
    });
    return rows;
  },
};

const kib = (bytes: number) => round(bytes / 1024, 1);
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
