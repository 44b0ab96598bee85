// Credentials at rest (PROTOCOL.md §1 Identity, ARCHITECTURE.md invariants 7–8, issue 9):
// after devices connect, a staff member logs in with a password and swipes a badge, and
// codes are issued, neither menwei.db nor its WAL or shm holds a device secret, a lock's
// code key, a staff token, password, badge, session id or CSRF token, a code's digits,
// or the data key itself, in any form they travel in. (Personal data at rest is
// tests/integration/personal-data-at-rest.test.ts.)
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, STAFF, UNIT, cardFor, startScene, type Scene } from '../helpers/checkin-setup.ts';
import { isoTime } from '../../protocol/time.ts';

let scene: Scene | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await scene?.stop({ keepData: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  [scene, dataDir] = [undefined, undefined];
});

type Secret = [what: string, bytes: Buffer];
const text = (what: string, value: string): Secret[] => [[what, Buffer.from(value, 'utf8')]];

/** The names of the secrets found in any file of the data directory. */
function found(dir: string, secrets: Secret[]): string[] {
  const files = readdirSync(dir).filter((f) => f.startsWith('menwei.db'));
  expect(files).toEqual(expect.arrayContaining(['menwei.db']));
  const contents = files.map((file) => [file, readFileSync(join(dir, file))] as const);
  // A control: what rests in plain form is found, so the scan does see the data.
  expect(contents.some(([, bytes]) => bytes.includes(Buffer.from('lock-rest')))).toBe(true);
  return contents.flatMap(([file, bytes]) => secrets.filter(([, s]) => bytes.includes(s)).map(([what]) => `${what} in ${file}`));
}

describe('credentials at rest', () => {
  it('no secret, key, token, password, badge, session or code rests in the database files', async () => {
    const s = (scene = await startScene());
    dataDir = s.tg.dataDir;
    const lock = s.tg.provision('lock', 'lock-rest', UNIT);
    const smoke = s.tg.provision('smoke', 'smoke-rest', UNIT);
    for (const device of [lock, smoke]) (await s.tg.connectDevice(device.id, device.secret)).end(true);
    const bob = s.f.api.staff.add({ id: 'bob', name: 'Bob', days: 1, badge: '80056789' }, s.clock.now())!;
    const login = await fetch(`http://127.0.0.1:${s.tg.ports.http}/api/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ staffId: 'bob', password: bob.password }),
    });
    expect(login.status).toBe(200);
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const sessionId = /menwei_session=([^;]+)/.exec(login.headers.get('set-cookie')!)![1]!;
    s.swipe(STAFF);
    const staffCode = await s.post('/api/staff-codes', { unit: UNIT, staffId: STAFF });
    expect(staffCode.status).toBe(201);
    const read = s.verifiedRead(cardFor('11010519491231002X'));
    const stay = await s.post('/api/checkins', { readId: read, unit: UNIT, expectedCheckout: isoTime(s.clock.now() + 2 * DAY) });
    expect(stay.status).toBe(201);
    const codes = [staffCode, stay].flatMap((r) => (r.body.codes as Array<{ code: string }>).map((c) => c.code));

    const secrets: Secret[] = [
      ...text('the lock secret', lock.secret), [`the lock secret's bytes`, Buffer.from(lock.secret, 'base64url')],
      ...text('the smoke secret', smoke.secret),
      ...text('the lock code key (hex)', lock.codeKey!), ['the lock code key', Buffer.from(lock.codeKey!, 'hex')],
      ...text('the scene staff token', s.token), ...text('bob\'s token', bob.token), ...text('bob\'s password', bob.password),
      ...text('bob\'s badge', '80056789'), ...text('the scene staff badge', '80012345'),
      ...text('the session id', sessionId), ...text('the CSRF token', csrfToken),
      ...codes.map((c) => text(`code ${c.slice(0, 2)}******`, c)[0]!),
      ['the data key', s.gw.dataKey], ...text('the data key (hex)', s.gw.dataKey.toString('hex')),
    ];
    expect(codes).toHaveLength(4); // a code per lock of the unit: its own and lock-rest
    // While running, the WAL holds the recent commits; after a clean stop, the main file.
    expect(found(dataDir, secrets)).toEqual([]);
    await s.stop({ keepData: true });
    scene = undefined;
    expect(found(dataDir, secrets)).toEqual([]);
  });
});
