// `menwei id check NUMBER` (INTERFACES.md; PROTOCOL.md §6).
import type { Command } from 'commander';
import { checkIdNumber } from '../../protocol/id-number.ts';
import { localDate } from '../../protocol/time.ts';
import { EXIT, printJson, run } from './io.ts';
import { loadConfig } from '../config/load.ts';

export function registerIdCheck(program: Command): void {
  program.command('id').description('ID number tools')
    .command('check').description('validate a resident ID number (GB 11643)')
    .argument('<number>', 'the 18-character ID number')
    .option('--config <file>', 'config file (for the building time zone)')
    .action((number: string, opts: { config?: string }) => run(() => {
      const { timezone } = loadConfig(opts.config);
      const result = checkIdNumber(number, localDate(Date.now(), timezone));
      if (!result.ok) {
        printJson({ ok: false, reason: result.reason });
        return EXIT.no;
      }
      const { id, birth, gender, region, kind } = result;
      printJson({ ok: true, id, birth, gender, region, kind });
      return EXIT.ok;
    }));
}
