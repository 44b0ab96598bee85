// What a fault test reads from a gateway running as a child process: its resident
// memory, /healthz and /metrics (INTERFACES.md HTTP API), and a polled wait.
import { readFileSync } from 'node:fs';

export type Health = { ok: boolean; upstream: string; outboxPending: number; oldestPendingAgeS: number; diskFull?: boolean };

/** VmRSS of a process, in MB. */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) / 1024;
}

/** /healthz, whatever its status code (503 while the disk is full). */
export async function health(httpUrl: string): Promise<Health> {
  return (await fetch(`${httpUrl}/healthz`)).json() as Promise<Health>;
}

/** One sample of a Prometheus metric, e.g. `metric(url, 'menwei_outbox_pending', {class: 'alarm'})`; 0 when absent. */
export async function metric(httpUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = (match[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(match[3]);
  }
  return 0;
}

/** Polls `condition` (sync or async) every 50 ms until it holds. */
export async function eventually(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
