// Bookings and stays in SQLite (CHECKIN.md Objects). Guest details are sealed; guests
// are found by the keyed hash of their ID number.
import type { Db } from '../store/db.ts';

export type BookingRow = { booking_id: string; unit: string; from_ms: number; to_ms: number; cancelled: number; source: string };
export type StayRow = {
  stay_id: string; unit: string; booking_id: string | null; id_hash: string; name_masked: string;
  guest_sealed: Buffer | null; checkin_at: number; ends_at: number; checkout_at: number | null; checkout_by: string | null;
};

export type NewStay = {
  stayId: string; unit: string; bookingId: string | null; idHash: string; nameMasked: string;
  guestSealed: Buffer; checkinAt: number; endsAt: number;
};

export class StayStore {
  private readonly s;

  constructor(private readonly db: Db) {
    this.s = {
      booking: db.prepare<[string], BookingRow>('SELECT * FROM bookings WHERE booking_id = ?'),
      guests: db.prepare<[string], { id_hash: string }>('SELECT id_hash FROM booking_guests WHERE booking_id = ?'),
      stay: db.prepare<[string], StayRow>('SELECT * FROM stays WHERE stay_id = ?'),
      openByGuest: db.prepare<[string], StayRow>('SELECT * FROM stays WHERE id_hash = ? AND checkout_at IS NULL'),
      openInUnit: db.prepare<[string], StayRow>('SELECT * FROM stays WHERE unit = ? AND checkout_at IS NULL ORDER BY checkin_at'),
      openOfBooking: db.prepare<[string], StayRow>('SELECT * FROM stays WHERE booking_id = ? AND checkout_at IS NULL'),
      due: db.prepare<[number], StayRow>('SELECT * FROM stays WHERE checkout_at IS NULL AND ends_at <= ?'),
    };
  }

  booking(id: string): BookingRow | undefined {
    return this.s.booking.get(id);
  }

  bookingGuests(id: string): string[] {
    return this.s.guests.all(id).map((r) => r.id_hash);
  }

  /** PROTOCOL.md §2.2 booking.upsert: create or replace, guests included. */
  upsertBooking(b: { bookingId: string; unit: string; from: number; to: number; source: string; guestsSealed: Buffer; guestHashes: string[] }, now: number): void {
    this.db.prepare(
      `INSERT INTO bookings (booking_id, unit, from_ms, to_ms, source, guests_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (booking_id) DO UPDATE SET unit = excluded.unit, from_ms = excluded.from_ms, to_ms = excluded.to_ms, guests_sealed = excluded.guests_sealed`,
    ).run(b.bookingId, b.unit, b.from, b.to, b.source, b.guestsSealed, now);
    this.db.prepare('DELETE FROM booking_guests WHERE booking_id = ?').run(b.bookingId);
    const insert = this.db.prepare('INSERT OR IGNORE INTO booking_guests (booking_id, id_hash) VALUES (?, ?)');
    for (const hash of b.guestHashes) insert.run(b.bookingId, hash);
  }

  cancelBooking(id: string): boolean {
    return this.db.prepare('UPDATE bookings SET cancelled = 1 WHERE booking_id = ?').run(id).changes > 0;
  }

  stay(id: string): StayRow | undefined {
    return this.s.stay.get(id);
  }

  openStayOf(idHash: string): StayRow | undefined {
    return this.s.openByGuest.get(idHash);
  }

  openStaysIn(unit: string): StayRow[] {
    return this.s.openInUnit.all(unit);
  }

  openStaysOfBooking(bookingId: string): StayRow[] {
    return this.s.openOfBooking.all(bookingId);
  }

  dueForCheckout(now: number): StayRow[] {
    return this.s.due.all(now);
  }

  create(stay: NewStay): void {
    this.db.prepare(
      `INSERT INTO stays (stay_id, unit, booking_id, id_hash, name_masked, guest_sealed, checkin_at, ends_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(stay.stayId, stay.unit, stay.bookingId, stay.idHash, stay.nameMasked, stay.guestSealed, stay.checkinAt, stay.endsAt);
  }

  setEnd(stayId: string, endsAt: number): void {
    this.db.prepare('UPDATE stays SET ends_at = ? WHERE stay_id = ?').run(endsAt, stayId);
  }

  close(stayId: string, at: number, by: 'desk' | 'platform' | 'auto'): boolean {
    return this.db.prepare('UPDATE stays SET checkout_at = ?, checkout_by = ? WHERE stay_id = ? AND checkout_at IS NULL')
      .run(at, by, stayId).changes > 0;
  }

  addVisit(v: { visitId: string; hostStayId: string; idHash: string; guestSealed: Buffer; at: number }): void {
    this.db.prepare('INSERT INTO visits (visit_id, host_stay_id, id_hash, guest_sealed, visit_at) VALUES (?, ?, ?, ?, ?)')
      .run(v.visitId, v.hostStayId, v.idHash, v.guestSealed, v.at);
  }

  visitsOf(hostStayId: string): string[] {
    return this.db.prepare<[string], { visit_id: string }>('SELECT visit_id FROM visits WHERE host_stay_id = ?').all(hostStayId).map((r) => r.visit_id);
  }

  /** ARCHITECTURE.md invariant 8: sealed details of stays closed before `cutoff` are erased. */
  purgePersonalData(cutoff: number): number {
    const stays = this.db.prepare('UPDATE stays SET guest_sealed = NULL WHERE checkout_at IS NOT NULL AND checkout_at < ? AND guest_sealed IS NOT NULL').run(cutoff).changes;
    const visits = this.db.prepare('UPDATE visits SET guest_sealed = NULL WHERE visit_at < ? AND guest_sealed IS NOT NULL').run(cutoff).changes;
    const bookings = this.db.prepare('UPDATE bookings SET guests_sealed = NULL WHERE to_ms < ? AND guests_sealed IS NOT NULL').run(cutoff).changes;
    return stays + visits + bookings;
  }
}
