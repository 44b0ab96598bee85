// `menwei demo` (INTERFACES.md; `npm start`): a gateway on embedded defaults, free
// loopback ports, a temporary data directory and a temporary data key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { parseConfig } from '../config/load.ts';
import { run, say } from './io.ts';
import { runUntilSignal } from './start.ts';

export function registerDemo(program: Command): void {
  program.command('demo').description('a simulated building on free loopback ports (npm start)')
    .option('--scenario-only', 'start, check that the gateway runs, and exit (for CI)')
    .action((opts: { scenarioOnly?: boolean }) => run(async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'menwei-demo-'));
      const config = parseConfig({ gatewayId: 'gw-demo', dataDir, broker: { port: 0 }, console: { port: 0 } });
      const { Gateway } = await import('../main.ts');
      const gateway = new Gateway(config, { dataKey: randomBytes(32) });
      try {
        if (opts.scenarioOnly) {
          const ports = await gateway.start();
          say(`menwei demo: gateway ran (broker ${ports.broker}, http ${ports.http})`);
          await gateway.stop();
          return 0;
        }
        say(`menwei demo: data in ${dataDir}; Ctrl-C to stop`);
        await runUntilSignal(gateway);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }));
}
