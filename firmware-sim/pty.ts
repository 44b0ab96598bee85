// A pseudo-terminal pair made by socat, so the real serialport binding is exercised
// (STYLE.md §3). ARCHITECTURE.md "Serial and HID": the ptys need raw,echo=0. Each end
// is a stable symlink (socat's link= option) in a private temp dir, so unplug() (socat
// killed: both ends hang up) and replug() (socat restarted) keep the same paths, as a
// USB adapter that comes back under the same udev name.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type PtyPair = {
  /** Stable path of one end (a symlink to its /dev/pts device). */
  a: string;
  /** Stable path of the other end. */
  b: string;
  /** The /dev/pts devices behind a and b; they change on every replug. */
  devices(): [string, string];
  /** Kills socat: both ends hang up and the links go away. */
  unplug(): Promise<void>;
  /** Starts socat again on the same link paths. */
  replug(): Promise<void>;
  /** Kills socat and removes the temp dir. */
  close(): Promise<void>;
};

const SOCAT = process.env.MENWEI_SOCAT ?? 'socat';
const READY_TIMEOUT_MS = 5_000;
const PTY_LINE = /PTY is (\/dev\/\S+)/g;

/** socat processes still running, killed if the process exits without closing them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const proc of live) proc.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export async function openPtyPair(): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  let socat = await startSocat(a, b);
  const unplug = async (): Promise<void> => stopSocat(socat.child);
  return {
    a,
    b,
    devices: () => socat.devices,
    unplug,
    replug: async () => {
      await unplug();
      socat = await startSocat(a, b);
    },
    close: async () => {
      await unplug();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Socat = { child: ChildProcess; devices: [string, string] };

/** Resolves once socat has made both ptys and entered its transfer loop (so the links exist). */
function startSocat(a: string, b: string): Promise<Socat> {
  // A link left by a socat that was SIGKILLed would make the new socat fail.
  rmSync(a, { force: true });
  rmSync(b, { force: true });
  const child = spawn(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  return new Promise((resolve, reject) => {
    let stderr = '';
    const onExit = (code: number | null): void => fail(`exited with ${code}`);
    const onStderr = (text: string): void => {
      stderr += text;
      const [devA, devB] = Array.from(stderr.matchAll(PTY_LINE), (m) => m[1] ?? '');
      if (devA === undefined || devB === undefined || !stderr.includes('starting data transfer loop')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      // Later notices are not needed, but the pipe must keep draining.
      child.stderr?.off('data', onStderr).resume();
      resolve({ child, devices: [devA, devB] });
    };
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`socat: ${why}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.on('error', (err) => fail(err.message));
    child.on('exit', onExit);
    child.stderr?.setEncoding('utf8').on('data', onStderr);
  });
}

/** SIGTERM, so socat removes its links; resolves when it has exited. */
function stopSocat(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
