// `menwei staff add|revoke` (INTERFACES.md). The token and password are printed once and
// stored only hashed. Revocation writes the shared database, which the running gateway
// reads on every request, so it takes effect at once; the gateway also reports it
// upstream as audit/token_revoked within seconds (this process never touches the outbox).
import type { Command } from 'commander';
import { MenweiError } from '../../protocol/errors.ts';
import { BADGE_MAX_DIGITS } from '../../protocol/badge.ts';
import { StaffStore, badgeKeyFrom } from '../staff/staff-store.ts';
import { parseDataKey } from '../crypto.ts';
import { EXIT, printJson, run, say } from './io.ts';
import { withStore } from './store.ts';

const STAFF_ID = /^[A-Za-z0-9_-]{1,64}$/;
const BADGE = new RegExp(`^\\d{1,${BADGE_MAX_DIGITS}}$`);
const MAX_DAYS = 3650;

type AddOpts = { id: string; name: string; badge?: string; days: string; config?: string };

function usage(condition: boolean, message: string): void {
  if (condition) throw new MenweiError('MW_USAGE', message);
}

export function registerStaff(program: Command): void {
  const staff = program.command('staff').description('front-desk staff: API tokens and console passwords');
  staff.command('add').description('add a staff member; prints the API token and console password once')
    .requiredOption('--id <id>', 'staff id, 1–64 of [A-Za-z0-9_-]')
    .requiredOption('--name <name>', 'display name')
    .option('--badge <digits>', 'the digits of the staff badge (needs MENWEI_DATA_KEY)')
    .option('--days <n>', 'days until the API token expires', '90')
    .option('--config <file>', 'config file')
    .action((opts: AddOpts) => run(() => addStaff(opts)));
  staff.command('revoke').description("revoke a staff member's tokens and sessions at once")
    .requiredOption('--id <id>', 'staff id')
    .option('--config <file>', 'config file')
    .action((opts: { id: string; config?: string }) => run(() => withStore(opts.config, (db) => {
      const revoked = new StaffStore(db, null).revoke(opts.id, Date.now());
      printJson({ id: opts.id, revoked: revoked !== undefined });
      if (!revoked) return EXIT.no;
      say(`Revoked ${revoked.tokens} token(s) and ${revoked.sessions} session(s); the password no longer logs in.`);
      return EXIT.ok;
    })));
}

function addStaff(opts: AddOpts): number {
  const days = Number(opts.days);
  usage(!STAFF_ID.test(opts.id), '--id must be 1–64 of [A-Za-z0-9_-]');
  usage(opts.name.trim().length === 0 || opts.name.length > 64, '--name must be 1–64 characters');
  usage(opts.badge !== undefined && !BADGE.test(opts.badge), `--badge must be 1–${BADGE_MAX_DIGITS} digits`);
  usage(!Number.isInteger(days) || days < 1 || days > MAX_DAYS, `--days must be a whole number from 1 to ${MAX_DAYS}`);
  // Badges are hashed with a key derived from the data key (gateway/store/schema-staff.ts).
  const badgeKey = opts.badge === undefined ? null : badgeKeyFrom(parseDataKey(process.env.MENWEI_DATA_KEY));
  return withStore(opts.config, (db) => {
    let created;
    try {
      created = new StaffStore(db, badgeKey).add({ id: opts.id, name: opts.name.trim(), badge: opts.badge, days }, Date.now());
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      say('menwei: that badge belongs to another staff member');
      return EXIT.no;
    }
    if (!created) {
      say(`menwei: staff ${opts.id} exists already (revoke it first to issue new credentials)`);
      return EXIT.no;
    }
    printJson(created);
    say('Shown once: hand the token to the integrator and the password to the staff member now.');
    return EXIT.ok;
  });
}
