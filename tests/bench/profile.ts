// `tsx tests/bench/profile.ts`: runs the durable-throughput load against Menwei with
// --cpu-prof and prints the functions with the most self time (issue 8: profile, then
// fix the top cost). The .cpuprofile stays in the printed directory for a flame graph.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureThroughput } from './throughput.ts';
import { startMenwei } from './systems.ts';

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };

const dir = mkdtempSync(join(tmpdir(), 'menwei-prof-'));
const result = await measureThroughput((url, n) => startMenwei(url, n, ['--cpu-prof', `--cpu-prof-dir=${dir}`]), 20_000);
console.log(`${Math.round(result.eventsPerSec)} events/s while profiling; profile in ${dir}`);
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (file) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[] };
  const total = profile.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/\/work\/main\//, '')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + (node.hitCount ?? 0));
  }
  for (const [key, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
}
process.exit(0);
