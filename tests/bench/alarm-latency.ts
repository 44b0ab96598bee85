// Benchmark: alarm latency from a detector's publish to the upstream subscriber's
// receipt (issue 3, issue 5, issue 8 §2): idle, under 5,000 events/s of other traffic,
// and while a backlog drains. The background load runs in its own process and the
// measuring subscriber takes only the alarm topic, so the clock that times the alarms
// is not busy with the load; the same holds for every system compared.
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import { startBareAedes, startMenwei, startMosquittoBridge, type SystemUnderTest } from './systems.ts';
import { latencySummary, median, round } from './stats.ts';
import { goalText, type Benchmark, type BenchRow } from './report.ts';
import { startBackgroundLoad, type BackgroundLoad } from './background-load.ts';

/** With Menwei's event-loop delay (p50 / p99 ms) over the measured alarms. */
export type LatencyResult = ReturnType<typeof latencySummary> & { loop?: { p50: number; p99: number } };


export async function measureAlarmLatency(
  start: (upstreamUrl: string, devices: number) => Promise<SystemUnderTest>,
  opts: { alarms: number; backgroundPerSec: number; backlog?: number; warmUpMs?: number },
): Promise<LatencyResult> {
  const upstream = await startMosquitto();
  const system = await start(upstream.url, 21);
  const [detector, ...fleet] = system.devices;
  const sent = new Map<number, number>();
  const samples: number[] = [];
  const platform = await startSubscriber(upstream.url, system.alarmFilter(detector!.id), { clean: true });
  platform.client.on('message', (topic, payload) => {
    const seq = alarmSeq(topic, payload);
    const at = seq === undefined ? undefined : sent.get(seq);
    if (at !== undefined) samples.push(performance.now() - at);
  });
  let load: BackgroundLoad | undefined;
  const client = await mqtt.connectAsync(system.brokerUrl, { clientId: detector!.id, username: detector!.id, password: detector!.secret, protocolVersion: 4 });
  try {
    if (opts.backlog) {
      await buildBacklog(upstream, system, fleet, opts.backlog);
    }
    if (opts.backgroundPerSec > 0) {
      load = startBackgroundLoad({ brokerUrl: system.brokerUrl, devices: fleet, ratePerSec: opts.backgroundPerSec, window: 16, padBytes: 120 });
      await load.flowing;
    }
    // Warm-up: the system has carried the load for a while before the first alarm.
    if (!opts.backlog) await new Promise((r) => setTimeout(r, opts.warmUpMs ?? 2_000));
    await system.loopDelay?.(); // from here on
    for (let seq = 1; seq <= opts.alarms; seq++) {
      // alarm then clear, so every alarm is a new one and not a counted repeat (§1.4)
      sent.set(seq * 2 - 1, performance.now());
      await client.publishAsync(`menwei/smoke/${detector!.id}/event`, JSON.stringify({ v: 1, seq: seq * 2 - 1, ts: new Date().toISOString(), type: 'alarm', value: 500 }), { qos: 1 });
      await client.publishAsync(`menwei/smoke/${detector!.id}/event`, JSON.stringify({ v: 1, seq: seq * 2, ts: new Date().toISOString(), type: 'clear' }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
    await platform.waitFor(() => samples.length >= opts.alarms, 30_000);
    const loop = await system.loopDelay?.();
    return { ...latencySummary(samples), ...(loop ? { loop } : {}) };
  } finally {
    await load?.stop();
    await client.endAsync();
    await platform.close();
    await system.stop();
    await upstream.destroy();
  }
}

/**
 * An outage backlog: the upstream stops, the fleet publishes `events`, and the upstream
 * comes back. The alarms are then measured while that backlog drains: we wait for its
 * first events upstream, and then unsubscribe so the rest do not load this process.
 */
async function buildBacklog(upstream: Mosquitto, system: SystemUnderTest, fleet: SystemUnderTest['devices'], events: number): Promise<void> {
  await upstream.stop();
  const backlog = new LoadGenerator({ brokerUrl: system.brokerUrl, devices: fleet, total: events, window: 64, padBytes: 120 });
  backlog.start();
  await backlog.finished(600_000);
  await backlog.stop();
  await upstream.restart();
  const draining = await startSubscriber(upstream.url, system.upstreamFilter, { clean: true });
  await draining.waitFor((m) => m.length > 100, 120_000);
  await draining.close();
}

/** The detector's seq of an alarm as it arrives upstream through either system. */
function alarmSeq(topic: string, payload: Buffer): number | undefined {
  if (!topic.endsWith('/alarm/smoke') && !topic.endsWith('/smoke-0/event')) return undefined;
  const body = JSON.parse(payload.toString()) as { seq?: number; type?: string; data?: { deviceSeq?: number } };
  if (topic.endsWith('/alarm/smoke')) return body.data?.deviceSeq;
  return body.type === 'alarm' ? body.seq : undefined;
}

type Scenario = { label: string; alarms: number; backgroundPerSec: number; backlog?: number; warmUpMs?: number; goalP99Ms?: number };

/** Issue 8 §2: idle, under 5,000 events/s, and during a backlog drain, through a, b and c. */
export const alarmLatencyBench: Benchmark = {
  name: 'alarm-latency',
  async run({ quick, runs }) {
    // --quick: only the scenario under load, with 20 alarms after a short warm-up.
    const backlog = 100_000;
    const warmUpMs = quick ? 500 : 2_000;
    const underLoad: Scenario = { label: 'alarm latency under 5,000 events/s', alarms: quick ? 20 : 200, backgroundPerSec: 5_000, warmUpMs, goalP99Ms: 25 };
    const scenarios: Scenario[] = quick ? [underLoad] : [
      { label: 'alarm latency, idle', alarms: 200, backgroundPerSec: 0, warmUpMs },
      underLoad,
      { label: `alarm latency while a ${backlog}-event backlog drains`, alarms: 100, backgroundPerSec: 0, backlog, goalP99Ms: 25 },
    ];
    if (!quick) await measureAlarmLatency(startMenwei, { alarms: 20, backgroundPerSec: 0 }); // warm-up
    const rows: BenchRow[] = [];
    for (const s of scenarios) {
      const a = await medianOfRuns(startMenwei, s, runs);
      const b = await medianOfRuns(startBareAedes, s, runs);
      const c = await medianOfRuns(startMosquittoBridge, s, runs);
      rows.push({
        benchmark: `${s.label} (ms p50 / p99 / max, median of ${runs})`,
        menwei: `${fmt(a)}${a.loop ? `; its event loop delay p50 / p99 ${round(a.loop.p50)} / ${round(a.loop.p99)}` : ''}`,
        baselines: `(b) ${fmt(b)}; (c) ${fmt(c)}`,
        ratios: `p99 a/b ${round(a.p99 / b.p99, 2)}; a/c ${round(a.p99 / c.p99, 2)}`,
        goal: s.goalP99Ms === undefined ? '' : goalText(`p99 < ${s.goalP99Ms} ms`, a.p99 < s.goalP99Ms),
      });
    }
    return rows;
  },
};

async function medianOfRuns(start: (url: string, n: number) => Promise<SystemUnderTest>, s: Scenario, runs: number): Promise<LatencyResult> {
  const results: LatencyResult[] = [];
  for (let i = 0; i < runs; i++) results.push(await measureAlarmLatency(start, s));
  const loops = results.flatMap((r) => (r.loop ? [r.loop] : []));
  return {
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    max: median(results.map((r) => r.max)),
    n: results.reduce((n, r) => n + r.n, 0),
    ...(loops.length > 0 ? { loop: { p50: median(loops.map((l) => l.p50)), p99: median(loops.map((l) => l.p99)) } } : {}),
  };
}

const fmt = (l: LatencyResult) => `${round(l.p50)} / ${round(l.p99)} / ${round(l.max)}`;
