// The platform's commands about bookings, stays and units (PROTOCOL.md §2.2), applied as
// the forwarder applies them (inside a commit, answered by a `reply` event), and the
// automatic check-out at the end of a stay window (CHECKIN.md Codes), on a FakeClock.
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../protocol/time.ts';
import { DAY, HOUR, LOCK, UNIT, LI_SI, WANG_WU, ZHANG_SAN, sceneEachTest, type ApiReply, type Scene } from '../helpers/checkin-setup.ts';

const fresh = sceneEachTest();

const guests = [ZHANG_SAN, LI_SI].map((g) => ({ name: g.name, idNumber: g.idNumber }));
const upsert = (s: Scene, to: number) => s.command('booking.upsert', { bookingId: 'bk-1', unit: UNIT, from: isoTime(s.clock.now() - HOUR), to: isoTime(to), guests });
const onBooking = (s: Scene, card: typeof ZHANG_SAN) => s.post('/api/checkins', { readId: s.verifiedRead(card), unit: UNIT, bookingId: 'bk-1' });
const codeStates = (s: Scene, stayId: string) =>
  (s.gw.db.prepare('SELECT state FROM codes WHERE stay_id = ?').all(stayId) as Array<{ state: string }>).map((r) => r.state);
const stayOf = (res: ApiReply) => res.body.stayId as string;

describe('booking.cancel', () => {
  it('refuses the next check-in on the booking with BOOKING_CANCELLED and leaves the open stay open', async () => {
    const s = await fresh();
    await upsert(s, s.clock.now() + 2 * DAY);
    const first = await onBooking(s, ZHANG_SAN);
    expect(first.status).toBe(201);
    expect((await s.command('booking.cancel', { bookingId: 'bk-1' })).status).toBe('ok');
    expect(await onBooking(s, LI_SI)).toMatchObject({ status: 422, body: { reason: 'BOOKING_CANCELLED' } });
    expect(s.f.checkin.occupants(UNIT)).toBe(1);
    expect(s.liveCodeIds()).toEqual([first.body.codes[0].codeId]);
    expect(await s.command('booking.cancel', { bookingId: 'bk-none' })).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_BOOKING' } });
  });
});

describe('stay.checkout', () => {
  it('checks the stay out by "platform" and revokes its codes; an unknown stay is UNKNOWN_STAY', async () => {
    const s = await fresh();
    const stayId = stayOf(await s.walkIn(s.verifiedRead(ZHANG_SAN)));
    expect((await s.command('stay.checkout', { stayId })).status).toBe('ok');
    expect(s.events('registration/checkout').map((e) => e.data)).toEqual([{ stayId, unit: UNIT, checkoutAt: isoTime(s.clock.now()), by: 'platform' }]);
    expect(s.liveCodeIds()).toEqual([]);
    expect(codeStates(s, stayId)).toEqual(['revoked']);
    expect(s.events('occupancy/unit').at(-1)?.data.count).toBe(0);
    expect(await s.command('stay.checkout', { stayId: 's_NONE' })).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_STAY' } });
  });
});

describe('unit.suspend and unit.resume', () => {
  it('a suspension revokes the unit’s live codes at once and refuses check-ins, reissues, visitors and staff codes; resume allows them again', async () => {
    const s = await fresh();
    const stay = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    s.swipe();
    expect((await s.post('/api/staff-codes', { unit: UNIT, staffId: 'clerk-1' })).status).toBe(201);
    expect(s.liveCodeIds()).toHaveLength(2);
    const version = s.f.locks.version(LOCK);

    expect((await s.command('unit.suspend', { unit: UNIT, reason: '消防整改' })).status).toBe('ok');
    expect(s.liveCodeIds()).toEqual([]);
    expect(s.f.locks.version(LOCK)).toBe(version + 1);
    expect(s.events('audit/code_revoked').at(-1)?.data).toMatchObject({ unit: UNIT, count: 2 });
    expect(s.f.checkin.occupants(UNIT)).toBe(1); // registered stays remain

    const refusals = await Promise.all([
      s.walkIn(s.verifiedRead(WANG_WU)),
      s.post(`/api/stays/${stayOf(stay)}/codes`, { readId: s.verifiedRead(ZHANG_SAN) }),
      s.post('/api/visitors', { readId: s.verifiedRead(LI_SI), stayId: stayOf(stay) }),
      s.post('/api/staff-codes', { unit: UNIT, staffId: 'clerk-1' }),
    ]);
    expect(refusals.map((r) => [r.status, r.body.reason])).toEqual(Array(4).fill([422, 'UNIT_SUSPENDED']));
    expect(s.events('security/unit_suspended_attempt')).toHaveLength(4);
    expect(s.liveCodeIds()).toEqual([]);

    expect((await s.command('unit.resume', { unit: UNIT })).status).toBe('ok');
    expect((await s.walkIn(s.verifiedRead(WANG_WU))).status).toBe(201);
    expect(await s.command('unit.suspend', { unit: 'HL-XX-9999', reason: 'x' })).toMatchObject({ status: 'error', error: { code: 'UNKNOWN_UNIT' } });
  });
});

describe('occupancy.snapshot', () => {
  it('sends one occupancy/unit per unit, or for the one unit asked', async () => {
    const s = await fresh();
    s.addUnit('HL-MY-0302');
    s.addUnit('HL-MY-0303');
    const stayId = stayOf(await s.walkIn(s.verifiedRead(ZHANG_SAN)));
    const before = s.events('occupancy/unit').length;
    expect((await s.command('occupancy.snapshot', {})).status).toBe('ok');
    const all = s.events('occupancy/unit').slice(before).map((e) => e.data);
    expect(all).toEqual([
      { unit: UNIT, occupants: [{ stayId, name: '张*', since: isoTime(s.clock.now()) }], count: 1 },
      { unit: 'HL-MY-0302', occupants: [], count: 0 },
      { unit: 'HL-MY-0303', occupants: [], count: 0 },
    ]);
    expect((await s.command('occupancy.snapshot', { unit: 'HL-MY-0303' })).status).toBe('ok');
    expect(s.events('occupancy/unit').slice(before + 3).map((e) => e.data.unit)).toEqual(['HL-MY-0303']);
  });
});

describe('booking.upsert with a new end', () => {
  it('moves the open stay’s code validTo to the new `to` + 2 h, and the automatic check-out with it', async () => {
    const s = await fresh();
    const to = s.clock.now() + DAY;
    await upsert(s, to);
    const stayId = stayOf(await onBooking(s, ZHANG_SAN));
    const version = s.f.locks.version(LOCK);
    const later = to + DAY;
    expect((await upsert(s, later)).status).toBe('ok');
    expect(s.f.locks.liveCodes(UNIT).map((c) => c.validTo)).toEqual([isoTime(later + 2 * HOUR)]);
    expect(s.f.locks.version(LOCK)).toBe(version + 1);

    s.clock.advance(to + 2 * HOUR - s.clock.now() + 1);
    expect(await s.gw.transact((tx) => s.f.checkin.stays.checkoutDue(tx))).toBe(0);
    expect(s.f.checkin.occupants(UNIT)).toBe(1);
    s.clock.advance(DAY);
    expect(await s.gw.transact((tx) => s.f.checkin.stays.checkoutDue(tx))).toBe(1);
    expect(s.events('registration/checkout').map((e) => e.data)).toMatchObject([{ stayId, by: 'auto' }]);
  });
});

describe('automatic check-out (CHECKIN.md Codes)', () => {
  it('at expectedCheckout + 2 h the stay is checked out by "auto" and its codes are revoked, not a moment before', async () => {
    const s = await fresh();
    const expectedCheckout = s.clock.now() + HOUR;
    const res = await s.walkIn(s.verifiedRead(ZHANG_SAN), { expectedCheckout: isoTime(expectedCheckout) });
    const stayId = stayOf(res);
    s.clock.advance(3 * HOUR - 1);
    expect(await s.gw.transact((tx) => s.f.checkin.stays.checkoutDue(tx))).toBe(0);
    expect(s.liveCodeIds()).toEqual([res.body.codes[0].codeId]);

    s.clock.advance(1);
    expect(await s.gw.transact((tx) => s.f.checkin.stays.checkoutDue(tx))).toBe(1);
    expect(s.events('registration/checkout').map((e) => e.data)).toEqual([{ stayId, unit: UNIT, checkoutAt: isoTime(expectedCheckout + 2 * HOUR), by: 'auto' }]);
    expect(codeStates(s, stayId)).toEqual(['revoked']);
    expect(s.events('audit/code_revoked').at(-1)?.data).toMatchObject({ stayId, count: 1 });
    expect(s.events('occupancy/unit').at(-1)?.data).toEqual({ unit: UNIT, occupants: [], count: 0 });
    expect(await s.gw.transact((tx) => s.f.checkin.stays.checkoutDue(tx))).toBe(0);
  });
});
