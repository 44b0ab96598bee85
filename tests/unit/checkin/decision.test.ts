import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHECKIN_REASONS, checkinReasonMessage, type CheckinReason } from '../../../protocol/checkin-reasons.ts';
import { checkCharacter } from '../../../protocol/id-number.ts';
import type { Card } from '../../../protocol/sam/card.ts';
import { ConfigSchema } from '../../../gateway/config/schema.ts';
import { decideCheckin, decideReissue, decideVisitor } from '../../../gateway/checkin/decision.ts';
import type { BookingFacts, CardRead, CheckinFacts, Now, Policy, ReissueFacts, VisitorFacts } from '../../../gateway/checkin/decision.ts';

// CHECKIN.md "The decision", in rule order. Hardcoded: a fresh clone has no spec folder.
const CHECKIN_MD_CODES = [
  'READ_UNKNOWN', 'READ_STALE', 'READ_USED', 'ALREADY_CHECKED_IN', 'DOC_UNSUPPORTED', 'ID_INVALID',
  'CARD_INCONSISTENT', 'CARD_EXPIRED', 'CARD_NOT_YET_VALID', 'UNIT_UNKNOWN', 'UNIT_UNLICENSED',
  'UNIT_SUSPENDED', 'BOOKING_UNKNOWN', 'BOOKING_WRONG_UNIT', 'BOOKING_CANCELLED', 'BOOKING_OUTSIDE_WINDOW',
  'GUEST_NOT_ON_BOOKING', 'WALKIN_DISABLED', 'CHECKOUT_REQUIRED', 'VERIFICATION_MISSING', 'VERIFICATION_STALE',
  'LIVENESS_FAILED', 'FACE_MISMATCH', 'OVERRIDE_DISABLED', 'STAFF_UNKNOWN', 'BADGE_REQUIRED',
  'MINOR_NEEDS_GUARDIAN', 'LOCK_FULL',
];

const H = 3_600_000;
const MONO = 5_000_000;
// 2026-11-30 10:00 in the building (Asia/Shanghai, UTC+8).
const NOW: Now = { wallMs: Date.parse('2026-11-30T02:00:00.000Z'), monoMs: MONO, timezone: 'Asia/Shanghai' };
const POLICY: Policy = Object.freeze(ConfigSchema.parse({}).policy);
const OVERRIDES_ON: Policy = { ...POLICY, attendantOverride: true };
const UNIT = 'HL-MY-0301';
const GUEST_HASH = 'hash-of-guest';

/** A well-formed resident number born on `birth` (seq 003: male). */
function idFor(birth: string, seq = '003'): string {
  const body = `110105${birth.replaceAll('-', '')}${seq}`;
  return body + checkCharacter(body);
}

const CARD: Card = {
  name: '张三', gender: 'male', nation: '01', birth: '1990-03-07', address: '北京市朝阳区某路1号',
  idNumber: idFor('1990-03-07'), authority: '北京市公安局朝阳分局', validFrom: '2020-01-01', validTo: '2040-01-01',
  docType: 'resident', photoSha256: 'a'.repeat(64),
};

const card = (patch: Partial<Card>): Card => ({ ...CARD, ...patch });
/** A card whose holder was born on `birth`, agreeing with its number. */
const bornOn = (birth: string): Card => card({ birth, idNumber: idFor(birth) });

const READ: CardRead = { readId: 'r_1', readerConfigured: true, desk: 'desk-1', receivedMono: MONO - 10_000, usedByStay: false, card: CARD };
const BOOKING: BookingFacts = { unit: UNIT, cancelled: false, from: NOW.wallMs - 1 * H, to: NOW.wallMs + 48 * H, guestIdHashes: ['hash-other', GUEST_HASH] };
const VERIFY = { desk: 'desk-1', score: 0.91, liveness: true, algo: 'vendor/3.1', receivedMono: MONO - 5_000 };
const OVERRIDE = { staffId: 'st-7', reason: '人脸机故障' };

/** Every rule passes with a booking and a face check. */
function facts(patch: Partial<CheckinFacts> = {}): CheckinFacts {
  return {
    read: READ, verify: VERIFY, unit: { licensed: true, licenceUntil: null, suspended: false }, lockRoom: true,
    unitCode: UNIT, openStayForIdNumber: false, booking: BOOKING, cardIdHash: GUEST_HASH,
    caller: { staffId: 'st-7' }, staffKnown: true, badge: undefined, ...patch,
  };
}

const withRead = (patch: Partial<CardRead>, rest: Partial<CheckinFacts> = {}) => facts({ read: { ...READ, ...patch }, ...rest });

/** Every rule passes on the override path (rule 10b), with no face check at all. */
const overrideFacts = (patch: Partial<CheckinFacts> = {}) =>
  facts({ verify: undefined, override: OVERRIDE, badge: { staffId: 'st-7', desk: 'desk-1', receivedMono: MONO - 20_000 }, ...patch });

const walkIn: Partial<CheckinFacts> = { booking: undefined, expectedCheckout: NOW.wallMs + 24 * H };

const outcome = (d: { ok: true } | { ok: false; reason: CheckinReason }) => (d.ok ? 'ok' : d.reason);
const reasonOf = (f: CheckinFacts, policy = POLICY, now = NOW) => outcome(decideCheckin(f, policy, now));

// Each case starts from a passing fixture and breaks exactly one fact.
const CASES: Array<[CheckinReason, () => CheckinReason | 'ok']> = [
  ['READ_UNKNOWN', () => reasonOf(facts({ read: undefined }))],
  ['READ_STALE', () => reasonOf(withRead({ receivedMono: MONO - 121_000 }))],
  ['READ_USED', () => reasonOf(withRead({ usedByStay: true }))],
  ['ALREADY_CHECKED_IN', () => reasonOf(facts({ openStayForIdNumber: true }))],
  ['DOC_UNSUPPORTED', () => reasonOf(withRead({ card: { docType: 'foreign-permanent' } }))],
  // The fixture's check character is 3, so 0 breaks the checksum.
  ['ID_INVALID', () => reasonOf(withRead({ card: card({ idNumber: `${CARD.idNumber.slice(0, 17)}0` }) }))],
  ['CARD_INCONSISTENT', () => reasonOf(withRead({ card: card({ birth: '1990-03-08' }) }))],
  ['CARD_EXPIRED', () => reasonOf(withRead({ card: card({ validTo: '2026-11-29' }) }))],
  ['CARD_NOT_YET_VALID', () => reasonOf(withRead({ card: card({ validFrom: '2026-12-01' }) }))],
  ['UNIT_UNKNOWN', () => reasonOf(facts({ unit: undefined }))],
  ['UNIT_UNLICENSED', () => reasonOf(facts({ unit: { licensed: false, licenceUntil: null, suspended: false } }))],
  ['UNIT_SUSPENDED', () => reasonOf(facts({ unit: { licensed: true, licenceUntil: null, suspended: true } }))],
  ['BOOKING_UNKNOWN', () => reasonOf(facts({ booking: 'unknown' }))],
  ['BOOKING_WRONG_UNIT', () => reasonOf(facts({ booking: { ...BOOKING, unit: 'HL-MY-0302' } }))],
  ['BOOKING_CANCELLED', () => reasonOf(facts({ booking: { ...BOOKING, cancelled: true } }))],
  ['BOOKING_OUTSIDE_WINDOW', () => reasonOf(facts({ booking: { ...BOOKING, from: NOW.wallMs + 7 * H } }))],
  ['GUEST_NOT_ON_BOOKING', () => reasonOf(facts({ cardIdHash: 'hash-of-stranger' }))],
  ['WALKIN_DISABLED', () => reasonOf(facts(walkIn), { ...POLICY, walkIns: false })],
  ['CHECKOUT_REQUIRED', () => reasonOf(facts({ ...walkIn, expectedCheckout: undefined }))],
  ['VERIFICATION_MISSING', () => reasonOf(facts({ verify: undefined }))],
  ['VERIFICATION_STALE', () => reasonOf(facts({ verify: { ...VERIFY, receivedMono: MONO - 121_000 } }))],
  ['LIVENESS_FAILED', () => reasonOf(facts({ verify: { ...VERIFY, liveness: false } }))],
  ['FACE_MISMATCH', () => reasonOf(facts({ verify: { ...VERIFY, score: 0.5 } }))],
  ['OVERRIDE_DISABLED', () => reasonOf(overrideFacts())],
  ['STAFF_UNKNOWN', () => reasonOf(overrideFacts({ staffKnown: false }), OVERRIDES_ON)],
  ['BADGE_REQUIRED', () => reasonOf(overrideFacts({ badge: undefined }), OVERRIDES_ON)],
  ['MINOR_NEEDS_GUARDIAN', () => reasonOf(withRead({ card: bornOn('2010-05-05') }))],
  ['LOCK_FULL', () => reasonOf(facts({ lockRoom: false }))],
];

describe('check-in reason codes', () => {
  it('are exactly the codes of CHECKIN.md, in rule order', () => {
    expect(Object.keys(CHECKIN_REASONS)).toEqual(CHECKIN_MD_CODES);
  });

  it('each have a Chinese and an English message a clerk can act on', () => {
    for (const code of CHECKIN_MD_CODES as CheckinReason[]) {
      const { zh, en } = checkinReasonMessage(code);
      expect(en, code).toMatch(/^[A-Z].{20,}\.$/);
      expect(zh, code).toMatch(/[\u4e00-\u9fff]{4,}/);
      expect(zh, code).toMatch(/。$/);
    }
  });

  it('each have a test below that produces them', () => {
    expect(CASES.map(([code]) => code)).toEqual(CHECKIN_MD_CODES);
  });
});

describe('decideCheckin: one broken fact gives its code', () => {
  it('passes the untouched fixtures (booking, walk-in, override)', () => {
    expect(reasonOf(facts())).toBe('ok');
    expect(reasonOf(facts(walkIn))).toBe('ok');
    expect(reasonOf(overrideFacts(), OVERRIDES_ON)).toBe('ok');
  });

  it.each(CASES)('%s', (code, run) => {
    expect(run()).toBe(code);
  });
});

describe('decideCheckin: other ways to each code', () => {
  it('a read from a reader no longer in the config is unknown', () => {
    expect(reasonOf(withRead({ readerConfigured: false }))).toBe('READ_UNKNOWN');
  });

  it('a decoded card of the foreign-permanent type is unsupported', () => {
    expect(reasonOf(withRead({ card: card({ docType: 'foreign-permanent' }) }))).toBe('DOC_UNSUPPORTED');
  });

  it('a resident card carrying a permit number is inconsistent', () => {
    const permit = '810000198506120040';
    expect(reasonOf(withRead({ card: card({ idNumber: permit, birth: '1985-06-12', gender: 'female' }) }))).toBe('CARD_INCONSISTENT');
  });

  it('a gender of unknown (code 0) never agrees', () => {
    expect(reasonOf(withRead({ card: card({ gender: 'unknown' }) }))).toBe('CARD_INCONSISTENT');
  });

  it('a licence that ended yesterday is unlicensed; one ending today still holds', () => {
    expect(reasonOf(facts({ unit: { licensed: true, licenceUntil: '2026-11-29', suspended: false } }))).toBe('UNIT_UNLICENSED');
    expect(reasonOf(facts({ unit: { licensed: true, licenceUntil: '2026-11-30', suspended: false } }))).toBe('ok');
  });

  it('a booking that has ended is outside its window', () => {
    expect(reasonOf(facts({ booking: { ...BOOKING, to: NOW.wallMs - 1 } }))).toBe('BOOKING_OUTSIDE_WINDOW');
  });

  it('an expected check-out of now, or in the past, is required to be in the future', () => {
    expect(reasonOf(facts({ ...walkIn, expectedCheckout: NOW.wallMs }))).toBe('CHECKOUT_REQUIRED');
    expect(reasonOf(facts({ ...walkIn, expectedCheckout: NOW.wallMs - H }))).toBe('CHECKOUT_REQUIRED');
  });

  it('a verify from another desk is missing, even if it passed', () => {
    expect(reasonOf(facts({ verify: { ...VERIFY, desk: 'desk-2' } }))).toBe('VERIFICATION_MISSING');
  });

  it('an override by someone other than the logged-in caller, or with no caller, is an unknown staff member', () => {
    expect(reasonOf(overrideFacts({ caller: { staffId: 'st-8' } }), OVERRIDES_ON)).toBe('STAFF_UNKNOWN');
    expect(reasonOf(overrideFacts({ caller: undefined }), OVERRIDES_ON)).toBe('STAFF_UNKNOWN');
  });

  it('a badge swiped at another desk, by someone else, or 60 s + 1 ms ago is required again', () => {
    const swipe = { staffId: 'st-7', desk: 'desk-1', receivedMono: MONO - 60_000 };
    expect(reasonOf(overrideFacts({ badge: swipe }), OVERRIDES_ON)).toBe('ok');
    expect(reasonOf(overrideFacts({ badge: { ...swipe, receivedMono: MONO - 60_001 } }), OVERRIDES_ON)).toBe('BADGE_REQUIRED');
    expect(reasonOf(overrideFacts({ badge: { ...swipe, desk: 'desk-2' } }), OVERRIDES_ON)).toBe('BADGE_REQUIRED');
    expect(reasonOf(overrideFacts({ badge: { ...swipe, staffId: 'st-8' } }), OVERRIDES_ON)).toBe('BADGE_REQUIRED');
  });

  it('an override reason under 4 characters (white space aside) asks for the badge and reason again', () => {
    const reasonOfOverride = (reason: string) => reasonOf(overrideFacts({ override: { staffId: 'st-7', reason } }), OVERRIDES_ON);
    expect(reasonOfOverride('故障')).toBe('BADGE_REQUIRED');
    expect(reasonOfOverride('  abc   ')).toBe('BADGE_REQUIRED');
    expect(reasonOfOverride('机器故障')).toBe('ok');
    expect(reasonOfOverride('𠮷𠮷𠮷𠮷')).toBe('ok');
  });

  it('a minor whose guardian has a blank field still needs a guardian', () => {
    const minor = { ...READ, card: bornOn('2010-05-05') };
    expect(reasonOf(facts({ read: minor, guardian: { name: '张父', phone: ' ', relation: '父亲' } }))).toBe('MINOR_NEEDS_GUARDIAN');
  });
});

describe('decideCheckin: the first failing rule wins', () => {
  it('an earlier rule beats a later one', () => {
    expect(reasonOf(withRead({ receivedMono: MONO - 121_000 }, { verify: { ...VERIFY, score: 0.1 } }))).toBe('READ_STALE');
    expect(reasonOf(withRead({ usedByStay: true }, { openStayForIdNumber: true }))).toBe('READ_USED');
    expect(reasonOf(withRead({ card: { docType: 'foreign-permanent' } }, { openStayForIdNumber: true }))).toBe('ALREADY_CHECKED_IN');
    expect(reasonOf(withRead({ card: card({ validTo: '2020-01-01' }) }, { unit: undefined }))).toBe('CARD_EXPIRED');
    expect(reasonOf(facts({ cardIdHash: 'x', verify: { ...VERIFY, liveness: false } }))).toBe('GUEST_NOT_ON_BOOKING');
    expect(reasonOf(withRead({ card: bornOn('2010-05-05') }, { lockRoom: false }))).toBe('MINOR_NEEDS_GUARDIAN');
  });

  it('within a rule, the codes come in the order of the table', () => {
    expect(reasonOf(withRead({ readerConfigured: false, receivedMono: 0, usedByStay: true }))).toBe('READ_UNKNOWN');
    expect(reasonOf(facts({ unit: { licensed: false, licenceUntil: null, suspended: true } }))).toBe('UNIT_UNLICENSED');
    expect(reasonOf(facts({ booking: { ...BOOKING, unit: 'X', cancelled: true } }))).toBe('BOOKING_WRONG_UNIT');
    expect(reasonOf(facts({ verify: { ...VERIFY, receivedMono: 0, liveness: false, score: 0 } }))).toBe('VERIFICATION_STALE');
    expect(reasonOf(facts({ verify: { ...VERIFY, liveness: false, score: 0 } }))).toBe('LIVENESS_FAILED');
  });

  it('an override replaces the face check, even a passing one', () => {
    expect(reasonOf(overrideFacts({ verify: VERIFY }))).toBe('OVERRIDE_DISABLED');
  });

  it('a booking, when named, decides instead of the walk-in rules', () => {
    expect(reasonOf(facts({ expectedCheckout: undefined }), { ...POLICY, walkIns: false })).toBe('ok');
  });

  // One breaker per rule, each on its own fact, applied in any order.
  const BREAKERS: Array<[CheckinReason, (f: CheckinFacts) => CheckinFacts]> = [
    ['READ_STALE', (f) => ({ ...f, read: { ...f.read!, receivedMono: 0 } })],
    ['ALREADY_CHECKED_IN', (f) => ({ ...f, openStayForIdNumber: true })],
    ['CARD_EXPIRED', (f) => ({ ...f, read: { ...f.read!, card: { ...(f.read!.card as Card), validTo: '2021-01-01' } } })],
    ['UNIT_SUSPENDED', (f) => ({ ...f, unit: { licensed: true, licenceUntil: null, suspended: true } })],
    ['BOOKING_CANCELLED', (f) => ({ ...f, booking: { ...BOOKING, cancelled: true } })],
    ['FACE_MISMATCH', (f) => ({ ...f, verify: { ...VERIFY, score: 0.3 } })],
    ['MINOR_NEEDS_GUARDIAN', (f) => ({ ...f, read: { ...f.read!, card: { ...(f.read!.card as Card), birth: '2012-02-02', idNumber: idFor('2012-02-02') } } })],
    ['LOCK_FULL', (f) => ({ ...f, lockRoom: false })],
  ];

  it('any set of failures gives the code of the earliest rule', () => {
    const indices = BREAKERS.map((_, i) => i);
    fc.assert(
      fc.property(fc.shuffledSubarray(indices, { minLength: 1 }), (picked) => {
        const broken = picked.reduce((f, i) => BREAKERS[i]![1](f), facts());
        expect(reasonOf(broken)).toBe(BREAKERS[Math.min(...picked)]![0]);
      }),
    );
  });
});

describe('decideCheckin: boundaries', () => {
  it('a read exactly readMaxAgeS old passes; 1 ms more is stale', () => {
    expect(reasonOf(withRead({ receivedMono: MONO - 120_000 }))).toBe('ok');
    expect(reasonOf(withRead({ receivedMono: MONO - 120_001 }))).toBe('READ_STALE');
  });

  it('a verify exactly verifyMaxAgeS old passes; 1 ms more is stale', () => {
    expect(reasonOf(facts({ verify: { ...VERIFY, receivedMono: MONO - 120_000 } }))).toBe('ok');
    expect(reasonOf(facts({ verify: { ...VERIFY, receivedMono: MONO - 120_001 } }))).toBe('VERIFICATION_STALE');
  });

  it('a score exactly at faceThreshold passes; just under is a mismatch', () => {
    expect(reasonOf(facts({ verify: { ...VERIFY, score: 0.82 } }))).toBe('ok');
    expect(reasonOf(facts({ verify: { ...VERIFY, score: 0.8199 } }))).toBe('FACE_MISMATCH');
    expect(reasonOf(facts({ verify: { ...VERIFY, score: 0.9 } }), { ...POLICY, faceThreshold: 0.95 })).toBe('FACE_MISMATCH');
    expect(reasonOf(facts({ verify: { ...VERIFY, score: Number.NaN } }))).toBe('FACE_MISMATCH');
  });

  it('an 18th birthday today is not a minor; the day before it is', () => {
    const adult = decideCheckin(withRead({ card: bornOn('2008-11-30') }), POLICY, NOW);
    expect(adult).toMatchObject({ ok: true, minor: false });
    expect(reasonOf(withRead({ card: bornOn('2008-12-01') }))).toBe('MINOR_NEEDS_GUARDIAN');
    const guardian = { name: '张父', phone: '13800000000', relation: '父亲' };
    expect(decideCheckin(withRead({ card: bornOn('2008-12-01') }, { guardian }), POLICY, NOW)).toMatchObject({ ok: true, minor: true });
  });

  it('a card is valid on its validFrom and validTo days, and forever when validTo is null', () => {
    expect(reasonOf(withRead({ card: card({ validFrom: '2026-11-30', validTo: '2026-11-30' }) }))).toBe('ok');
    expect(reasonOf(withRead({ card: card({ validTo: null }) }))).toBe('ok');
  });

  it('card dates follow the building time zone, not UTC', () => {
    // 16:30 UTC on 30 November is 00:30 on 1 December in Shanghai.
    const lateUtc: Now = { ...NOW, wallMs: Date.parse('2026-11-30T16:30:00.000Z') };
    expect(reasonOf(withRead({ card: card({ validTo: '2026-11-30' }) }), POLICY, lateUtc)).toBe('CARD_EXPIRED');
    expect(reasonOf(withRead({ card: card({ validTo: '2026-11-30' }) }), POLICY, { ...lateUtc, timezone: 'UTC' })).toBe('ok');
  });

  it('a booking opens exactly bookingEarlyH before its start and closes at its end', () => {
    expect(reasonOf(facts({ booking: { ...BOOKING, from: NOW.wallMs + 6 * H } }))).toBe('ok');
    expect(reasonOf(facts({ booking: { ...BOOKING, from: NOW.wallMs + 6 * H + 1 } }))).toBe('BOOKING_OUTSIDE_WINDOW');
    expect(reasonOf(facts({ booking: { ...BOOKING, to: NOW.wallMs } }))).toBe('ok');
  });
});

describe('decideCheckin: time', () => {
  it('a wall-clock jump does not make a fresh read or verify stale (monotonic ages)', () => {
    expect(reasonOf(facts(), POLICY, { ...NOW, wallMs: NOW.wallMs + 3 * H })).toBe('ok');
    expect(reasonOf(facts(), POLICY, { ...NOW, wallMs: NOW.wallMs - 30 * 60_000 })).toBe('ok');
  });

  it('monotonic time alone makes a read stale, with the wall clock standing still', () => {
    expect(reasonOf(facts(), POLICY, { ...NOW, monoMs: MONO + 111_000 })).toBe('READ_STALE');
  });
});

describe('decideCheckin: acceptance', () => {
  it('a booked stay runs from now to the booking end plus stayCheckoutGraceH, verified by face', () => {
    expect(decideCheckin(facts(), POLICY, NOW)).toEqual({
      ok: true,
      verification: { method: 'face', score: 0.91, liveness: true, algo: 'vendor/3.1' },
      minor: false,
      stayWindow: { from: NOW.wallMs, to: BOOKING.to + 2 * H },
    });
  });

  it('a walk-in stay runs to the expected check-out plus the grace', () => {
    const d = decideCheckin(facts(walkIn), { ...POLICY, stayCheckoutGraceH: 3 }, NOW);
    expect(d).toMatchObject({ ok: true, stayWindow: { from: NOW.wallMs, to: NOW.wallMs + 27 * H } });
  });

  it('an override records the attendant, the reason, and the face result of the read desk if any', () => {
    expect(decideCheckin(overrideFacts(), OVERRIDES_ON, NOW)).toMatchObject({
      ok: true,
      verification: { method: 'attendant', score: null, liveness: null, algo: null, staffId: 'st-7', reason: '人脸机故障' },
    });
    const failedFace = { ...VERIFY, score: 0.4, liveness: false };
    expect(decideCheckin(overrideFacts({ verify: failedFace }), OVERRIDES_ON, NOW)).toMatchObject({
      ok: true,
      verification: { method: 'attendant', score: 0.4, liveness: false, algo: 'vendor/3.1', staffId: 'st-7' },
    });
  });
});

function visitor(patch: Partial<VisitorFacts> = {}): VisitorFacts {
  const { read, verify, unit, lockRoom } = facts();
  return { read, verify, unit, lockRoom, openStayForIdNumber: false, ...patch };
}

describe('decideVisitor', () => {
  it('gives a once-code window of onceCodeHours from now', () => {
    expect(decideVisitor(visitor(), POLICY, NOW)).toEqual({
      ok: true,
      verification: { method: 'face', score: 0.91, liveness: true, algo: 'vendor/3.1' },
      minor: false,
      codeWindow: { from: NOW.wallMs, to: NOW.wallMs + 6 * H },
    });
  });

  it('applies rules 1–6 (with 2), 7, 10, 11 and 12', () => {
    const reason = (v: VisitorFacts) => outcome(decideVisitor(v, POLICY, NOW));
    expect(reason(visitor({ read: { ...READ, usedByStay: true } }))).toBe('READ_USED');
    expect(reason(visitor({ openStayForIdNumber: true }))).toBe('ALREADY_CHECKED_IN');
    expect(reason(visitor({ read: { ...READ, card: card({ validTo: '2020-01-01' }) } }))).toBe('CARD_EXPIRED');
    expect(reason(visitor({ unit: { licensed: true, licenceUntil: null, suspended: true } }))).toBe('UNIT_SUSPENDED');
    expect(reason(visitor({ verify: { ...VERIFY, desk: 'desk-2' } }))).toBe('VERIFICATION_MISSING');
    expect(reason(visitor({ read: { ...READ, card: bornOn('2015-01-01') } }))).toBe('MINOR_NEEDS_GUARDIAN');
    expect(reason(visitor({ lockRoom: false }))).toBe('LOCK_FULL');
  });

  it('a minor visitor with a guardian is let in and flagged', () => {
    const guardian = { name: '李母', phone: '13900000000', relation: '母亲' };
    expect(decideVisitor(visitor({ read: { ...READ, card: bornOn('2015-01-01') }, guardian }), POLICY, NOW)).toMatchObject({ ok: true, minor: true });
  });
});

function reissue(patch: Partial<ReissueFacts> = {}): ReissueFacts {
  const { read, verify, unit, lockRoom } = facts();
  return { read, verify, unit, lockRoom, cardIdHash: GUEST_HASH, stayGuestIdHash: GUEST_HASH, ...patch };
}

describe('decideReissue', () => {
  const reason = (r: ReissueFacts) => outcome(decideReissue(r, POLICY, NOW));

  it('verifies the same person again by face', () => {
    expect(decideReissue(reissue(), POLICY, NOW)).toEqual({ ok: true, verification: { method: 'face', score: 0.91, liveness: true, algo: 'vendor/3.1' } });
  });

  it('refuses another person as not the guest of the stay', () => {
    expect(reason(reissue({ cardIdHash: 'hash-of-stranger' }))).toBe('GUEST_NOT_ON_BOOKING');
  });

  it('applies rules 1, 3–7, 10 and 12', () => {
    expect(reason(reissue({ read: { ...READ, receivedMono: 0 } }))).toBe('READ_STALE');
    expect(reason(reissue({ read: { ...READ, card: { docType: 'foreign-permanent' } } }))).toBe('DOC_UNSUPPORTED');
    expect(reason(reissue({ read: { ...READ, card: card({ validFrom: '2027-01-01' }) } }))).toBe('CARD_NOT_YET_VALID');
    expect(reason(reissue({ unit: { licensed: true, licenceUntil: null, suspended: true } }))).toBe('UNIT_SUSPENDED');
    expect(reason(reissue({ verify: { ...VERIFY, liveness: false } }))).toBe('LIVENESS_FAILED');
    expect(reason(reissue({ lockRoom: false }))).toBe('LOCK_FULL');
  });

  it('checks the stay guest before the face, after the unit', () => {
    expect(reason(reissue({ cardIdHash: 'x', verify: undefined }))).toBe('GUEST_NOT_ON_BOOKING');
    expect(reason(reissue({ cardIdHash: 'x', unit: undefined }))).toBe('UNIT_UNKNOWN');
  });
});
