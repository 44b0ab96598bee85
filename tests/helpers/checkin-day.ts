// A front desk's day in one call, for tests that then look at what it left behind (issue 9:
// data at rest, logs, metrics, events): a walk-in read on the network reader, a platform
// booking and its guest, a visitor of the walk-in, and a staff code, each with its codes.
import { expect } from 'vitest';
import { isoTime } from '../../protocol/time.ts';
import type { CardFields } from '../../protocol/sam/index.ts';
import { DAY, HOUR, STAFF, UNIT, type ApiReply, type Scene } from './checkin-setup.ts';

export type CheckinDay = { walkIn: ApiReply; booked: ApiReply; visitor: ApiReply; staff: ApiReply; codes: string[] };

export async function playCheckinDay(s: Scene, people: { walkIn: CardFields; booked: CardFields; visitor: CardFields }): Promise<CheckinDay> {
  const walkInRead = await s.networkRead(people.walkIn);
  s.verify(walkInRead);
  const walkIn = await s.post('/api/checkins', { readId: walkInRead, unit: UNIT, expectedCheckout: isoTime(s.clock.now() + 2 * DAY) });
  expect(walkIn.status).toBe(201);
  const upsert = await s.command('booking.upsert', {
    bookingId: 'bk-day', unit: UNIT, from: isoTime(s.clock.now() - HOUR), to: isoTime(s.clock.now() + DAY),
    guests: [{ name: people.booked.name, idNumber: people.booked.idNumber }],
  });
  expect(upsert.status).toBe('ok');
  const booked = await s.post('/api/checkins', { readId: s.verifiedRead(people.booked), unit: UNIT, bookingId: 'bk-day' });
  expect(booked.status).toBe(201);
  const visitor = await s.post('/api/visitors', { readId: s.verifiedRead(people.visitor), stayId: walkIn.body.stayId });
  expect(visitor.status).toBe(201);
  s.swipe(STAFF);
  const staff = await s.post('/api/staff-codes', { unit: UNIT, staffId: STAFF });
  expect(staff.status).toBe(201);
  const codes = [walkIn, booked, visitor, staff].flatMap((r) => (r.body.codes as Array<{ code: string }>).map((c) => c.code));
  return { walkIn, booked, visitor, staff, codes };
}
