// A real Mosquitto on a free loopback port, the test upstream (ARCHITECTURE.md "Mosquitto
// as the test upstream", STYLE.md §11). Tests kill and restart it to prove that the
// forwarder loses nothing when the platform broker dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MOSQUITTO = '/usr/sbin/mosquitto';
const READY_TIMEOUT_MS = 5_000;
const EXIT_TIMEOUT_MS = 5_000;

/** Brokers still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export type Mosquitto = {
  url: string;
  port: number;
  dataDir: string;
  /** SIGTERM and wait for exit: Mosquitto saves its persistence file on the way out. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing saved beyond what autosave already wrote. */
  kill(): Promise<void>;
  /** Writes the persistence file now (SIGUSR1) and waits until it is replaced. */
  save(): Promise<void>;
  /** Starts again (stopping first if running) on the same port and data dir. */
  restart(): Promise<void>;
  /** stop(), then removes the data dir if this harness made it. */
  destroy(): Promise<void>;
  logTail(lines?: number): string;
};

/** A port nobody listens on right now: bind port 0, read it, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for port 0');
  return address.port;
}

function writeConfig(dataDir: string, port: number, extra: readonly string[]): string {
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    // Running as root, Mosquitto would switch to the mosquitto user and fail to write
    // a data dir that root owns.
    'user root',
    'persistence true',
    `persistence_location ${dataDir}/`,
    // Save every second rather than every 30 min, so a SIGKILL keeps sessions. (Saving
    // on every change instead makes Mosquitto some 20 times slower.)
    'autosave_interval 1',
    // The default 1000 silently drops queued QoS 1 messages; 0 is no limit.
    'max_queued_messages 0',
    // The default 20 holds the rest in broker memory, which a SIGKILL loses; 0 is no
    // limit, so everything goes to the (local, fast) subscriber at once.
    'max_inflight_messages 0',
    // Nagle on the PUBACKs costs delayed-ACK waits of up to 40 ms per window.
    'set_tcp_nodelay true',
    `log_dest file ${join(dataDir, 'mosquitto.log')}`,
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp_format %H:%M:%S',
    ...extra,
  ];
  const file = join(dataDir, 'mosquitto.conf');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function readLog(dataDir: string): string {
  const file = join(dataDir, 'mosquitto.log');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

function tail(dataDir: string, lines = 20): string {
  const log = readLog(dataDir).trimEnd();
  return log ? log.split('\n').slice(-lines).join('\n') : '(no log yet)';
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Ready when this process has logged "running" (all listeners bound) and the port takes
 * a connection. A connect alone could reach some other process that holds the port.
 */
async function waitReady(child: ChildProcess, port: number, dataDir: string, logOffset: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`mosquitto exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${tail(dataDir)}`);
    }
    if (readLog(dataDir).slice(logOffset).includes(' running') && (await canConnect(port))) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${READY_TIMEOUT_MS} ms:\n${tail(dataDir)}`);
}

function waitExit(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto ignored ${signal} for ${EXIT_TIMEOUT_MS} ms`)), EXIT_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

function dbInode(dataDir: string): number | undefined {
  const file = join(dataDir, 'mosquitto.db');
  return existsSync(file) ? statSync(file).ino : undefined;
}

/** Mosquitto writes mosquitto.db.new and renames it, so a new inode means a finished save. */
async function save(child: ChildProcess | undefined, dataDir: string): Promise<void> {
  if (!child) throw new Error('mosquitto is not running');
  const before = dbInode(dataDir);
  child.kill('SIGUSR1');
  const deadline = Date.now() + EXIT_TIMEOUT_MS;
  while (dbInode(dataDir) === before) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not save on SIGUSR1:\n${tail(dataDir)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

class MosquittoProcess implements Mosquitto {
  readonly url: string;
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly config: string,
    private readonly ownDir: boolean,
  ) {
    this.url = `mqtt://127.0.0.1:${port}`;
  }

  async launch(): Promise<void> {
    const logOffset = readLog(this.dataDir).length;
    const child = spawn(MOSQUITTO, ['-c', this.config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.child = child;
    try {
      await waitReady(child, this.port, this.dataDir, logOffset);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  stop(): Promise<void> {
    return this.halt('SIGTERM');
  }

  kill(): Promise<void> {
    return this.halt('SIGKILL');
  }

  save(): Promise<void> {
    return save(this.child, this.dataDir);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async destroy(): Promise<void> {
    await this.stop();
    if (this.ownDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  logTail(lines?: number): string {
    return tail(this.dataDir, lines);
  }

  private async halt(signal: NodeJS.Signals): Promise<void> {
    if (this.child) await waitExit(this.child, signal);
    this.child = undefined;
  }
}

/** `extraConfig` lines are appended to the config (a bridge, for the benchmarks). */
export async function startMosquitto(opts: { port?: number; dataDir?: string; extraConfig?: string[] } = {}): Promise<Mosquitto> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'menwei-mosquitto-'));
  mkdirSync(dataDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const broker = new MosquittoProcess(port, dataDir, writeConfig(dataDir, port, opts.extraConfig ?? []), opts.dataDir === undefined);
  try {
    await broker.launch();
  } catch (err) {
    await broker.destroy();
    throw err;
  }
  return broker;
}
