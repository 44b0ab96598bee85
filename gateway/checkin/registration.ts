// The upstream events of a check-in (PROTOCOL.md §2.1): the one place the full ID data
// goes, for the police registration duty, and the masked occupancy snapshot.
import type { Card } from '../../protocol/sam/card.ts';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { isoTime } from '../../protocol/time.ts';
import type { NewEvent } from '../outbox/outbox.ts';
import type { Guardian, Verification } from './decision.ts';
import type { StayRow } from './stays.ts';

export function guestOf(card: Card): Record<string, unknown> {
  const { name, idNumber, docType, gender, nation, birth, address, authority, validFrom, validTo, photoSha256, passNumber } = card;
  return { name, idNumber, docType, gender, nation, birth, address, authority, validFrom, validTo, photoSha256, ...(passNumber ? { passNumber } : {}) };
}

export function registrationEvent(type: 'checkin' | 'visitor', r: {
  stayId: string; bookingId: string | null; unit: string; card: Card; verification: Verification;
  guardian?: Guardian; checkinAt: number; expectedCheckout: number; hostStayId?: string;
}): NewEvent {
  const data = {
    stayId: r.stayId,
    bookingId: r.bookingId,
    unit: r.unit,
    guest: guestOf(r.card),
    verification: r.verification,
    ...(r.guardian ? { guardian: r.guardian } : {}),
    checkinAt: isoTime(r.checkinAt),
    expectedCheckout: isoTime(r.expectedCheckout),
    ...(r.hostStayId ? { hostStayId: r.hostStayId } : {}),
  };
  return { class: 'registration', type, unit: r.unit, data };
}

export function checkoutEvent(stay: StayRow, at: number, by: 'desk' | 'platform' | 'auto'): NewEvent {
  return { class: 'registration', type: 'checkout', unit: stay.unit, data: { stayId: stay.stay_id, unit: stay.unit, checkoutAt: isoTime(at), by } };
}

/** CHECKIN.md Occupancy: stayIds and masked names; the full data is in the registrations. */
export function occupancyEvent(unit: string, open: readonly StayRow[]): NewEvent {
  const occupants = open.map((s) => ({ stayId: s.stay_id, name: s.name_masked, since: isoTime(s.checkin_at) }));
  return { class: 'occupancy', type: 'unit', unit, data: { unit, occupants, count: occupants.length } };
}

export function refusalEvents(reason: string, unit: string | null, idNumber: string | null): NewEvent[] {
  const masked = idNumber ? maskIdNumber(idNumber) : null;
  const refused: NewEvent = { class: 'security', type: 'checkin_refused', ...(unit ? { unit } : {}), data: { reason, unit, idNumber: masked } };
  if (reason !== 'UNIT_SUSPENDED' || !unit) return [refused];
  return [refused, { class: 'security', type: 'unit_suspended_attempt', unit, data: { unit, idNumber: masked } }];
}

export const maskedName = (card: { name?: string }) => maskName(card.name ?? '');
