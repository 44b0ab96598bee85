// The `menwei` CLI (INTERFACES.md). Every subcommand has --help; usage errors exit 2.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.ts';
import { registerIdCheck } from './id-check.ts';
import { registerSamDecode } from './sam-decode.ts';
import { registerProvisioning } from './provision.ts';
import { registerStart } from './start.ts';
import { registerOutboxStatus } from './outbox-status.ts';
import { registerDemo } from './demo.ts';
import { registerSim } from './sim.ts';
import { registerStaff } from './staff.ts';
import { registerUnitQr } from './unit-qr.ts';
import { EXIT } from './io.ts';

const program = new Command('menwei')
  .description('Menwei (门卫): the building gateway for rental apartments and small hotels')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

registerStart(program);
registerDemo(program);
registerSim(program);
registerIdCheck(program);
registerSamDecode(program);
registerProvisioning(program);
registerUnitQr(program);
registerStaff(program);
registerOutboxStatus(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // `--help` and `--version` succeed; help shown because a subcommand is missing is a usage error.
  const asked = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
  process.exitCode = asked ? EXIT.ok : EXIT.usage;
}
