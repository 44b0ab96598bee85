// The accepted paths of CHECKIN.md over real parts: a card from the network reader and a
// face result from a DeskSim over MQTT, the HTTP API over a socket, and what reaches the
// locks' lists and the outbox: walk-in, booking guest, attendant override, a minor with
// a guardian, a visitor, a lost-code reissue, staff codes and the desk check-out.
import { describe, expect, it, vi } from 'vitest';
import { isoTime } from '../../protocol/time.ts';
import {
  DAY, DESK, HOUR, LOCK, PHOTO, STAFF, UNIT, LI_SI, WANG_WU, ZHANG_SAN, cardFor, idNumber, sha256Hex, sceneEachTest, type ApiReply, 
} from '../helpers/checkin-setup.ts';

const fresh = sceneEachTest();

type Code = { lockId: string; codeId: string; code: string; validFrom: string; validTo: string; uses: number | null };
const codeIds = (res: ApiReply) => (res.body.codes as Code[]).map((c) => c.codeId).sort();
const GUARDIAN = { name: '张父', phone: '13800000000', relation: '父亲' };

describe('a walk-in (CHECKIN.md rules 1–12, "On acceptance")', () => {
  it('a network-reader card verified by the desk terminal gets 201, one 8-digit code per lock valid to expectedCheckout + 2 h, and a full registration', async () => {
    const s = await fresh({}, 2);
    await s.deskSim(DESK, { score: 0.93 });
    const readId = await s.networkRead(ZHANG_SAN);
    await vi.waitFor(() => expect(s.f.checkin.reads.latestVerify(readId)).toBeDefined(), { timeout: 5_000 });
    const now = s.clock.now();
    const expectedCheckout = now + 2 * DAY;
    const res = await s.post('/api/checkins', { readId, unit: UNIT, expectedCheckout: isoTime(expectedCheckout) });

    expect(res.status).toBe(201);
    const { stayId, codes } = res.body as { stayId: string; codes: Code[] };
    expect(stayId).toMatch(/^s_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(codes.map((c) => c.lockId)).toEqual([LOCK, `${LOCK}-2`]);
    for (const c of codes) {
      expect(c.code).toMatch(/^\d{8}$/);
      expect(c).toMatchObject({ validFrom: isoTime(now), validTo: isoTime(expectedCheckout + 2 * HOUR), uses: null });
    }
    expect(s.liveCodeIds()).toEqual(codeIds(res));

    const [registration] = s.events('registration/checkin');
    expect(registration?.data).toEqual({
      stayId, bookingId: expect.stringMatching(/^b_/), unit: UNIT,
      guest: {
        name: '张三', idNumber: '11010519491231002X', docType: 'resident', gender: 'female', nation: '01', birth: '1949-12-31',
        address: ZHANG_SAN.address, authority: ZHANG_SAN.authority, validFrom: '2015-01-01', validTo: '2035-01-01', photoSha256: sha256Hex(PHOTO),
      },
      verification: { method: 'face', score: 0.93, liveness: true, algo: 'sim/1.0' },
      checkinAt: isoTime(now), expectedCheckout: isoTime(expectedCheckout),
    });
    expect(s.events('occupancy/unit').at(-1)?.data).toEqual({ unit: UNIT, occupants: [{ stayId, name: '张*', since: isoTime(now) }], count: 1 });
    expect(s.events('audit/code_issued')[0]?.data.codes).toEqual(codes.map((c) => ({ codeId: c.codeId, lockId: c.lockId })));
    const everything = JSON.stringify(s.events());
    for (const c of codes) expect(everything).not.toContain(c.code);
    const units = await s.get('/api/units');
    expect(units.body.units.find((u: { code: string }) => u.code === UNIT)).toMatchObject({ occupants: 1, liveCodes: [{}, {}] });
  });
});

describe('a booking guest (rule 8)', () => {
  it('checks in on a platform booking 2 h before it starts; the code runs to the booking end + 2 h; the ID number matches whatever its case', async () => {
    const s = await fresh();
    const from = s.clock.now() + 2 * HOUR;
    const to = from + 3 * DAY;
    const upsert = await s.command('booking.upsert', {
      bookingId: 'bk-7', unit: UNIT, from: isoTime(from), to: isoTime(to),
      guests: [{ name: '张三', idNumber: '11010519491231002x' }, { name: LI_SI.name, idNumber: LI_SI.idNumber }],
    });
    expect(upsert.status).toBe('ok');
    const first = await s.post('/api/checkins', { readId: s.verifiedRead(ZHANG_SAN), unit: UNIT, bookingId: 'bk-7' });
    expect(first.status).toBe(201);
    expect(first.body.codes[0].validTo).toBe(isoTime(to + 2 * HOUR));
    const second = await s.post('/api/checkins', { readId: s.verifiedRead(LI_SI), unit: UNIT, bookingId: 'bk-7' });
    expect(second.status).toBe(201);
    const registrations = s.events('registration/checkin').map((e) => e.data);
    expect(registrations.map((d) => [d.stayId, d.bookingId, d.expectedCheckout])).toEqual([
      [first.body.stayId, 'bk-7', isoTime(to)], [second.body.stayId, 'bk-7', isoTime(to)],
    ]);
    expect(s.events('occupancy/unit').at(-1)?.data.count).toBe(2);
  });
});

describe('an attendant override (rule 10b)', () => {
  it('with policy.attendantOverride, the logged-in clerk who swiped at the desk checks the guest in; it is reported upstream', async () => {
    const s = await fresh({ policy: { attendantOverride: true } });
    const readId = s.read(ZHANG_SAN);
    s.verify(readId, { score: 0.5 });
    s.swipe(STAFF, DESK);
    s.clock.advance(59_000);
    const reason = '人脸识别设备故障';
    const res = await s.walkIn(readId, { override: { staffId: STAFF, reason } });
    expect(res.status).toBe(201);
    expect(s.events('security/attendant_override').map((e) => e.data)).toEqual([{ stayId: res.body.stayId, staffId: STAFF, reason }]);
    expect(s.events('registration/checkin')[0]?.data.verification).toEqual({ method: 'attendant', score: 0.5, liveness: true, algo: 'vendor/3.1', staffId: STAFF, reason });
  });
});

describe('a minor (rule 11)', () => {
  it('a 14-year-old with a guardian’s name, phone and relation checks in, and the guardian is in the registration', async () => {
    const s = await fresh();
    const minor = cardFor(idNumber('2012-05-01', 13), { name: '张小明' });
    const res = await s.walkIn(s.verifiedRead(minor), { guardian: GUARDIAN });
    expect(res.status).toBe(201);
    expect(s.events('registration/checkin')[0]?.data).toMatchObject({ guest: { idNumber: minor.idNumber, birth: '2012-05-01' }, guardian: GUARDIAN });
  });
});

describe('a visitor (CHECKIN.md Codes, once)', () => {
  it('a verified visitor of an open stay gets one once code per lock for 6 h, reported as registration/visitor with hostStayId', async () => {
    const s = await fresh();
    const host = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    const res = await s.post('/api/visitors', { readId: s.verifiedRead(WANG_WU), stayId: host.body.stayId });
    expect(res.status).toBe(201);
    expect(res.body.visitId).toMatch(/^v_/);
    expect(res.body.codes).toEqual([{
      lockId: LOCK, codeId: expect.stringMatching(/^c_/), code: expect.stringMatching(/^\d{8}$/),
      validFrom: isoTime(s.clock.now()), validTo: isoTime(s.clock.now() + 6 * HOUR), uses: 1,
    }]);
    expect(s.liveCodeIds()).toEqual([...codeIds(host), ...codeIds(res)].sort());
    const [visit] = s.events('registration/visitor');
    expect(visit?.data).toMatchObject({ stayId: res.body.visitId, hostStayId: host.body.stayId, unit: UNIT, guest: { idNumber: WANG_WU.idNumber } });
  });

  it('a visitor\'s once code ends when the host checks out', async () => {
    const s = await fresh();
    const host = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    const visitor = await s.post('/api/visitors', { readId: s.verifiedRead(WANG_WU), stayId: host.body.stayId });
    expect(visitor.status).toBe(201);
    const res = await s.post(`/api/stays/${host.body.stayId}/checkout`, {});
    expect(res).toEqual({ status: 200, body: { stayId: host.body.stayId, revokedCodes: 2 } });
    expect(s.liveCodeIds()).toEqual([]);
  });

  it('a visitor follows the guest rules: a minor needs a guardian, and an unknown host stay is 404', async () => {
    const s = await fresh();
    const host = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    const minor = cardFor(idNumber('2012-05-01', 13));
    const refused = await s.post('/api/visitors', { readId: s.verifiedRead(minor), stayId: host.body.stayId });
    expect(refused).toMatchObject({ status: 422, body: { reason: 'MINOR_NEEDS_GUARDIAN' } });
    expect((await s.post('/api/visitors', { readId: s.verifiedRead(WANG_WU), stayId: 's_NONE' })).status).toBe(404);
    expect(s.liveCodeIds()).toEqual(codeIds(host));
  });
});

describe('a lost code (reissue)', () => {
  it('a fresh read of the same person gets a new code and the old one is revoked; another person is refused', async () => {
    const s = await fresh();
    const stay = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    s.clock.advance(3 * HOUR);
    const reissued = await s.post(`/api/stays/${stay.body.stayId}/codes`, { readId: s.verifiedRead(ZHANG_SAN) });
    expect(reissued.status).toBe(201);
    expect(reissued.body.stayId).toBe(stay.body.stayId);
    expect(codeIds(reissued)).not.toEqual(codeIds(stay));
    expect(reissued.body.codes[0].validTo).toBe(stay.body.codes[0].validTo);
    expect(s.liveCodeIds()).toEqual(codeIds(reissued));
    expect(s.events('audit/code_revoked').at(-1)?.data.codes).toEqual([{ codeId: stay.body.codes[0].codeId, lockId: LOCK }]);

    const stranger = await s.post(`/api/stays/${stay.body.stayId}/codes`, { readId: s.verifiedRead(WANG_WU) });
    expect(stranger).toMatchObject({ status: 422, body: { reason: 'GUEST_NOT_ON_BOOKING' } });
    expect(s.liveCodeIds()).toEqual(codeIds(reissued));
  });
});

describe('staff codes (POST /api/staff-codes)', () => {
  it('a badge swiped within 60 s gets a once code; without a swipe, or with an older one, BADGE_REQUIRED', async () => {
    const s = await fresh();
    s.addStaff('clerk-2', '80012346');
    s.swipe(STAFF);
    const res = await s.post('/api/staff-codes', { unit: UNIT, staffId: STAFF });
    expect(res.status).toBe(201);
    expect(res.body.codes).toMatchObject([{ lockId: LOCK, uses: 1, validTo: isoTime(s.clock.now() + 6 * HOUR) }]);
    const before = s.liveCodeIds();
    expect(await s.post('/api/staff-codes', { unit: UNIT, staffId: 'clerk-2' })).toMatchObject({ status: 422, body: { reason: 'BADGE_REQUIRED' } });
    s.clock.advance(60_001);
    expect(await s.post('/api/staff-codes', { unit: UNIT, staffId: STAFF })).toMatchObject({ status: 422, body: { reason: 'BADGE_REQUIRED' } });
    expect(s.liveCodeIds()).toEqual(before);
  });
});

describe('check-out at the desk', () => {
  it('closes the stay: 200 {stayId, revokedCodes}, registration/checkout by desk, an empty occupancy, and the guest may check in again', async () => {
    const s = await fresh();
    const stay = await s.walkIn(s.verifiedRead(ZHANG_SAN));
    s.clock.advance(HOUR);
    const res = await s.post(`/api/stays/${stay.body.stayId}/checkout`);
    expect(res).toEqual({ status: 200, body: { stayId: stay.body.stayId, revokedCodes: 1 } });
    expect(s.liveCodeIds()).toEqual([]);
    expect(s.events('registration/checkout').map((e) => e.data)).toEqual([
      { stayId: stay.body.stayId, unit: UNIT, checkoutAt: isoTime(s.clock.now()), by: 'desk' },
    ]);
    expect(s.events('occupancy/unit').at(-1)?.data).toEqual({ unit: UNIT, occupants: [], count: 0 });
    expect((await s.post(`/api/stays/${stay.body.stayId}/checkout`)).status).toBe(409);
    expect((await s.post('/api/stays/s_NONE/checkout')).status).toBe(404);
    expect((await s.walkIn(s.verifiedRead(ZHANG_SAN))).status).toBe(201);
  });
});

describe('a code never outlives the unit’s licence (CHECKIN.md Codes)', () => {
  it('a stay code ends at the local midnight closing licenceUntil, and stays there when the booking is extended', async () => {
    const s = await fresh();
    const [lock] = s.addUnit('HL-MY-0901', { licenceUntil: '2026-11-30' });
    const licenceEnd = '2026-11-30T16:00:00.000Z'; // 2026-12-01 00:00 in Asia/Shanghai
    const walkIn = await s.walkIn(s.verifiedRead(ZHANG_SAN), { unit: 'HL-MY-0901', expectedCheckout: isoTime(s.clock.now() + 5 * DAY) });
    expect(walkIn.status).toBe(201);
    expect(walkIn.body.codes).toMatchObject([{ lockId: lock, validTo: licenceEnd }]);

    const booking = (to: number) => s.command('booking.upsert', {
      bookingId: 'bk-9', unit: 'HL-MY-0901', from: isoTime(s.clock.now() - HOUR), to: isoTime(to), guests: [{ name: LI_SI.name, idNumber: LI_SI.idNumber }],
    });
    await booking(s.clock.now() + DAY);
    const booked = await s.post('/api/checkins', { readId: s.verifiedRead(LI_SI), unit: 'HL-MY-0901', bookingId: 'bk-9' });
    expect(booked.body.codes).toMatchObject([{ validTo: licenceEnd }]);
    await booking(s.clock.now() + 3 * DAY);
    expect(s.f.locks.liveCodes('HL-MY-0901').map((c) => c.validTo)).toEqual([licenceEnd, licenceEnd]);
  });

  it('staff codes are refused with UNIT_UNLICENSED for an unlicensed unit and for one whose licence has ended', async () => {
    const s = await fresh();
    s.addUnit('HL-MY-0902', { licensed: false });
    s.addUnit('HL-MY-0903', { licenceUntil: '2026-11-29' });
    s.swipe(STAFF);
    for (const unit of ['HL-MY-0902', 'HL-MY-0903']) {
      expect(await s.post('/api/staff-codes', { unit, staffId: STAFF })).toMatchObject({ status: 422, body: { reason: 'UNIT_UNLICENSED' } });
      expect(s.liveCodeIds(unit)).toEqual([]);
    }
  });
});
