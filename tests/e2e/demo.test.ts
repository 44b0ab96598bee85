// `menwei demo` as a process, the way CI and a person run it (INTERFACES.md; npm start):
// the whole simulated building, the ten scenario steps in the stdout feed, and a clean
// exit that leaves no temp directory or socat behind.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;
const STEPS = Array.from({ length: 10 }, (_, i) => i + 1);

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `menwei demo ARGS`; `onLine` may signal the child, e.g. SIGINT once the scenario is done. */
function demo(args: string[], onLine?: (line: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const line of chunk.split('\n')) if (line) onLine?.(line, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const killer = setTimeout(() => child.kill('SIGKILL'), 80_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(killer);
    resolve({ code, stdout, stderr });
  }));
}

/** The step lines `HH:MM:SS.mmm [n] zh / en`, by step number; failed ones are marked ✗, skipped ones –. */
function stepLines(stdout: string): Map<number, string> {
  const lines = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const m = /^\d\d:\d\d:\d\d\.\d{3} ([✗–] )?\[(\d+)\] /.exec(line);
    if (m) lines.set(Number(m[2]), line);
  }
  return lines;
}

/** All ten steps are in the feed, none failed or skipped. */
function expectTenPassedSteps(stdout: string): Map<number, string> {
  const steps = stepLines(stdout);
  expect([...steps.keys()]).toEqual(STEPS);
  for (const line of steps.values()) expect(line).not.toMatch(/ [✗–] \[/);
  return steps;
}

const demoDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('menwei-demo-'));

describe('menwei demo', () => {
  it('--scenario-only plays the ten steps over the serial reader and Modbus bus on socat ptys, then exits 0', async () => {
    const before = new Set(demoDirs());
    const run = await demo(['--scenario-only']);
    expect(run.code, run.stderr).toBe(0);
    const steps = expectTenPassedSteps(run.stdout);
    expect(run.stdout).toContain('socat');
    expect(steps.get(3)).toMatch(/Check-in accepted, code issued: \d{4} \d{4} \(HL-0301, until /);
    expect(steps.get(5)).toContain('FACE_MISMATCH');
    expect(steps.get(8)).toMatch(/reached the platform in \d+ ms/);
    expect(steps.get(8)).toContain('Modbus');
    expect(steps.get(9)).toMatch(/a backlog of \d+ events drained/);
    expect(run.stdout).toContain('seq in order within every class');
    expect(demoDirs().filter((d) => !before.has(d))).toEqual([]);
  }, 90_000);

  it('without a pty uses the network reader, keeps running after the scenario, and stops cleanly on Ctrl-C', async () => {
    let interrupted = false;
    const run = await demo(['--no-socat'], (line, child) => {
      if (interrupted || !line.includes('Ctrl-C')) return;
      interrupted = true;
      child.kill('SIGINT');
    });
    expect(interrupted, run.stdout).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('the network reader over MQTT');
    expectTenPassedSteps(run.stdout);
    expect(run.stdout).toMatch(/console: http:\/\/127\.0\.0\.1:\d+\//);
    expect(run.stdout).toMatch(/Authorization: Bearer \S+/);
  }, 90_000);
});
