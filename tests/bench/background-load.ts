// Starts tests/bench/load-process.ts as a child and stops it.
import { spawn } from 'node:child_process';
import type { LoadOptions } from '../../firmware-sim/load.ts';

export type BackgroundLoad = { stop(): Promise<void> };

export function startBackgroundLoad(opts: LoadOptions): BackgroundLoad {
  const script = new URL('./load-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
