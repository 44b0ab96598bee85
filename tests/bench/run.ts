// `npm run bench` runs every benchmark on loopback and prints the absolute figures of
// (a) Menwei next to (b) bare aedes with an mqtt.js bridge and (c) Mosquitto with a
// persistent bridge, measured in the same run, with the ratios. `-- --quick` is smaller.
import { cpus, totalmem } from 'node:os';
import { measureThroughput } from './throughput.ts';
import { measureAlarmLatency, type LatencyResult } from './alarm-latency.ts';
import { startBareAedes, startMenwei, startMosquittoBridge, type SystemUnderTest } from './systems.ts';
import { median, round } from './stats.ts';

type Start = (upstreamUrl: string, devices: number) => Promise<SystemUnderTest>;

const quick = process.argv.includes('--quick');
const runs = quick ? 1 : 3;
const systems: Start[] = [startMenwei, startBareAedes, startMosquittoBridge];
const rows: string[][] = [];

const ratio = (a: number, b: number) => `${round(a / b, 2)}`;
const fmt = (l: LatencyResult) => `${round(l.p50)} / ${round(l.p99)} / ${round(l.max)}`;

async function throughput(): Promise<void> {
  const events = quick ? 10_000 : 50_000;
  await measureThroughput(startMenwei, 2_000); // warm-up
  const results: number[][] = systems.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [j, start] of systems.entries()) results[j]!.push((await measureThroughput(start, events)).eventsPerSec);
  }
  const [a, b, c] = results.map(median) as [number, number, number];
  rows.push([`durable throughput, ${events} QoS 1 events of ~200 B, 20 devices (events/s, median of ${runs})`,
    `${Math.round(a)}`, `${Math.round(b)}`, `${Math.round(c)}`, ratio(a, b), ratio(a, c)]);
}

async function latency(label: string, opts: { alarms: number; backgroundPerSec: number; backlog?: number }): Promise<void> {
  const results: LatencyResult[] = [];
  for (const start of systems) results.push(await measureAlarmLatency(start, opts));
  const [ra, rb, rc] = results as [LatencyResult, LatencyResult, LatencyResult];
  rows.push([`${label} (ms p50 / p99 / max)`, fmt(ra), fmt(rb), fmt(rc), ratio(ra.p99, rb.p99), ratio(ra.p99, rc.p99)]);
}

await throughput();
await latency('alarm latency, idle', { alarms: quick ? 50 : 200, backgroundPerSec: 0 });
await latency('alarm latency under 5,000 events/s', { alarms: quick ? 50 : 200, backgroundPerSec: 5_000 });
const backlog = quick ? 20_000 : 100_000;
await latency(`alarm latency while a ${backlog}-event backlog drains`, { alarms: quick ? 30 : 100, backgroundPerSec: 0, backlog });

const header = ['benchmark', '(a) Menwei', '(b) bare aedes + bridge', '(c) Mosquitto + bridge', 'a/b', 'a/c'];
console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}${quick ? ', --quick' : ''}\n`);
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exit(0);
