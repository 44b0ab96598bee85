// `npm run bench` runs every benchmark on loopback and prints one table: Menwei's
// absolute figures next to its baselines measured in the same run, the ratios and the
// goals of issue 8. `-- --quick` is a smaller run; `-- --only name,name` picks some.
import { cpus, totalmem } from 'node:os';
import type { Benchmark, BenchOptions, BenchRow } from './report.ts';
import { throughputBench } from './throughput.ts';
import { alarmLatencyBench } from './alarm-latency.ts';
import { checkinLatencyBench } from './checkin-latency.ts';
import { connectionsBench } from './connections.ts';
import { drainBench } from './drain.ts';
import { crashLossBench } from './crash-loss.ts';

const benchmarks: Benchmark[] = [throughputBench, alarmLatencyBench, drainBench, crashLossBench, checkinLatencyBench, connectionsBench];

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]?.split(',')) : null;
const opts: BenchOptions = { quick, runs: quick ? 1 : 3 };

const rows: BenchRow[] = [];
for (const bench of benchmarks) {
  if (only && !only.has(bench.name)) continue;
  const started = performance.now();
  const produced = await bench.run(opts);
  rows.push(...produced);
  console.error(`${bench.name}: ${Math.round((performance.now() - started) / 1000)} s`);
}

const header = ['benchmark', 'Menwei', 'baselines, same run', 'ratio', 'goal'];
console.log(`\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}${quick ? ', --quick' : ''}\n`);
console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${[r.benchmark, r.menwei, r.baselines, r.ratios, r.goal].join(' | ')} |`);
process.exit(0);
