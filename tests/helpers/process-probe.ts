// What a test can read of a gateway from outside (issue 9): its resident memory from
// /proc, and its Prometheus counters from /metrics, so child-process tests check the same
// figures an operator would.
import { readFileSync } from 'node:fs';

/** VmRSS of a process, in bytes. */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** The samples of one metric from GET /metrics, keyed by their label text (`source="mqtt",code="X"`). */
export async function metric(httpUrl: string, name: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const samples: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] === name) samples[match[2] ?? ''] = Number(match[3]);
  }
  return samples;
}
