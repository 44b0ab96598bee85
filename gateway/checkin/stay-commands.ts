// Check-out and the platform commands about bookings and stays (CHECKIN.md Codes,
// PROTOCOL.md §2.2): booking.upsert, booking.cancel, stay.checkout, occupancy.snapshot,
// and the revocation that unit.suspend needs.
import type { Tx } from '../ingest/tx.ts';
import type { CommandDispatcher } from '../commands/dispatcher.ts';
import { commandError } from '../commands/dispatcher.ts';
import { maskName } from '../../protocol/id-number.ts';
import type { CheckinContext } from './context.ts';
import { checkoutEvent, occupancyEvent } from './registration.ts';

const HOUR_MS = 3_600_000;

export class StayLifecycle {
  constructor(private readonly c: CheckinContext) {}

  /**
   * Closes the stay, revokes its codes and its visitors' once codes (a visitor comes to
   * see the guest, who has left), reports the check-out and the new occupancy.
   */
  checkout(tx: Tx, stayId: string, by: 'desk' | 'platform' | 'auto'): { stayId: string; revokedCodes: number } | 'unknown' | 'closed' {
    const stay = this.c.stays.stay(stayId);
    if (!stay) return 'unknown';
    if (!this.c.stays.close(stayId, tx.now, by)) return 'closed';
    let revokedCodes = this.c.locks.revokeCodes(tx, { stayId });
    for (const visitId of this.c.stays.visitsOf(stayId)) revokedCodes += this.c.locks.revokeCodes(tx, { visitId });
    tx.emit(checkoutEvent(stay, tx.now, by));
    tx.emit(occupancyEvent(stay.unit, this.c.stays.openStaysIn(stay.unit)));
    return { stayId, revokedCodes };
  }

  /** CHECKIN.md: at the end of its window (booking end + grace) a stay is checked out, `by: "auto"`. */
  checkoutDue(tx: Tx): number {
    const due = this.c.stays.dueForCheckout(tx.now);
    for (const stay of due) this.checkout(tx, stay.stay_id, 'auto');
    return due.length;
  }

  occupants(unit: string | null): number {
    return unit ? this.c.stays.openStaysIn(unit).length : 0;
  }

  register(commands: CommandDispatcher): void {
    commands.register('booking.upsert', (tx, cmd) => {
      if (!this.c.units.find(cmd.unit)) return commandError('UNKNOWN_UNIT', `no unit ${cmd.unit}`);
      const to = Date.parse(cmd.to);
      this.c.stays.upsertBooking({
        bookingId: cmd.bookingId, unit: cmd.unit, from: Date.parse(cmd.from), to, source: 'platform',
        guestsSealed: this.c.personal.sealJson(cmd.guests.map((g) => ({ name: g.name, idNumber: g.idNumber }))),
        guestHashes: cmd.guests.map((g) => this.c.personal.idHash(g.idNumber)),
      }, tx.now);
      // §2.2: when `to` changes, the stay codes of the booking's open stays follow it.
      for (const stay of this.c.stays.openStaysOfBooking(cmd.bookingId)) {
        const endsAt = to + this.c.policy.stayCheckoutGraceH * HOUR_MS;
        this.c.stays.setEnd(stay.stay_id, endsAt);
        this.c.locks.retimeStayCodes(tx, stay.stay_id, endsAt);
      }
      return { status: 'ok' };
    });
    commands.register('booking.cancel', (_tx, cmd) =>
      (this.c.stays.cancelBooking(cmd.bookingId) ? { status: 'ok' } : commandError('UNKNOWN_BOOKING', `no booking ${cmd.bookingId}`)));
    commands.register('stay.checkout', (tx, cmd) =>
      (this.checkout(tx, cmd.stayId, 'platform') === 'unknown' ? commandError('UNKNOWN_STAY', `no stay ${cmd.stayId}`) : { status: 'ok' }));
    commands.register('occupancy.snapshot', (tx, cmd) => {
      if (cmd.unit !== undefined && !this.c.units.find(cmd.unit)) return commandError('UNKNOWN_UNIT', `no unit ${cmd.unit}`);
      const units = cmd.unit !== undefined ? [cmd.unit] : this.c.units.list().map((u) => u.code);
      for (const unit of units) tx.emit(occupancyEvent(unit, this.c.stays.openStaysIn(unit)));
      return { status: 'ok' };
    });
  }

  /** For GET /api/units: the registered occupants, masked. */
  occupantList(unit: string): Array<{ stayId: string; name: string; since: number; until: number }> {
    return this.c.stays.openStaysIn(unit).map((s) => ({ stayId: s.stay_id, name: s.name_masked || maskName(''), since: s.checkin_at, until: s.ends_at }));
  }
}
