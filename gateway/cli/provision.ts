// Provisioning (INTERFACES.md): `device add|remove`, `unit add`, `admin add`. Secrets and
// code keys are printed once and never stored in plain form.
import type { Command } from 'commander';
import { DEVICE_ID, DEVICE_KINDS, type DeviceKind } from '../../protocol/topics.ts';
import { MenweiError } from '../../protocol/errors.ts';
import { isCalendarDate } from '../../protocol/time.ts';
import { DeviceRegistry } from '../store/devices.ts';
import { UnitStore } from '../store/units.ts';
import { parseDataKey } from '../crypto.ts';
import { EXIT, printJson, run, say } from './io.ts';
import { withStore } from './store.ts';
import type { Db } from '../store/db.ts';

const collect = (value: string, previous: string[]) => [...previous, value];

function usage(condition: boolean, message: string): void {
  if (condition) throw new MenweiError('MW_USAGE', message);
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function registerProvisioning(program: Command): void {
  const device = program.command('device').description('provision building devices');
  device.command('add').description('provision a device; prints its secret (and a lock\'s code key) once')
    .requiredOption('--kind <kind>', `one of ${DEVICE_KINDS.join(', ')}`)
    .requiredOption('--id <id>', 'device id, [a-z0-9-]{3,64}')
    .option('--unit <code>', 'the unit it belongs to')
    .option('--config <file>', 'config file')
    .action((opts: { kind: string; id: string; unit?: string; config?: string }) => run(() => {
      usage(!(DEVICE_KINDS as readonly string[]).includes(opts.kind), `--kind must be one of ${DEVICE_KINDS.join(', ')}`);
      usage(!DEVICE_ID.test(opts.id), '--id must match [a-z0-9-]{3,64}');
      const dataKey = opts.kind === 'lock' ? parseDataKey(process.env.MENWEI_DATA_KEY) : null;
      return withStore(opts.config, (db) => {
        try {
          printJson(new DeviceRegistry(db).add({ id: opts.id, kind: opts.kind as DeviceKind, unit: opts.unit }, dataKey, Date.now()));
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
          say(`menwei: device ${opts.id} exists already`);
          return EXIT.no;
        }
        say('Shown once: store the secret in the device now.');
        return EXIT.ok;
      });
    }));
  device.command('remove').description('disable a device; its connection is closed')
    .requiredOption('--id <id>', 'device id')
    .option('--config <file>', 'config file')
    .action((opts: { id: string; config?: string }) => run(() => withStore(opts.config, (db) => {
      const found = new DeviceRegistry(db).disable(opts.id);
      printJson({ id: opts.id, removed: found });
      return found ? EXIT.ok : EXIT.no;
    })));

  program.command('unit').description('units (房源)')
    .command('add').description('add a unit')
    .requiredOption('--code <code>', 'unit code (the QR door plate)')
    .requiredOption('--address <text>', 'address')
    .option('--operator <text>', 'operator')
    .option('--officer <text>', 'responsible officer')
    .option('--unlicensed', 'the unit has no licence')
    .option('--licence-until <date>', 'licence end, YYYY-MM-DD')
    .option('--lock <id>', 'a lock of the unit (repeatable)', collect, [])
    .option('--smoke <id>', 'a smoke detector of the unit (repeatable)', collect, [])
    .option('--config <file>', 'config file')
    .action((opts: UnitOpts) => run(() => addUnit(opts)));

  program.command('admin').description('MQTT admin accounts')
    .command('add').description('an admin account with read access to menwei/#; prints its secret once')
    .requiredOption('--id <id>', 'account id')
    .option('--config <file>', 'config file')
    .action((opts: { id: string; config?: string }) => run(() => withStore(opts.config, (db) => {
      usage(!DEVICE_ID.test(opts.id), '--id must match [a-z0-9-]{3,64}');
      printJson(new DeviceRegistry(db).addAdmin(opts.id, Date.now()));
      return EXIT.ok;
    })));
}

type UnitOpts = {
  code: string; address: string; operator?: string; officer?: string; unlicensed?: boolean;
  licenceUntil?: string; lock: string[]; smoke: string[]; config?: string;
};

function addUnit(opts: UnitOpts): number {
  usage(!/^[A-Za-z0-9_-]{1,64}$/.test(opts.code), '--code must be 1–64 of [A-Za-z0-9_-]');
  usage(opts.licenceUntil !== undefined && !isCalendarDate(opts.licenceUntil), '--licence-until must be YYYY-MM-DD');
  try {
    return withStore(opts.config, (db) => insertUnit(db, opts));
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    say(`menwei: unit ${opts.code} exists already`);
    return EXIT.no;
  }
}

function insertUnit(db: Db, opts: UnitOpts): number {
  return db.transaction(() => {
    const registry = new DeviceRegistry(db);
    // A device belongs to the unit that lists it (INTERFACES.md).
    for (const id of [...opts.lock, ...opts.smoke]) {
      const found = registry.find(id);
      usage(!found, `no device ${id}: add it first with menwei device add`);
      usage(opts.lock.includes(id) && found!.kind !== 'lock', `${id} is a ${found!.kind}, not a lock`);
      usage(opts.smoke.includes(id) && found!.kind !== 'smoke', `${id} is a ${found!.kind}, not a smoke detector`);
    }
    new UnitStore(db).add({
      code: opts.code, address: opts.address, operator: opts.operator, officer: opts.officer,
      licensed: !opts.unlicensed, licenceUntil: opts.licenceUntil,
    }, Date.now());
    for (const id of [...opts.lock, ...opts.smoke]) registry.assignUnit(id, opts.code);
    printJson({ code: opts.code, locks: opts.lock, smoke: opts.smoke });
    return EXIT.ok;
  })();
}
