// Benchmark: durable end-to-end throughput (issue 3, issue 8 §1). Devices publish QoS 1
// events of about 200 B; we count events/s that reach the upstream Mosquitto, for
// Menwei (ack after commit, then upstream PUBACK) and for bare aedes with a bridge.
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import { startBareAedes, startMenwei, startMosquittoBridge, type SystemUnderTest } from './systems.ts';
import { goalText, type Benchmark } from './report.ts';
import { median, round } from './stats.ts';

export type ThroughputResult = { eventsPerSec: number; events: number; seconds: number };

export async function measureThroughput(
  start: (upstreamUrl: string, devices: number) => Promise<SystemUnderTest>,
  events: number,
  deviceCount = 20,
): Promise<ThroughputResult> {
  const upstream = await startMosquitto();
  const system = await start(upstream.url, deviceCount);
  const platform = await startSubscriber(upstream.url, system.upstreamFilter, { clean: true });
  try {
    const load = new LoadGenerator({ brokerUrl: system.brokerUrl, devices: system.devices, total: events, window: 64, padBytes: 120 });
    const started = performance.now();
    load.start();
    const counted = eventCounter();
    await platform.waitFor((m) => counted(m) >= events, 300_000);
    const seconds = (performance.now() - started) / 1000;
    await load.stop();
    return { eventsPerSec: events / seconds, events, seconds };
  } finally {
    await platform.close();
    await system.stop();
    await upstream.destroy();
  }
}

/** Counts the load's events (not Menwei's own gateway/device events), incrementally. */
export function eventCounter(): (messages: ReadonlyArray<{ topic: string }>) => number {
  let seen = 0;
  let n = 0;
  return (messages) => {
    for (; seen < messages.length; seen++) {
      const topic = messages[seen]!.topic;
      if (topic.endsWith('/device/test') || topic.endsWith('/event')) n++;
    }
    return n;
  };
}

/** Issue 8 §1: the same load through (a) Menwei, (b) bare aedes + bridge, (c) Mosquitto + bridge. */
export const throughputBench: Benchmark = {
  name: 'throughput',
  async run({ quick, runs }) {
    const events = quick ? 5_000 : 50_000;
    const systems = [startMenwei, startBareAedes, startMosquittoBridge];
    if (!quick) await measureThroughput(startMenwei, 2_000); // warm-up
    const results: number[][] = systems.map(() => []);
    for (let i = 0; i < runs; i++) {
      for (const [j, start] of systems.entries()) results[j]!.push((await measureThroughput(start, events)).eventsPerSec);
    }
    const [a, b, c] = results.map(median) as [number, number, number];
    return [{
      benchmark: `durable throughput, ${events} QoS 1 events of ~200 B, 20 devices (events/s acked upstream, median of ${runs})`,
      menwei: `${Math.round(a)}`,
      baselines: `(b) bare aedes + bridge ${Math.round(b)}; (c) Mosquitto + persistent bridge ${Math.round(c)}`,
      ratios: `a/b ${round(a / b, 2)}; a/c ${round(a / c, 2)}`,
      goal: goalText('≥ 0.5× (b)', a / b >= 0.5),
    }];
  },
};
