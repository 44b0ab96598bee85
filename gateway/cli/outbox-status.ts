// `menwei outbox status` (INTERFACES.md).
import type { Command } from 'commander';
import { SqliteOutbox } from '../outbox/sqlite-outbox.ts';
import { systemClock } from '../clock.ts';
import { printJson, run } from './io.ts';
import { withStore } from './store.ts';

export function registerOutboxStatus(program: Command): void {
  program.command('outbox').description('the upstream outbox')
    .command('status').description('pending events per class, delivered and dropped counts')
    .option('--config <file>', 'config file')
    .action((opts: { config?: string }) => run(() => withStore(opts.config, (db, config) => {
      const outbox = new SqliteOutbox(db, {
        gatewayId: config.gatewayId, bootId: 'cli', clock: systemClock, maxBytes: config.outbox.maxBytes, deliveredRetentionMs: 0,
      });
      printJson(outbox.status());
    })));
}
