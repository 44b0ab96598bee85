// Check-in, visitors and lost-code reissue (CHECKIN.md). Each runs inside one group
// commit: the decision, then on acceptance the stay, `registration/*`, `occupancy/unit`
// and the codes, all in one SQLite transaction (invariant 1). The code digits are in the
// result only, returned once to the caller.
import { ulid } from 'ulid';
import { checkinReasonMessage, type CheckinReason } from '../../protocol/checkin-reasons.ts';
import type { Card } from '../../protocol/sam/card.ts';
import { localDate } from '../../protocol/time.ts';
import type { Tx } from '../ingest/tx.ts';
import { decideCheckin, decideReissue, decideVisitor, type Guardian, type Override } from './decision.ts';
import { maskedName, occupancyEvent, refusalEvents, registrationEvent, guestOf } from './registration.ts';
import type { IssuedCode } from './ports.ts';
import type { CheckinContext } from './context.ts';
import { unitShaped } from '../typed-text.ts';

export type Refusal = { ok: false; status: 422; body: { reason: CheckinReason; message: { zh: string; en: string } } };
export type Problem = { ok: false; status: 404 | 409; code: string; message: { zh: string; en: string } };
export type Accepted<B> = { ok: true; status: 201; body: B };

export type CheckinRequest = {
  readId: string; unit: string; bookingId?: string; expectedCheckout?: string;
  override?: Override; guardian?: Guardian; callerStaffId?: string;
};

const HOUR_MS = 3_600_000;

export class CheckinService {
  constructor(private readonly c: CheckinContext) {}

  checkin(tx: Tx, req: CheckinRequest): Accepted<{ stayId: string; codes: IssuedCode[] }> | Refusal {
    const person = this.c.personFacts(req.readId, req.unit);
    const bookingId = req.bookingId;
    const booking = bookingId === undefined ? undefined : this.c.bookingFacts(bookingId);
    const expectedCheckout = req.expectedCheckout === undefined ? undefined : Date.parse(req.expectedCheckout);
    const decision = decideCheckin({
      ...person,
      unitCode: req.unit,
      openStayForIdNumber: this.c.stays.openStayOf(person.cardIdHash) !== undefined,
      booking,
      cardIdHash: person.cardIdHash,
      ...(expectedCheckout !== undefined && !Number.isNaN(expectedCheckout) ? { expectedCheckout } : {}),
      ...(req.override ? { override: req.override } : {}),
      caller: req.callerStaffId ? { staffId: req.callerStaffId } : undefined,
      staffKnown: req.override ? this.c.staff.known(req.override.staffId) : false,
      badge: req.override ? this.c.badges.latest(req.override.staffId) : undefined,
      ...(req.guardian ? { guardian: req.guardian } : {}),
    }, this.c.policy, this.c.now());
    if (!decision.ok) return this.refuse(tx, decision.reason, req.unit, person.idNumber, req.readId);
    const card = person.read!.card as Card;
    const now = tx.now;
    const stayId = `s_${ulid()}`;
    const stayEnd = booking && booking !== 'unknown' ? booking.to : expectedCheckout!;
    const bookingRef = bookingId ?? this.walkInBooking(card, person.cardIdHash, req.unit, now, stayEnd);
    this.c.stays.create({
      stayId, unit: req.unit, bookingId: bookingRef, idHash: person.cardIdHash, nameMasked: maskedName(card),
      guestSealed: this.c.personal.sealJson(guestOf(card)), checkinAt: now, endsAt: decision.stayWindow.to,
    });
    this.c.reads.markUsed(tx, req.readId);
    tx.emit(registrationEvent('checkin', {
      stayId, bookingId: bookingRef, unit: req.unit, card, verification: decision.verification,
      ...(req.guardian ? { guardian: req.guardian } : {}), checkinAt: now, expectedCheckout: stayEnd,
    }));
    tx.emit(occupancyEvent(req.unit, this.c.stays.openStaysIn(req.unit)));
    if (req.override) tx.emit({ class: 'security', type: 'attendant_override', unit: req.unit, data: { stayId, staffId: req.override.staffId, reason: req.override.reason } });
    const codes = this.c.locks.issueCodes(tx, { unit: req.unit, lockIds: this.c.locksOf(req.unit), kind: 'stay', validFrom: now, validTo: decision.stayWindow.to, uses: null, stayId });
    this.c.announce(tx, req.readId, req.unit, { ok: true, stayId });
    return { ok: true, status: 201, body: { stayId, codes } };
  }

  visitor(tx: Tx, req: { readId: string; stayId: string; guardian?: Guardian }): Accepted<{ visitId: string; codes: IssuedCode[] }> | Refusal | Problem {
    const host = this.openStay(req.stayId);
    if (!host.ok) return host;
    const unit = host.stay.unit;
    const person = this.c.personFacts(req.readId, unit);
    const decision = decideVisitor({
      ...person,
      openStayForIdNumber: this.c.stays.openStayOf(person.cardIdHash) !== undefined,
      ...(req.guardian ? { guardian: req.guardian } : {}),
    }, this.c.policy, this.c.now());
    if (!decision.ok) return this.refuse(tx, decision.reason, unit, person.idNumber, req.readId);
    const card = person.read!.card as Card;
    const visitId = `v_${ulid()}`;
    this.c.stays.addVisit({ visitId, hostStayId: req.stayId, idHash: person.cardIdHash, guestSealed: this.c.personal.sealJson(guestOf(card)), at: tx.now });
    this.c.reads.markUsed(tx, req.readId);
    tx.emit(registrationEvent('visitor', {
      stayId: visitId, bookingId: host.stay.booking_id, unit, card, verification: decision.verification,
      ...(req.guardian ? { guardian: req.guardian } : {}), checkinAt: tx.now, expectedCheckout: decision.codeWindow.to, hostStayId: req.stayId,
    }));
    const codes = this.c.locks.issueCodes(tx, { unit, lockIds: this.c.locksOf(unit), kind: 'once', validFrom: tx.now, validTo: decision.codeWindow.to, uses: 1, visitId });
    this.c.announce(tx, req.readId, unit, { ok: true, stayId: req.stayId });
    return { ok: true, status: 201, body: { visitId, codes } };
  }

  /** CHECKIN.md Codes, reissue: a fresh read and verification of the same person. */
  reissue(tx: Tx, stayId: string, readId: string): Accepted<{ stayId: string; codes: IssuedCode[] }> | Refusal | Problem {
    const found = this.openStay(stayId);
    if (!found.ok) return found;
    const { stay } = found;
    const person = this.c.personFacts(readId, stay.unit);
    const decision = decideReissue({ ...person, cardIdHash: person.cardIdHash, stayGuestIdHash: stay.id_hash }, this.c.policy, this.c.now());
    if (!decision.ok) return this.refuse(tx, decision.reason, stay.unit, person.idNumber, readId);
    this.c.locks.revokeCodes(tx, { stayId });
    this.c.reads.markUsed(tx, readId);
    const codes = this.c.locks.issueCodes(tx, { unit: stay.unit, lockIds: this.c.locksOf(stay.unit), kind: 'stay', validFrom: tx.now, validTo: stay.ends_at, uses: null, stayId });
    this.c.announce(tx, readId, stay.unit, { ok: true, stayId });
    return { ok: true, status: 201, body: { stayId, codes } };
  }

  /** POST /api/staff-codes: a once code for a cleaner or a repair, against a fresh badge swipe. */
  staffCodes(tx: Tx, req: { unit: string; staffId: string }): Accepted<{ codes: IssuedCode[] }> | Refusal {
    const unit = this.c.units.find(req.unit);
    const swipe = this.c.badges.latest(req.staffId);
    const mono = this.c.clock.monotonic();
    let reason: CheckinReason | undefined;
    if (!this.c.staff.known(req.staffId)) reason = 'STAFF_UNKNOWN';
    else if (!swipe || mono - swipe.receivedMono > 60_000) reason = 'BADGE_REQUIRED';
    else if (!unit) reason = 'UNIT_UNKNOWN';
    // CHECKIN.md "Codes": no code outlives the unit's licence (rule 7's test).
    else if (!unit.licensed || (unit.licenceUntil !== null && unit.licenceUntil < localDate(this.c.clock.now(), this.c.now().timezone))) reason = 'UNIT_UNLICENSED';
    else if (unit.suspended) reason = 'UNIT_SUSPENDED';
    else if (!this.c.locksOf(req.unit).every((id) => this.c.locks.hasRoom(id))) reason = 'LOCK_FULL';
    if (reason) return this.refuse(tx, reason, req.unit, null);
    const validTo = tx.now + this.c.policy.onceCodeHours * HOUR_MS;
    const codes = this.c.locks.issueCodes(tx, { unit: req.unit, lockIds: this.c.locksOf(req.unit), kind: 'staff', validFrom: tx.now, validTo, uses: 1 });
    return { ok: true, status: 201, body: { codes } };
  }

  private openStay(stayId: string): { ok: true; stay: NonNullable<ReturnType<CheckinContext['stays']['stay']>> } | Problem {
    const stay = this.c.stays.stay(stayId);
    if (!stay) return { ok: false, status: 404, code: 'UNKNOWN_STAY', message: { zh: '没有这个入住记录', en: 'There is no such stay.' } };
    if (stay.checkout_at !== null) return { ok: false, status: 409, code: 'STAY_CLOSED', message: { zh: '该入住已退房', en: 'This stay is already checked out.' } };
    return { ok: true, stay };
  }

  /** A walk-in gets a booking made at the desk (CHECKIN.md Objects), `b_` + ULID. */
  private walkInBooking(card: Card, idHash: string, unit: string, now: number, to: number): string {
    const bookingId = `b_${ulid()}`;
    this.c.stays.upsertBooking({
      bookingId, unit, from: now, to, source: 'walkin',
      guestsSealed: this.c.personal.sealJson([{ name: card.name, idNumber: card.idNumber }]), guestHashes: [idHash],
    }, now);
    return bookingId;
  }

  private refuse(tx: Tx, reason: CheckinReason, unit: string | null, idNumber: string | null, readId?: string): Refusal {
    // An unprovisioned unit is whatever the caller typed, sometimes a guest's name.
    const reported = unit === null ? null : unitShaped(unit, this.c.units.find(unit) !== undefined);
    for (const event of refusalEvents(reason, reported, idNumber)) tx.emit(event);
    if (readId && reported) this.c.announce(tx, readId, reported, { ok: false, reason });
    this.c.log.info({ reason, unit: reported }, 'check-in refused');
    return { ok: false, status: 422, body: { reason, message: checkinReasonMessage(reason) } };
  }
}
