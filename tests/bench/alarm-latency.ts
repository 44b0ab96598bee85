// Benchmark: alarm latency from a detector's publish to the upstream subscriber's
// receipt (issue 3, issue 5, issue 8 §2), idle and under 5,000 events/s of other traffic.
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import type { SystemUnderTest } from './systems.ts';
import { latencySummary } from './stats.ts';

export type LatencyResult = ReturnType<typeof latencySummary>;

export async function measureAlarmLatency(
  start: (upstreamUrl: string, devices: number) => Promise<SystemUnderTest>,
  opts: { alarms: number; backgroundPerSec: number; backlog?: number },
): Promise<LatencyResult> {
  const upstream = await startMosquitto();
  const system = await start(upstream.url, 21);
  const [detector, ...fleet] = system.devices;
  const sent = new Map<number, number>();
  const samples: number[] = [];
  const platform = await startSubscriber(upstream.url, system.upstreamFilter, { clean: true });
  platform.client.on('message', (topic, payload) => {
    const seq = alarmSeq(topic, payload);
    const at = seq === undefined ? undefined : sent.get(seq);
    if (at !== undefined) samples.push(performance.now() - at);
  });
  const load = new LoadGenerator({ brokerUrl: system.brokerUrl, devices: fleet, ratePerSec: opts.backgroundPerSec, window: 64, padBytes: 120 });
  const client = await mqtt.connectAsync(system.brokerUrl, { clientId: detector!.id, username: detector!.id, password: detector!.secret, protocolVersion: 4 });
  try {
    if (opts.backlog) {
      await buildBacklog(upstream, system, fleet, opts.backlog);
      // Measure during the drain, not the reconnect: wait for the first backlog events.
      await platform.waitFor((m) => m.length > 100, 120_000);
    }
    if (opts.backgroundPerSec > 0) load.start();
    if (!opts.backlog) await new Promise((r) => setTimeout(r, 1_000)); // warm-up
    for (let seq = 1; seq <= opts.alarms; seq++) {
      // alarm then clear, so every alarm is a new one and not a counted repeat (§1.4)
      sent.set(seq * 2 - 1, performance.now());
      await client.publishAsync(`menwei/smoke/${detector!.id}/event`, JSON.stringify({ v: 1, seq: seq * 2 - 1, ts: new Date().toISOString(), type: 'alarm', value: 500 }), { qos: 1 });
      await client.publishAsync(`menwei/smoke/${detector!.id}/event`, JSON.stringify({ v: 1, seq: seq * 2, ts: new Date().toISOString(), type: 'clear' }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
    await platform.waitFor(() => samples.length >= opts.alarms, 30_000);
    return latencySummary(samples);
  } finally {
    await load.stop();
    await client.endAsync();
    await platform.close();
    await system.stop();
    await upstream.destroy();
  }
}

/**
 * An outage backlog: the upstream stops, the fleet publishes `events`, and the upstream
 * comes back. The alarms are then measured while that backlog drains.
 */
async function buildBacklog(upstream: Mosquitto, system: SystemUnderTest, fleet: SystemUnderTest['devices'], events: number): Promise<void> {
  await upstream.stop();
  const backlog = new LoadGenerator({ brokerUrl: system.brokerUrl, devices: fleet, total: events, window: 64, padBytes: 120 });
  backlog.start();
  await backlog.finished(600_000);
  await backlog.stop();
  await upstream.restart();
}

/** The detector's seq of an alarm as it arrives upstream through either system. */
function alarmSeq(topic: string, payload: Buffer): number | undefined {
  if (!topic.endsWith('/alarm/smoke') && !topic.endsWith('/smoke-0/event')) return undefined;
  const body = JSON.parse(payload.toString()) as { seq?: number; type?: string; data?: { deviceSeq?: number } };
  if (topic.endsWith('/alarm/smoke')) return body.data?.deviceSeq;
  return body.type === 'alarm' ? body.seq : undefined;
}
