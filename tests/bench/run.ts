// `npm run bench` runs every benchmark on loopback and prints the absolute figures next
// to the baselines measured in the same run, with ratios. `-- --quick` is a smaller run.
import { cpus, totalmem } from 'node:os';
import { measureThroughput } from './throughput.ts';
import { measureAlarmLatency } from './alarm-latency.ts';
import { startBareAedes, startMenwei } from './systems.ts';
import { median, round } from './stats.ts';

const quick = process.argv.includes('--quick');
const runs = quick ? 1 : 3;
const rows: string[][] = [];

async function throughput(): Promise<void> {
  const events = quick ? 10_000 : 50_000;
  const menwei: number[] = [];
  const aedes: number[] = [];
  await measureThroughput(startMenwei, 2_000); // warm-up
  for (let i = 0; i < runs; i++) {
    menwei.push((await measureThroughput(startMenwei, events)).eventsPerSec);
    aedes.push((await measureThroughput(startBareAedes, events)).eventsPerSec);
  }
  const a = median(menwei);
  const b = median(aedes);
  rows.push([`durable throughput, ${events} QoS 1 events of ~200 B, 20 devices (events/s, median of ${runs})`, `${Math.round(a)}`, `${Math.round(b)}`, `${round(a / b, 2)}`]);
}

async function alarmLatency(): Promise<void> {
  const alarms = quick ? 50 : 200;
  for (const background of [0, 5_000]) {
    const menwei = await measureAlarmLatency(startMenwei, { alarms, backgroundPerSec: background });
    const aedes = await measureAlarmLatency(startBareAedes, { alarms, backgroundPerSec: background });
    const label = background ? `alarm latency under ${background} events/s (ms p50 / p99 / max)` : 'alarm latency, idle (ms p50 / p99 / max)';
    const fmt = (l: { p50: number; p99: number; max: number }) => `${round(l.p50)} / ${round(l.p99)} / ${round(l.max)}`;
    rows.push([label, fmt(menwei), fmt(aedes), `${round(menwei.p99 / aedes.p99, 2)} (p99)`]);
  }
}

async function alarmDuringDrain(): Promise<void> {
  const backlog = quick ? 20_000 : 100_000;
  const alarms = quick ? 30 : 100;
  const menwei = await measureAlarmLatency(startMenwei, { alarms, backgroundPerSec: 0, backlog });
  const aedes = await measureAlarmLatency(startBareAedes, { alarms, backgroundPerSec: 0, backlog });
  const fmt = (l: { p50: number; p99: number; max: number }) => `${round(l.p50)} / ${round(l.p99)} / ${round(l.max)}`;
  rows.push([`alarm latency while a ${backlog}-event backlog drains (ms p50 / p99 / max)`, fmt(menwei), fmt(aedes), `${round(menwei.p99 / aedes.p99, 2)} (p99)`]);
}

await throughput();
await alarmLatency();
await alarmDuringDrain();
const header = ['benchmark', 'Menwei', 'bare aedes + bridge', 'ratio'];
console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}${quick ? ', --quick' : ''}\n`);
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
process.exit(0);
