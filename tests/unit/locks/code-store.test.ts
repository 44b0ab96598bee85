// The code store against a real SQLite database (PROTOCOL.md §1.3, CHECKIN.md "Codes",
// ARCHITECTURE.md invariants 6 and 7).
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../../gateway/store/db.ts';
import { DeviceRegistry } from '../../../gateway/store/devices.ts';
import { FakeClock } from '../../../gateway/clock.ts';
import { CodeStore, LockFullError, MAX_LIVE_CODES, type NewCode } from '../../../gateway/locks/code-store.ts';
import { hmacCode } from '../../../gateway/locks/code-generator.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

function setup() {
  const db = openDatabase(':memory:');
  const dataKey = randomBytes(32);
  const clock = new FakeClock();
  const registry = new DeviceRegistry(db);
  const keyA = registry.add({ id: 'lock-a', kind: 'lock', unit: 'U1' }, dataKey, clock.now()).codeKey!;
  registry.add({ id: 'lock-b', kind: 'lock', unit: 'U1' }, dataKey, clock.now());
  const store = new CodeStore(db, dataKey);
  const code = (over: Partial<NewCode> = {}): NewCode => ({
    lockId: 'lock-a', kind: 'stay', validFrom: clock.now(), validTo: clock.now() + DAY, uses: null, ...over,
  });
  return { db, clock, store, keyA, code };
}

describe('issuing codes (PROTOCOL.md §1.3)', () => {
  it('stores only the HMAC, lists it, and bumps the version by one', () => {
    const { db, clock, store, keyA, code } = setup();
    const issued = store.issue(code({ stayId: 's_1' }), clock.now());
    expect(issued.codeId).toMatch(/^c_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(store.version('lock-a')).toBe(1);
    expect(store.version('lock-b')).toBe(0);
    expect(store.list('lock-a', clock.now())).toEqual([
      { codeId: issued.codeId, hmac: hmacCode(keyA, issued.code), validFrom: issued.validFrom, validTo: issued.validTo, uses: null },
    ]);
    expect(JSON.stringify(db.prepare('SELECT * FROM codes').all())).not.toContain(issued.code);
  });

  it('raises the version in the same transaction: a rollback takes back both the code and the version', () => {
    const { db, clock, store, code } = setup();
    store.issue(code(), clock.now());
    expect(() => db.transaction(() => {
      store.issue(code(), clock.now());
      expect(store.version('lock-a')).toBe(2);
      throw new Error('check-in failed later');
    })()).toThrow('check-in failed later');
    expect(store.version('lock-a')).toBe(1);
    expect(store.list('lock-a', clock.now())).toHaveLength(1);
  });

  it('refuses a 201st live code with LOCK_FULL, and has room again once one is revoked', () => {
    const { clock, store, code } = setup();
    const first = store.issue(code(), clock.now());
    for (let i = 1; i < MAX_LIVE_CODES; i++) store.issue(code(), clock.now());
    expect(store.hasRoom('lock-a', clock.now())).toBe(false);
    expect(() => store.issue(code(), clock.now())).toThrow(LockFullError);
    expect(store.version('lock-a')).toBe(MAX_LIVE_CODES);
    expect(store.hasRoom('lock-b', clock.now())).toBe(true);
    store.revoke({ codeId: first.codeId }, clock.now());
    expect(store.hasRoom('lock-a', clock.now())).toBe(true);
  });

  it('refuses a window that is empty or already over, and uses below 1', () => {
    const { clock, store, code } = setup();
    expect(() => store.issue(code({ validTo: clock.now() }), clock.now())).toThrow(RangeError);
    expect(() => store.issue(code({ validFrom: clock.now() - 2 * DAY, validTo: clock.now() - DAY }), clock.now())).toThrow(RangeError);
    expect(() => store.issue(code({ uses: 0 }), clock.now())).toThrow(RangeError);
    expect(store.version('lock-a')).toBe(0);
  });
});

describe('using codes (PROTOCOL.md §1.2, §1.3)', () => {
  it('an unlimited code changes nothing when used', () => {
    const { clock, store, code } = setup();
    const issued = store.issue(code({ uses: null }), clock.now());
    const before = store.list('lock-a', clock.now());
    expect(store.use('lock-a', issued.codeId, clock.now())).toBe('unlimited');
    expect(store.version('lock-a')).toBe(1);
    expect(store.list('lock-a', clock.now())).toEqual(before);
  });

  it('a once code is used up: the version rises and it leaves the list; a second use is unknown', () => {
    const { clock, store, code } = setup();
    const issued = store.issue(code({ kind: 'once', uses: 1, validTo: clock.now() + 6 * HOUR }), clock.now());
    expect(store.use('lock-a', issued.codeId, clock.now())).toBe('used');
    expect(store.version('lock-a')).toBe(2);
    expect(store.list('lock-a', clock.now())).toEqual([]);
    expect(store.find(issued.codeId)?.state).toBe('used');
    expect(store.use('lock-a', issued.codeId, clock.now())).toBe('unknown');
    expect(store.version('lock-a')).toBe(2);
  });

  it('a finite code with uses left stays listed with one use less', () => {
    const { clock, store, code } = setup();
    const issued = store.issue(code({ uses: 3 }), clock.now());
    expect(store.use('lock-a', issued.codeId, clock.now())).toBe('used');
    expect(store.list('lock-a', clock.now())[0]?.uses).toBe(2);
    expect(store.version('lock-a')).toBe(2);
  });

  it('a code of another lock, an unknown id and an expired code are unknown', () => {
    const { clock, store, code } = setup();
    const issued = store.issue(code({ uses: 1, validTo: clock.now() + HOUR }), clock.now());
    expect(store.use('lock-b', issued.codeId, clock.now())).toBe('unknown');
    expect(store.use('lock-a', 'c_NOPE', clock.now())).toBe('unknown');
    clock.advance(HOUR);
    expect(store.use('lock-a', issued.codeId, clock.now())).toBe('unknown');
    expect(store.version('lock-a')).toBe(1);
  });
});

describe('revocation and expiry (CHECKIN.md "Codes")', () => {
  it('revoking a stay bumps each affected lock once, however many of its codes it ends', () => {
    const { clock, store, code } = setup();
    store.issue(code({ stayId: 's_1' }), clock.now());
    store.issue(code({ stayId: 's_1' }), clock.now());
    store.issue(code({ lockId: 'lock-b', stayId: 's_1' }), clock.now());
    store.issue(code({ stayId: 's_2' }), clock.now());
    const revoked = store.revoke({ stayId: 's_1' }, clock.now());
    expect(revoked.count).toBe(3);
    expect(revoked.lockIds.sort()).toEqual(['lock-a', 'lock-b']);
    expect(store.version('lock-a')).toBe(4);
    expect(store.version('lock-b')).toBe(2);
    expect(store.list('lock-a', clock.now())).toHaveLength(1);
    expect(store.revoke({ stayId: 's_1' }, clock.now()).count).toBe(0);
    expect(store.version('lock-a')).toBe(4);
  });

  it('revoking by locks ends every live code of those locks', () => {
    const { clock, store, code } = setup();
    store.issue(code(), clock.now());
    store.issue(code({ lockId: 'lock-b' }), clock.now());
    expect(store.revoke({ lockIds: ['lock-a', 'lock-b'] }, clock.now()).count).toBe(2);
    expect(store.list('lock-a', clock.now())).toEqual([]);
    expect(store.list('lock-b', clock.now())).toEqual([]);
  });

  it('codes past validTo expire once, with one version bump per lock', () => {
    const { clock, store, code } = setup();
    store.issue(code({ validTo: clock.now() + HOUR }), clock.now());
    store.issue(code({ validTo: clock.now() + HOUR }), clock.now());
    store.issue(code({ validTo: clock.now() + DAY }), clock.now());
    clock.advance(HOUR);
    expect(store.list('lock-a', clock.now())).toHaveLength(1);
    expect(store.expireDue(clock.now())).toEqual(['lock-a']);
    expect(store.version('lock-a')).toBe(4);
    expect(store.expireDue(clock.now())).toEqual([]);
    expect(store.version('lock-a')).toBe(4);
  });

  it('a backward wall-clock jump never brings back a used, revoked or expired code (invariant 6)', () => {
    const { clock, store, code } = setup();
    const used = store.issue(code({ kind: 'once', uses: 1 }), clock.now());
    const revoked = store.issue(code(), clock.now());
    const expired = store.issue(code({ validTo: clock.now() + HOUR }), clock.now());
    const kept = store.issue(code(), clock.now());
    store.use('lock-a', used.codeId, clock.now());
    store.revoke({ codeId: revoked.codeId }, clock.now());
    clock.advance(HOUR);
    store.expireDue(clock.now());
    const version = store.version('lock-a');
    clock.jumpWall(-DAY);
    expect(store.list('lock-a', clock.now()).map((c) => c.codeId)).toEqual([kept.codeId]);
    for (const gone of [used, revoked, expired]) expect(store.use('lock-a', gone.codeId, clock.now())).toBe('unknown');
    expect(store.expireDue(clock.now())).toEqual([]);
    expect(store.version('lock-a')).toBe(version);
    expect(store.live(['lock-a'], clock.now()).map((c) => c.codeId)).toEqual([kept.codeId]);
  });
});
