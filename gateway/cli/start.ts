// `menwei start [--config FILE]` (INTERFACES.md): runs the gateway until SIGTERM/SIGINT,
// then stops it cleanly (in-flight commits finish, the upstream session is closed).
import type { Command } from 'commander';
import { loadConfig } from '../config/load.ts';
import { parseDataKey } from '../crypto.ts';
import type { Gateway } from '../main.ts';
import { run, say } from './io.ts';

export async function runUntilSignal(gateway: Gateway): Promise<void> {
  await gateway.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      say(`menwei: ${signal}, stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await gateway.stop();
}

export function registerStart(program: Command): void {
  program.command('start').description('run the gateway')
    .option('--config <file>', 'config file (or MENWEI_CONFIG); embedded defaults without one')
    .action((opts: { config?: string }) => run(async () => {
      const config = loadConfig(opts.config);
      // INTERFACES.md: without MENWEI_DATA_KEY, start refuses to run.
      const dataKey = parseDataKey(process.env.MENWEI_DATA_KEY);
      // Loaded here, so light commands do not pay for the broker, HTTP and MQTT stacks.
      const { Gateway } = await import('../main.ts');
      await runUntilSignal(new Gateway(config, { dataKey }));
    }));
}
