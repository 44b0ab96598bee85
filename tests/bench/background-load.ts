// Starts tests/bench/load-process.ts as a child and stops it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LoadOptions } from '../../firmware-sim/load.ts';

export type BackgroundLoad = {
  /** Resolves once the system under test has acknowledged a second's worth of the load. */
  flowing: Promise<void>;
  stop(): Promise<void>;
};

export function startBackgroundLoad(opts: LoadOptions): BackgroundLoad {
  const script = new URL('./load-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const flowing = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`background load exited ${code} before it was flowing`)));
  });
  return {
    flowing,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
