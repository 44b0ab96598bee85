// Every refusal reason of CHECKIN.md "The decision", each built through a real in-process
// gateway and asked over HTTP: POST /api/checkins answers 422 {reason, message: {zh, en}},
// no code reaches any lock, no stay is made, and `security/checkin_refused` (with the
// masked ID number, PROTOCOL.md §0) is in the outbox.
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKIN_REASONS, checkinReasonMessage, type CheckinReason } from '../../protocol/checkin-reasons.ts';
import { isoTime } from '../../protocol/time.ts';
import {
  DAY, HOUR, LOCK, STAFF, UNIT, LI_SI, WANG_WU, cardFor, idNumber, startScene, type Scene,
} from '../helpers/checkin-setup.ts';

type Situation = { body: Record<string, unknown>; masked: string | null; unit?: string };
type Case = { reason: CheckinReason; behaviour: string; policy?: Record<string, unknown>; arrange(s: Scene): Promise<Situation> | Situation };

const UNIT2 = 'HL-MY-0302';
const WANG_MASKED = '360426********0071';
const MINOR_ID = idNumber('2012-05-01', 13); // 14 years old on 2026-11-30
const mask = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

/** A walk-in body for a read, two days from now. */
const walkIn = (s: Scene, readId: string, extra: Record<string, unknown> = {}) =>
  ({ readId, unit: UNIT, expectedCheckout: isoTime(s.clock.now() + 2 * DAY), ...extra });
/** WANG_WU's card, read and verified at desk-1, as a walk-in to UNIT. */
const verifiedWang = (s: Scene): Situation => ({ body: walkIn(s, s.verifiedRead(WANG_WU)), masked: WANG_MASKED });
const booking = (s: Scene, bookingId: string, unit: string, guests = [WANG_WU], from = s.clock.now() - HOUR) =>
  s.command('booking.upsert', {
    bookingId, unit, from: isoTime(from), to: isoTime(from + 3 * DAY), guests: guests.map((g) => ({ name: g.name, idNumber: g.idNumber })),
  });
const override = { staffId: STAFF, reason: '人脸识别设备故障' };

const CASES: Case[] = [
  { reason: 'READ_UNKNOWN', behaviour: 'a readId the gateway never made is refused', arrange: (s) => ({ body: walkIn(s, 'r_01JDXXXXXXXXXXXXXXXXXXXXXX'), masked: null }) },
  {
    reason: 'READ_STALE', behaviour: 'a card read more than 120 s ago is refused',
    arrange(s) { const situation = verifiedWang(s); s.clock.advance(120_001); return situation; },
  },
  {
    reason: 'READ_USED', behaviour: 'a read that already made a stay cannot make another',
    async arrange(s) {
      const readId = s.verifiedRead(WANG_WU);
      expect((await s.post('/api/checkins', walkIn(s, readId))).status).toBe(201);
      return { body: walkIn(s, readId), masked: WANG_MASKED };
    },
  },
  {
    reason: 'ALREADY_CHECKED_IN', behaviour: 'a guest with an open stay in another unit is refused a second stay',
    async arrange(s) {
      s.addUnit(UNIT2);
      expect((await s.post('/api/checkins', walkIn(s, s.verifiedRead(WANG_WU), { unit: UNIT2 }))).status).toBe(201);
      return verifiedWang(s);
    },
  },
  {
    reason: 'DOC_UNSUPPORTED', behaviour: 'a foreign permanent resident card from a network reader over MQTT is refused',
    async arrange(s) {
      const readId = await s.networkRead({ ...cardFor('911840198001010013'), cardType: 'Y' });
      expect(s.f.checkin.reads.find(readId)?.card).toEqual({ docType: 'foreign-permanent' });
      s.verify(readId);
      return { body: walkIn(s, readId), masked: null };
    },
  },
  {
    reason: 'ID_INVALID', behaviour: 'an ID number with a wrong check character is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead(cardFor('360426199101010072'))), masked: '360426********0072' }),
  },
  {
    reason: 'CARD_INCONSISTENT', behaviour: 'a card whose gender disagrees with its number is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead({ ...WANG_WU, gender: 'female' })), masked: WANG_MASKED }),
  },
  {
    reason: 'CARD_EXPIRED', behaviour: 'a card that expired yesterday (building time zone) is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead({ ...WANG_WU, validTo: '2026-11-29' })), masked: WANG_MASKED }),
  },
  {
    reason: 'CARD_NOT_YET_VALID', behaviour: 'a card valid only from tomorrow is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead({ ...WANG_WU, validFrom: '2026-12-01' })), masked: WANG_MASKED }),
  },
  {
    reason: 'UNIT_UNKNOWN', behaviour: 'a unit code that is not provisioned is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead(WANG_WU), { unit: 'HL-XX-9999' }), masked: WANG_MASKED, unit: 'HL-XX-9999' }),
  },
  {
    reason: 'UNIT_UNLICENSED', behaviour: 'a unit added --unlicensed is refused',
    arrange(s) {
      s.addUnit(UNIT2, { licensed: false });
      return { body: walkIn(s, s.verifiedRead(WANG_WU), { unit: UNIT2 }), masked: WANG_MASKED, unit: UNIT2 };
    },
  },
  {
    reason: 'UNIT_UNLICENSED', behaviour: 'a unit whose licence ended yesterday is refused',
    arrange(s) {
      s.addUnit(UNIT2, { licenceUntil: '2026-11-29' });
      return { body: walkIn(s, s.verifiedRead(WANG_WU), { unit: UNIT2 }), masked: WANG_MASKED, unit: UNIT2 };
    },
  },
  {
    reason: 'UNIT_SUSPENDED', behaviour: 'a unit suspended by the platform is refused, also as unit_suspended_attempt',
    async arrange(s) {
      expect((await s.command('unit.suspend', { unit: UNIT, reason: '消防整改' })).status).toBe('ok');
      return verifiedWang(s);
    },
  },
  { reason: 'BOOKING_UNKNOWN', behaviour: 'a bookingId the platform never sent is refused', arrange: (s) => ({ body: { readId: s.verifiedRead(WANG_WU), unit: UNIT, bookingId: 'bk-none' }, masked: WANG_MASKED }) },
  {
    reason: 'BOOKING_WRONG_UNIT', behaviour: 'a booking for another unit is refused',
    async arrange(s) {
      s.addUnit(UNIT2);
      await booking(s, 'bk-other', UNIT2);
      return { body: { readId: s.verifiedRead(WANG_WU), unit: UNIT, bookingId: 'bk-other' }, masked: WANG_MASKED };
    },
  },
  {
    reason: 'BOOKING_CANCELLED', behaviour: 'a booking cancelled by the platform is refused',
    async arrange(s) {
      await booking(s, 'bk-1', UNIT);
      expect((await s.command('booking.cancel', { bookingId: 'bk-1' })).status).toBe('ok');
      return { body: { readId: s.verifiedRead(WANG_WU), unit: UNIT, bookingId: 'bk-1' }, masked: WANG_MASKED };
    },
  },
  {
    reason: 'BOOKING_OUTSIDE_WINDOW', behaviour: 'a booking starting more than 6 h from now is refused',
    async arrange(s) {
      await booking(s, 'bk-1', UNIT, [WANG_WU], s.clock.now() + 6 * HOUR + 60_000);
      return { body: { readId: s.verifiedRead(WANG_WU), unit: UNIT, bookingId: 'bk-1' }, masked: WANG_MASKED };
    },
  },
  {
    reason: 'GUEST_NOT_ON_BOOKING', behaviour: 'a person who is not one of the booking guests is refused',
    async arrange(s) {
      await booking(s, 'bk-1', UNIT, [LI_SI]);
      return { body: { readId: s.verifiedRead(WANG_WU), unit: UNIT, bookingId: 'bk-1' }, masked: WANG_MASKED };
    },
  },
  { reason: 'WALKIN_DISABLED', behaviour: 'a walk-in is refused when policy.walkIns is false', policy: { walkIns: false }, arrange: verifiedWang },
  {
    reason: 'CHECKOUT_REQUIRED', behaviour: 'a walk-in without an expectedCheckout is refused',
    arrange: (s) => ({ body: { readId: s.verifiedRead(WANG_WU), unit: UNIT }, masked: WANG_MASKED }),
  },
  {
    reason: 'CHECKOUT_REQUIRED', behaviour: 'a walk-in whose expectedCheckout is in the past is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead(WANG_WU), { expectedCheckout: isoTime(s.clock.now() - 60_000) }), masked: WANG_MASKED }),
  },
  { reason: 'VERIFICATION_MISSING', behaviour: 'a read with no face result is refused', arrange: (s) => ({ body: walkIn(s, s.read(WANG_WU)), masked: WANG_MASKED }) },
  {
    reason: 'VERIFICATION_STALE', behaviour: 'a face result more than 120 s old is refused (the read itself still fresh)', policy: { readMaxAgeS: 300 },
    arrange(s) { const situation = verifiedWang(s); s.clock.advance(120_001); return situation; },
  },
  {
    reason: 'LIVENESS_FAILED', behaviour: 'a face result without liveness is refused, however high its score',
    arrange(s) { const readId = s.read(WANG_WU); s.verify(readId, { score: 0.99, liveness: false }); return { body: walkIn(s, readId), masked: WANG_MASKED }; },
  },
  {
    reason: 'FACE_MISMATCH', behaviour: 'a score just under the 0.82 threshold is refused',
    arrange(s) { const readId = s.read(WANG_WU); s.verify(readId, { score: 0.8199 }); return { body: walkIn(s, readId), masked: WANG_MASKED }; },
  },
  {
    reason: 'OVERRIDE_DISABLED', behaviour: 'an attendant override is refused while policy.attendantOverride is off',
    arrange(s) { s.swipe(); return { body: walkIn(s, s.read(WANG_WU), { override }), masked: WANG_MASKED }; },
  },
  {
    reason: 'STAFF_UNKNOWN', behaviour: 'an override naming a staff member who does not exist is refused', policy: { attendantOverride: true },
    arrange(s) { s.swipe('clerk-9'); return { body: walkIn(s, s.read(WANG_WU), { override: { ...override, staffId: 'clerk-9' } }), masked: WANG_MASKED }; },
  },
  {
    reason: 'STAFF_UNKNOWN', behaviour: 'an override in the name of another active staff member than the caller is refused', policy: { attendantOverride: true },
    arrange(s) {
      s.addStaff('clerk-2', '80012346');
      s.swipe('clerk-2');
      return { body: walkIn(s, s.read(WANG_WU), { override: { ...override, staffId: 'clerk-2' } }), masked: WANG_MASKED };
    },
  },
  {
    reason: 'BADGE_REQUIRED', behaviour: 'an override without a badge swipe in the last 60 s is refused', policy: { attendantOverride: true },
    arrange(s) { s.swipe(); s.clock.advance(60_001); return { body: walkIn(s, s.read(WANG_WU), { override }), masked: WANG_MASKED }; },
  },
  {
    reason: 'BADGE_REQUIRED', behaviour: 'an override with the badge swiped at another desk is refused', policy: { attendantOverride: true },
    arrange(s) { s.swipe(STAFF, 'desk-2'); return { body: walkIn(s, s.read(WANG_WU), { override }), masked: WANG_MASKED }; },
  },
  {
    reason: 'MINOR_NEEDS_GUARDIAN', behaviour: 'a 14-year-old without a guardian is refused',
    arrange: (s) => ({ body: walkIn(s, s.verifiedRead(cardFor(MINOR_ID))), masked: mask(MINOR_ID) }),
  },
  {
    reason: 'LOCK_FULL', behaviour: 'a unit whose lock already holds 200 live codes is refused',
    async arrange(s) {
      const now = s.clock.now();
      await s.gw.transact((tx) => {
        for (let i = 0; i < 200; i++) s.f.locks.issueCodes(tx, { unit: UNIT, lockIds: [LOCK], kind: 'staff', validFrom: now, validTo: now + DAY, uses: 1 });
      });
      expect(s.liveCodeIds()).toHaveLength(200);
      return verifiedWang(s);
    },
  },
];

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.stop();
  scene = undefined;
});

const stayCount = (s: Scene) => (s.gw.db.prepare('SELECT count(*) AS n FROM stays').get() as { n: number }).n;

describe('every check-in refusal over HTTP (CHECKIN.md "The decision")', () => {
  it('covers every reason code of CHECKIN.md', () => {
    expect(new Set(CASES.map((c) => c.reason))).toEqual(new Set(Object.keys(CHECKIN_REASONS)));
  });

  for (const c of CASES) {
    it(`${c.reason}: ${c.behaviour}; no code, no stay, and a masked checkin_refused upstream`, async () => {
      const s = (scene = await startScene(c.policy ? { policy: c.policy } : {}));
      const { body, masked, unit = UNIT } = await c.arrange(s);
      const codesBefore = s.liveCodeIds();
      const versionBefore = s.f.locks.version(LOCK);
      const staysBefore = stayCount(s);
      const registrationsBefore = s.events('registration/checkin').length;

      const res = await s.post('/api/checkins', body);

      expect(res.status).toBe(422);
      expect(res.body).toEqual({ reason: c.reason, message: checkinReasonMessage(c.reason) });
      expect(res.body.message.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(s.liveCodeIds()).toEqual(codesBefore);
      expect(s.f.locks.version(LOCK)).toBe(versionBefore);
      expect(stayCount(s)).toBe(staysBefore);
      expect(s.events('registration/checkin')).toHaveLength(registrationsBefore);
      const refused = s.events('security/checkin_refused').at(-1);
      expect(refused?.data).toEqual({ reason: c.reason, unit, idNumber: masked });
      expect(refused?.unit).toBe(unit);
      const plain = typeof body.readId === 'string' ? s.f.checkin.reads.find(body.readId)?.card : undefined;
      if (plain && 'idNumber' in plain) expect(JSON.stringify(s.events('security/checkin_refused'))).not.toContain(plain.idNumber);
      const attempts = s.events('security/unit_suspended_attempt');
      if (c.reason === 'UNIT_SUSPENDED') expect(attempts.map((e) => e.data)).toEqual([{ unit, idNumber: masked }]);
      else expect(attempts).toEqual([]);
    });
  }
});
