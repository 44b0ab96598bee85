// Everything the check-in service reads while it decides, gathered in one place: the
// facts of CHECKIN.md's rules are looked up here, inside the caller's transaction.
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../ingest/tx.ts';
import type { UnitStore } from '../store/units.ts';
import type { EventBus } from '../event-bus.ts';
import type { Db } from '../store/db.ts';
import type { BookingFacts, CardRead, FaceVerify, Now, Policy, UnitFacts } from './decision.ts';
import type { ReadRegistry } from './reads.ts';
import type { StayStore } from './stays.ts';
import type { PersonalData } from './personal-data.ts';
import type { LockCodes, StaffDirectory } from './ports.ts';
import type { BadgeSwipes } from '../staff/badge-swipes.ts';
import { isoTime } from '../../protocol/time.ts';

export type PersonFactsResult = {
  read: CardRead | undefined;
  verify: FaceVerify | undefined;
  unit: UnitFacts | undefined;
  lockRoom: boolean;
  cardIdHash: string;
  idNumber: string | null;
};

export type CheckinDeps = {
  db: Db; units: UnitStore; stays: StayStore; reads: ReadRegistry; personal: PersonalData;
  locks: LockCodes; staff: StaffDirectory; badges: BadgeSwipes; bus: EventBus;
  policy: Policy; timezone: string; clock: Clock; log: Logger; readerIds: () => ReadonlySet<string>;
};

export class CheckinContext {
  readonly units; readonly stays; readonly reads; readonly personal; readonly locks; readonly staff;
  readonly badges; readonly policy; readonly clock; readonly log;
  private readonly locksOfUnit;

  constructor(private readonly deps: CheckinDeps) {
    ({ units: this.units, stays: this.stays, reads: this.reads, personal: this.personal, locks: this.locks, staff: this.staff,
      badges: this.badges, policy: this.policy, clock: this.clock, log: this.log } = deps);
    this.locksOfUnit = deps.db.prepare<[string], { id: string }>("SELECT id FROM devices WHERE unit = ? AND kind = 'lock' AND disabled = 0 ORDER BY id");
  }

  now(): Now {
    return { wallMs: this.clock.now(), monoMs: this.clock.monotonic(), timezone: this.deps.timezone };
  }

  /** A device belongs to the unit that lists it (INTERFACES.md `unit add`). */
  locksOf(unit: string): string[] {
    return this.locksOfUnit.all(unit).map((r) => r.id);
  }

  personFacts(readId: string, unitCode: string): PersonFactsResult {
    const record = this.reads.find(readId);
    const card = record?.card;
    const idNumber = card && 'idNumber' in card ? card.idNumber : null;
    const unit = this.units.find(unitCode);
    const verify = this.reads.latestVerify(readId);
    return {
      read: record && { readId, readerConfigured: this.deps.readerIds().has(record.readerId), desk: record.desk, receivedMono: record.receivedMono, usedByStay: record.usedByStay, card: record.card },
      verify: verify && { desk: verify.desk, score: verify.score, liveness: verify.liveness, algo: verify.algo, receivedMono: verify.receivedMono },
      unit: unit && { licensed: unit.licensed, licenceUntil: unit.licenceUntil, suspended: unit.suspended },
      lockRoom: this.locksOf(unitCode).every((id) => this.locks.hasRoom(id)),
      cardIdHash: idNumber ? this.personal.idHash(idNumber) : '',
      idNumber,
    };
  }

  bookingFacts(bookingId: string): BookingFacts | 'unknown' {
    const row = this.stays.booking(bookingId);
    if (!row) return 'unknown';
    return { unit: row.unit, cancelled: row.cancelled !== 0, from: row.from_ms, to: row.to_ms, guestIdHashes: this.stays.bookingGuests(bookingId) };
  }

  /** The console sees each decision once it is durable (INTERFACES.md /api/events). */
  announce(tx: Tx, readId: string, unit: string, outcome: { ok: true; stayId: string } | { ok: false; reason: string }): void {
    const desk = this.reads.find(readId)?.desk ?? null;
    tx.after(() => this.deps.bus.emit('decision', { readId, desk, unit, ...outcome, at: isoTime(tx.now) }));
  }
}
