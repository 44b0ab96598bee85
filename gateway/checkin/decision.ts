// The check-in decision of CHECKIN.md "The decision", and its visitor and reissue
// variants. Pure: the caller looks every fact up inside its SQLite transaction and
// passes it in; nothing here reads a clock or a database. Ages of reads, verifies and
// badge swipes are monotonic; card, booking, licence and age follow the wall clock in
// the building time zone (ARCHITECTURE.md invariant 6). Each rule is a small function
// returning its reason code or undefined; the first failing rule is the answer.
import type { CheckinReason } from '../../protocol/checkin-reasons.ts';
import { ageOn, cardAgreesWithNumber, checkIdNumber } from '../../protocol/id-number.ts';
import type { Card } from '../../protocol/sam/card.ts';
import { localDate } from '../../protocol/time.ts';
import type { Config } from '../config/schema.ts';

export type Policy = Config['policy'];
export type Now = { wallMs: number; monoMs: number; timezone: string };

/** A read whose decode failed with MW_SAM_DOC_UNSUPPORTED: only its type is known. */
export type UnsupportedCard = { docType: 'foreign-permanent' };

export type CardRead = {
  readId: string;
  /** The read's reader is (still) in the config's `readers`. */
  readerConfigured: boolean;
  /** The desk the read was sent to. */
  desk: string;
  receivedMono: number;
  /** A stay was already created from this read. */
  usedByStay: boolean;
  card: Card | UnsupportedCard;
};

/** The latest verify for the read, from whichever desk it came. */
export type FaceVerify = { desk: string; score: number; liveness: boolean; algo: string; receivedMono: number };
/** `licenceUntil` is the last day of the licence (building time zone), or null for no end. */
export type UnitFacts = { licensed: boolean; licenceUntil: string | null; suspended: boolean };
/** `from` and `to` are epoch ms; guests are keyed hashes of their normalised ID numbers. */
export type BookingFacts = { unit: string; cancelled: boolean; from: number; to: number; guestIdHashes: readonly string[] };
export type Override = { staffId: string; reason: string };
/** The latest badge swipe of the override's staff member, at any desk. */
export type BadgeSwipe = { staffId: string; desk: string; receivedMono: number };
export type Guardian = { name: string; phone: string; relation: string };

/** What every variant knows: the read, its verify, the unit the code is for, and lock room. */
export type PersonFacts = {
  read: CardRead | undefined;
  verify: FaceVerify | undefined;
  unit: UnitFacts | undefined;
  /** Every lock of the unit has room for one more live code (rule 12). */
  lockRoom: boolean;
};

export type CheckinFacts = PersonFacts & {
  /** The unit code the request named. */
  unitCode: string;
  openStayForIdNumber: boolean;
  /** The booking the request named ('unknown' when not found), or undefined for a walk-in. */
  booking: BookingFacts | 'unknown' | undefined;
  cardIdHash: string;
  expectedCheckout?: number;
  override?: Override;
  caller: { staffId: string } | undefined;
  /** `override.staffId` is an active staff member. */
  staffKnown: boolean;
  badge: BadgeSwipe | undefined;
  guardian?: Guardian;
};

/** The host stay is the caller's precondition: an unknown or closed stayId is a 404/409, not a refusal. */
export type VisitorFacts = PersonFacts & { openStayForIdNumber: boolean; guardian?: Guardian };

export type ReissueFacts = PersonFacts & { cardIdHash: string; stayGuestIdHash: string };

/** PROTOCOL.md §2.1 `registration/checkin` `verification`. */
export type Verification = {
  method: 'face' | 'attendant';
  score: number | null;
  liveness: boolean | null;
  algo: string | null;
  staffId?: string;
  reason?: string;
};
export type Window = { from: number; to: number };
export type Refused = { ok: false; reason: CheckinReason };
export type CheckinDecision = { ok: true; verification: Verification; minor: boolean; stayWindow: Window } | Refused;
export type VisitorDecision = { ok: true; verification: Verification; minor: boolean; codeWindow: Window } | Refused;
export type ReissueDecision = { ok: true; verification: Verification } | Refused;

type Rule<C> = (c: C) => CheckinReason | undefined;
type Identified = { ok: true; read: CardRead; card: Card; today: string };
type Ctx<F> = Omit<F, 'read'> & Omit<Identified, 'ok'> & { policy: Policy; now: Now };

const HOUR_MS = 3_600_000;
const BADGE_MAX_AGE_MS = 60_000; // rule 10b
const OVERRIDE_REASON_MIN = 4; // rule 10b
const ADULT_AGE = 18; // rule 11

/** CHECKIN.md rules 1–12 (10b replacing 10 when an override is given). */
export function decideCheckin(facts: CheckinFacts, policy: Policy, now: Now): CheckinDecision {
  const who = checkPersonAndUnit(facts, facts.openStayForIdNumber, policy, now); // rules 1–7
  if (!who.ok) return who;
  const c = context(facts, who, policy, now);
  const end = c.booking === undefined ? walkInEnd(c) : bookingEnd(c, c.booking); // rules 8–9
  if (typeof end === 'string') return refuse(end);
  const reason = firstFailing([verified, guardianGiven, lockHasRoom], c); // rules 10–12
  if (reason !== undefined) return refuse(reason);
  const stayWindow = { from: now.wallMs, to: end + policy.stayCheckoutGraceH * HOUR_MS };
  return { ok: true, verification: verificationOf(c), minor: isMinor(c), stayWindow };
}

/**
 * CHECKIN.md "Codes", visitor: rules 1–6, 10 and 11. Rules 7 and 12 apply too, because
 * a visitor's code is a new code on the unit's locks: PROTOCOL.md §2.2 `unit.suspend`
 * allows no new code for a suspended unit, and no code may outlive the unit's licence.
 */
export function decideVisitor(facts: VisitorFacts, policy: Policy, now: Now): VisitorDecision {
  const who = checkPersonAndUnit(facts, facts.openStayForIdNumber, policy, now); // rules 1–7
  if (!who.ok) return who;
  const c = context(facts, who, policy, now);
  const reason = firstFailing([faceVerified, guardianGiven, lockHasRoom], c); // rules 10–12
  if (reason !== undefined) return refuse(reason);
  const codeWindow = { from: now.wallMs, to: now.wallMs + policy.onceCodeHours * HOUR_MS };
  return { ok: true, verification: { method: 'face', ...faceFields(c) }, minor: isMinor(c), codeWindow };
}

/**
 * CHECKIN.md "Codes", reissue: rules 1, 3–6 and 10, the same person as the stay's guest
 * (in rule 8's place, refused as GUEST_NOT_ON_BOOKING), and rules 7 and 12 as for a
 * visitor. Rule 2 does not apply: the guest's own stay is open.
 */
export function decideReissue(facts: ReissueFacts, policy: Policy, now: Now): ReissueDecision {
  const who = checkPersonAndUnit(facts, false, policy, now); // rules 1, 3–7
  if (!who.ok) return who;
  const c = context(facts, who, policy, now);
  const reason = firstFailing([sameGuest, faceVerified, lockHasRoom], c); // rules 8, 10, 12
  return reason === undefined ? { ok: true, verification: { method: 'face', ...faceFields(c) } } : refuse(reason);
}

/** Rules 1–7: the read, the person on its card, and the unit. Rule 2 only when `openStay` applies. */
function checkPersonAndUnit(facts: PersonFacts, openStay: boolean, policy: Policy, now: Now): Identified | Refused {
  const { read } = facts;
  if (read === undefined) return refuse('READ_UNKNOWN'); // rule 1
  const early = readUsable(read, policy, now) ?? (openStay ? 'ALREADY_CHECKED_IN' : undefined); // rules 1–2
  if (early !== undefined) return refuse(early);
  const { card } = read;
  if (card.docType === 'foreign-permanent') return refuse('DOC_UNSUPPORTED'); // rule 3
  const today = localDate(now.wallMs, now.timezone);
  const reason = firstFailing([idWellFormed, cardAgrees, cardInForce, unitOpen], { card, today, unit: facts.unit }); // rules 4–7
  return reason === undefined ? { ok: true, read, card, today } : refuse(reason);
}

// Rule 1. Monotonic age, so a wall-clock jump neither ages nor revives a read. A read
// that is both stale and used is stale: reading the card again is the clerk's next step.
function readUsable(read: CardRead, policy: Policy, now: Now): CheckinReason | undefined {
  if (!read.readerConfigured) return 'READ_UNKNOWN';
  if (now.monoMs - read.receivedMono > policy.readMaxAgeS * 1000) return 'READ_STALE';
  return read.usedByStay ? 'READ_USED' : undefined;
}

type CardCtx = { card: Card; today: string };

// Rule 4, PROTOCOL.md §6.
function idWellFormed({ card, today }: CardCtx): CheckinReason | undefined {
  return checkIdNumber(card.idNumber, today).ok ? undefined : 'ID_INVALID';
}

// Rule 5. A number that is not well formed agrees with nothing.
function cardAgrees({ card, today }: CardCtx): CheckinReason | undefined {
  const id = checkIdNumber(card.idNumber, today);
  return id.ok && cardAgreesWithNumber(card, id) ? undefined : 'CARD_INCONSISTENT';
}

// Rule 6: both ends inclusive, in the building time zone; `validTo: null` (长期) never ends.
function cardInForce({ card, today }: CardCtx): CheckinReason | undefined {
  if (card.validTo !== null && card.validTo < today) return 'CARD_EXPIRED';
  return card.validFrom > today ? 'CARD_NOT_YET_VALID' : undefined;
}

// Rule 7: the licence holds through its `licenceUntil` day.
function unitOpen({ unit, today }: { unit: UnitFacts | undefined; today: string }): CheckinReason | undefined {
  if (unit === undefined) return 'UNIT_UNKNOWN';
  if (!unit.licensed || (unit.licenceUntil !== null && unit.licenceUntil < today)) return 'UNIT_UNLICENSED';
  return unit.suspended ? 'UNIT_SUSPENDED' : undefined;
}

type CheckinCtx = Ctx<CheckinFacts>;

// Rule 8: the stay ends at the booking's `to`. The window opens bookingEarlyH before
// `from` and includes both ends; guests are compared by keyed hash.
function bookingEnd(c: CheckinCtx, booking: BookingFacts | 'unknown'): number | CheckinReason {
  if (booking === 'unknown') return 'BOOKING_UNKNOWN';
  if (booking.unit !== c.unitCode) return 'BOOKING_WRONG_UNIT';
  if (booking.cancelled) return 'BOOKING_CANCELLED';
  const opens = booking.from - c.policy.bookingEarlyH * HOUR_MS;
  if (c.now.wallMs < opens || c.now.wallMs > booking.to) return 'BOOKING_OUTSIDE_WINDOW';
  return booking.guestIdHashes.includes(c.cardIdHash) ? booking.to : 'GUEST_NOT_ON_BOOKING';
}

// Rule 9: a walk-in's stay ends at the expectedCheckout entered at the desk.
function walkInEnd({ policy, now, expectedCheckout }: CheckinCtx): number | CheckinReason {
  if (!policy.walkIns) return 'WALKIN_DISABLED';
  return expectedCheckout !== undefined && expectedCheckout > now.wallMs ? expectedCheckout : 'CHECKOUT_REQUIRED';
}

// Rule 10, or 10b in its place when the request carries an override.
function verified(c: CheckinCtx): CheckinReason | undefined {
  return c.override === undefined ? faceVerified(c) : overrideAllowed(c, c.override);
}

type FaceCtx = { verify: FaceVerify | undefined; read: CardRead; policy: Policy; now: Now };

// Rule 10: "the latest verify for R from the desk R was sent to"; one from another desk
// does not verify this read. `score >= threshold` is false for NaN too.
function faceVerified({ verify, read, policy, now }: FaceCtx): CheckinReason | undefined {
  if (verify === undefined || verify.desk !== read.desk) return 'VERIFICATION_MISSING';
  if (now.monoMs - verify.receivedMono > policy.verifyMaxAgeS * 1000) return 'VERIFICATION_STALE';
  if (!verify.liveness) return 'LIVENESS_FAILED';
  return verify.score >= policy.faceThreshold ? undefined : 'FACE_MISMATCH';
}

// Rule 10b. The written reason belongs with the badge swipe: both are the attendant's own
// confirmation at the desk, and BADGE_REQUIRED's message asks for both.
function overrideAllowed(c: CheckinCtx, override: Override): CheckinReason | undefined {
  if (!c.policy.attendantOverride) return 'OVERRIDE_DISABLED';
  if (!c.staffKnown || c.caller?.staffId !== override.staffId) return 'STAFF_UNKNOWN';
  return badgeSwiped(c, override.staffId) && reasonGiven(override.reason) ? undefined : 'BADGE_REQUIRED';
}

function badgeSwiped({ badge, read, now }: CheckinCtx, staffId: string): boolean {
  if (badge === undefined || badge.staffId !== staffId || badge.desk !== read.desk) return false;
  return now.monoMs - badge.receivedMono <= BADGE_MAX_AGE_MS;
}

/** At least 4 characters (code points) besides surrounding white space. */
function reasonGiven(reason: string): boolean {
  return Array.from(reason.trim()).length >= OVERRIDE_REASON_MIN;
}

type MinorCtx = { card: Card; today: string; guardian?: Guardian | undefined };

// Rule 11 (未成年人"五必须"): every guardian field is filled in.
function guardianGiven(c: MinorCtx): CheckinReason | undefined {
  if (!isMinor(c)) return undefined;
  const g = c.guardian;
  const complete = g !== undefined && [g.name, g.phone, g.relation].every((field) => field.trim() !== '');
  return complete ? undefined : 'MINOR_NEEDS_GUARDIAN';
}

// Rule 11: completed years on the check-in date. Rule 5 made card.birth the number's.
function isMinor({ card, today }: MinorCtx): boolean {
  return ageOn(card.birth, today) < ADULT_AGE;
}

// Rule 12.
function lockHasRoom({ lockRoom }: { lockRoom: boolean }): CheckinReason | undefined {
  return lockRoom ? undefined : 'LOCK_FULL';
}

// Reissue, in rule 8's place: the card's keyed hash is the stay guest's.
function sameGuest({ cardIdHash, stayGuestIdHash }: ReissueFacts): CheckinReason | undefined {
  return cardIdHash === stayGuestIdHash ? undefined : 'GUEST_NOT_ON_BOOKING';
}

function verificationOf(c: CheckinCtx): Verification {
  if (c.override === undefined) return { method: 'face', ...faceFields(c) };
  return { method: 'attendant', ...faceFields(c), staffId: c.override.staffId, reason: c.override.reason };
}

/** The face result of the read's desk, kept on an override too; nulls when there is none. */
function faceFields({ verify, read }: FaceCtx): Pick<Verification, 'score' | 'liveness' | 'algo'> {
  if (verify === undefined || verify.desk !== read.desk) return { score: null, liveness: null, algo: null };
  return { score: verify.score, liveness: verify.liveness, algo: verify.algo };
}

function context<F extends PersonFacts>(facts: F, who: Identified, policy: Policy, now: Now): Ctx<F> {
  return { ...facts, read: who.read, card: who.card, today: who.today, policy, now };
}

function firstFailing<C>(rules: readonly Rule<C>[], c: C): CheckinReason | undefined {
  for (const rule of rules) {
    const reason = rule(c);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

function refuse(reason: CheckinReason): Refused {
  return { ok: false, reason };
}
