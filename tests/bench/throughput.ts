// Benchmark: durable end-to-end throughput (issue 3, issue 8 §1). Devices publish QoS 1
// events of about 200 B; we count events/s that reach the upstream Mosquitto, for
// Menwei (ack after commit, then upstream PUBACK) and for bare aedes with a bridge.
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import type { SystemUnderTest } from './systems.ts';

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
