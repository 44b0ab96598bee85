// `menwei sim load`: the firmware-sim load generator against any gateway (issue 6). The
// devices file is the JSON lines `menwei device add` printed, one device per line.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MenweiError } from '../../protocol/errors.ts';
import { EXIT, printJson, run, say } from './io.ts';

type Opts = { broker: string; devices: string; rate: string; seconds: string; window: string };

export function registerSim(program: Command): void {
  program.command('sim').description('simulated devices (firmware-sim)')
    .command('load').description('N locks and detectors publishing QoS 1 events at a given rate; prints what was acknowledged')
    .requiredOption('--broker <url>', 'the gateway broker, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--devices <file>', 'JSON lines of {"id","kind","secret"} as printed by menwei device add')
    .option('--rate <n>', 'events per second over all devices', '1000')
    .option('--seconds <n>', 'how long to run', '10')
    .option('--window <n>', 'unacknowledged publishes per device', '16')
    .action((opts: Opts) => run(async () => {
      const devices = readDevices(opts.devices);
      const { LoadGenerator } = await import('../../firmware-sim/load.ts');
      const load = new LoadGenerator({ brokerUrl: opts.broker, devices, ratePerSec: Number(opts.rate), window: Number(opts.window) });
      say(`menwei sim load: ${devices.length} devices, ${opts.rate} events/s for ${opts.seconds} s against ${opts.broker}`);
      load.start();
      await new Promise((r) => setTimeout(r, Number(opts.seconds) * 1000));
      await load.stop();
      printJson({ devices: devices.length, sent: load.sent, acknowledged: load.acked.size, seconds: Number(opts.seconds) });
      return load.acked.size > 0 ? EXIT.ok : EXIT.no;
    }));
}

function readDevices(file: string): Array<{ id: string; secret: string; kind: 'smoke' | 'lock' }> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MenweiError('MW_INPUT_UNREADABLE', `${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const devices = text.split('\n').filter((l) => l.trim()).map((line) => JSON.parse(line) as { id?: unknown; secret?: unknown; kind?: unknown });
  const valid = devices.filter((d) => typeof d.id === 'string' && typeof d.secret === 'string' && (d.kind === 'smoke' || d.kind === 'lock'));
  if (valid.length === 0) throw new MenweiError('MW_USAGE', `${file}: no lock or smoke devices`);
  return valid as Array<{ id: string; secret: string; kind: 'smoke' | 'lock' }>;
}
