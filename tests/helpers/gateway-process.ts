// The gateway as a child process (`menwei start`), so tests can SIGKILL it the way a
// power cut would, and restart it on the same data directory and ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './mosquitto.ts';
import { recordSecrets, testLogLevel } from './log-scan.ts';

const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export type GatewayProcess = {
  brokerUrl: string;
  httpUrl: string;
  dataDir: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
  pid(): number | undefined;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  destroy(): Promise<void>;
  /** Runs a `menwei` CLI command against the same config; returns stdout lines as JSON. */
  cli(args: string[]): Promise<unknown[]>;
};

export async function gatewayProcess(config: Record<string, unknown> = {}, opts: { nodeArgs?: string[] } = {}): Promise<GatewayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'menwei-proc-'));
  const brokerPort = await freePort();
  const httpPort = await freePort();
  const configPath = join(dataDir, 'menwei.json');
  writeFileSync(configPath, JSON.stringify({ gatewayId: 'gw-test', dataDir, broker: { port: brokerPort }, console: { port: httpPort }, ...config }));
  const env = { ...process.env, MENWEI_DATA_KEY: randomBytes(32).toString('hex'), MENWEI_LOG_LEVEL: testLogLevel('warn') };
  let child: ChildProcess | null = null;
  let exited: Promise<number | null> = Promise.resolve(null);

  const start = async () => {
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, 'start', '--config', configPath], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    const proc = child;
    exited = new Promise((resolve) => proc.once('exit', (code) => { children.delete(proc); resolve(code); }));
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    await waitForHealth(`http://127.0.0.1:${httpPort}/healthz`, () => stderr, exited);
  };
  const signal = async (sig: NodeJS.Signals) => {
    child?.kill(sig);
    const code = await exited;
    child = null;
    return code;
  };
  return {
    brokerUrl: `mqtt://127.0.0.1:${brokerPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    dataDir,
    configPath,
    env,
    pid: () => child?.pid,
    start,
    kill: async () => void (await signal('SIGKILL')),
    stop: () => signal('SIGTERM'),
    destroy: async () => {
      await signal('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
    cli: (args) => runCli([...args, '--config', configPath], env),
  };
}

async function waitForHealth(url: string, stderr: () => string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const until = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < until && !gone) {
    try {
      if ((await fetch(url)).ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gateway did not become healthy: ${stderr().slice(-2000)}`);
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`menwei ${args.join(' ')} exited ${code}: ${err}`));
      resolve(recordSecrets(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))));
    });
  });
}
