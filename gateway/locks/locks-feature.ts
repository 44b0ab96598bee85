// The locks feature (PROTOCOL.md §1.2, §1.3; CHECKIN.md "Codes"): answers code pulls,
// hints locks after every change of their list, maps lock events upstream, expires codes
// on a monotonic sweep, and gives the check-in feature its code API. Plain codes exist
// only in the return value of issueCodes (ARCHITECTURE.md invariant 7).
import type { Feature } from '../feature.ts';
import type { Gateway } from '../main.ts';
import type { Tx } from '../ingest/tx.ts';
import type { Logger } from '../logger.ts';
import { every } from '../maintenance.ts';
import { commandError, type CommandOutcome } from '../commands/dispatcher.ts';
import type { Command } from '../../protocol/commands.ts';
import type { LockPullPayload } from '../../protocol/device-messages.ts';
import { deviceTopic } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';
import { CodeStore, type CodeKind, type ListedCode } from './code-store.ts';
import { LockEvents, realTimers, type Timers } from './lock-events.ts';

export { LockFullError } from './code-store.ts';

/** Codes past validTo leave their lists within this long even when no lock pulls. */
const SWEEP_MS = 30_000;

export type LocksOptions = { timers?: Timers; sweepMs?: number };

export type IssueRequest = {
  unit: string;
  lockIds: string[];
  kind: CodeKind;
  validFrom: number;
  validTo: number;
  uses: number | null;
  stayId?: string;
  visitId?: string;
};

/** `code` is the plain digits, to be shown once and dropped. */
export type IssuedLockCode = { lockId: string; codeId: string; code: string; validFrom: string; validTo: string; uses: number | null };
export type UnitLiveCode = { codeId: string; lockId: string; kind: CodeKind; validFrom: string; validTo: string; uses: number | null };
export type RevokeCodesScope = { stayId: string } | { visitId: string } | { codeId: string } | { unit: string };

export class LocksFeature implements Feature {
  private gw!: Gateway;
  private store!: CodeStore;
  private events!: LockEvents;
  private log!: Logger;
  private unitLocks!: { enabled: (unit: string) => string[]; all: (unit: string) => string[] };
  private unitOfStay!: { get(stayId: string): { unit: string | null } | undefined };
  private stopSweep: (() => void) | null = null;
  /** Locks to hint after the commit of each piece of work, one hint per lock. */
  private readonly hints = new WeakMap<Tx, Set<string>>();

  constructor(private readonly opts: LocksOptions = {}) {}

  attach(gateway: Gateway): void {
    this.gw = gateway;
    this.log = gateway.logger.child({ component: 'locks' });
    this.store = new CodeStore(gateway.db, gateway.dataKey);
    this.events = new LockEvents({
      store: this.store,
      changed: (tx, lockIds) => this.changed(tx, lockIds),
      transact: (fn) => gateway.transact(fn),
      doorAjarMs: gateway.config.policy.doorAjarMin * 60_000,
      timers: this.opts.timers ?? realTimers,
      logger: this.log,
    });
    // A device belongs to the unit that lists it (INTERFACES.md `unit add`).
    const enabled = gateway.db.prepare<[string], { id: string }>(`SELECT id FROM devices WHERE unit = ? AND kind = 'lock' AND disabled = 0 ORDER BY id`);
    const all = gateway.db.prepare<[string], { id: string }>(`SELECT id FROM devices WHERE unit = ? AND kind = 'lock' ORDER BY id`);
    this.unitLocks = { enabled: (unit) => enabled.all(unit).map((r) => r.id), all: (unit) => all.all(unit).map((r) => r.id) };
    this.unitOfStay = gateway.db.prepare<[string], { unit: string | null }>(
      'SELECT d.unit FROM codes c JOIN devices d ON d.id = c.lock_id WHERE c.stay_id = ? LIMIT 1');
    gateway.ingest.on('lock', 'pull', (tx, device, message) => this.pull(tx, device.id, message.payload));
    gateway.ingest.on('lock', 'event', (tx, device, message) => this.events.handle(tx, device, message.payload),
      ({ payload }) => LockEvents.isUrgent(payload));
    gateway.commands.register('code.revoke', (tx, command) => this.revokeCommand(tx, command));
  }

  start(): void {
    this.stopSweep = every(this.opts.sweepMs ?? SWEEP_MS, () => this.sweep(), (err) => this.log.error({ err }, 'code expiry sweep failed'));
  }

  stop(): void {
    this.stopSweep?.();
    this.stopSweep = null;
    this.events.stop();
  }

  /**
   * CHECKIN.md "On acceptance" step 3: one code per lock, each lock's version bumped and
   * `audit/code_issued` (ids only) enqueued in the caller's transaction; the hints go out
   * after its commit. Throws LockFullError (rolling the caller back) past 200 codes.
   */
  issueCodes(tx: Tx, req: IssueRequest): IssuedLockCode[] {
    const own = new Set(this.unitLocks.enabled(req.unit));
    const stranger = req.lockIds.find((id) => !own.has(id));
    if (stranger !== undefined) throw new Error(`${stranger} is not an enabled lock of unit ${req.unit}`);
    const { unit, lockIds, ...asked } = req;
    const terms = { ...asked, validTo: this.withinLicence(unit, asked.validTo) };
    const issued = lockIds.map((lockId) => ({ lockId, ...this.store.issue({ ...terms, lockId }, tx.now) }));
    if (issued.length === 0) return [];
    tx.emit({
      class: 'audit', type: 'code_issued', unit,
      data: {
        unit, kind: req.kind, validFrom: isoTime(req.validFrom), validTo: isoTime(terms.validTo), uses: req.uses,
        ...(req.stayId ? { stayId: req.stayId } : {}), ...(req.visitId ? { visitId: req.visitId } : {}),
        codes: issued.map((c) => ({ codeId: c.codeId, lockId: c.lockId })),
      },
    });
    this.changed(tx, lockIds);
    return issued.map((c) => ({
      lockId: c.lockId, codeId: c.codeId, code: c.code, validFrom: isoTime(c.validFrom), validTo: isoTime(c.validTo), uses: c.uses,
    }));
  }

  /** Revokes the live codes in scope (check-out, reissue, suspension, `code.revoke`). */
  revokeCodes(tx: Tx, scope: RevokeCodesScope): number {
    // Every lock the unit lists, disabled ones too, so a re-enabled lock brings nothing back.
    const revoked = this.store.revoke('unit' in scope ? { lockIds: this.unitLocks.all(scope.unit) } : scope, tx.now);
    if (revoked.count === 0) return 0;
    const unit = 'unit' in scope ? { unit: scope.unit } : {};
    tx.emit({ class: 'audit', type: 'code_revoked', ...unit, data: { ...scope, count: revoked.count, codes: revoked.codes } });
    this.changed(tx, revoked.lockIds);
    return revoked.count;
  }

  /** PROTOCOL.md §2.2: when a booking's `to` changes, its open stays' codes follow it. */
  retimeStayCodes(tx: Tx, stayId: string, validTo: number): number {
    const unit = this.unitOfStay.get(stayId)?.unit;
    const lockIds = this.store.retime(stayId, unit ? this.withinLicence(unit, validTo) : validTo);
    this.changed(tx, lockIds);
    return lockIds.length;
  }

  /** CHECKIN.md rule 12: the lock has room for one more live code. */
  hasRoom(lockId: string): boolean {
    return this.store.hasRoom(lockId, this.gw.clock.now());
  }

  /**
   * CHECKIN.md "Codes": a code for a unit never outlives the unit's licence. The licence
   * holds through its `licenceUntil` day in the building time zone (CHECKIN.md rule 7).
   */
  private withinLicence(unit: string, validTo: number): number {
    const until = this.gw.units.find(unit)?.licenceUntil;
    return until ? Math.min(validTo, endOfLocalDay(until, this.gw.config.timezone)) : validTo;
  }

  /** The enabled locks of a unit: the ones a new code goes to. */
  lockIdsOf(unit: string): string[] {
    return this.unitLocks.enabled(unit);
  }

  /** Ids and validity only, for the console (INTERFACES.md GET /api/units). */
  liveCodes(unit: string): UnitLiveCode[] {
    return this.store.live(this.unitLocks.all(unit), this.gw.clock.now())
      .map((c) => ({ ...c, validFrom: isoTime(c.validFrom), validTo: isoTime(c.validTo) }));
  }

  stayOfCode(codeId: string): string | undefined {
    return this.store.find(codeId)?.stayId ?? undefined;
  }

  version(lockId: string): number {
    return this.store.version(lockId);
  }

  /**
   * §1.3: after a change of a lock's list, a hint `{v, version}` once the change is
   * committed. Hints may be lost; locks also pull on connect and every 5 min.
   */
  changed(tx: Tx, lockIds: readonly string[]): void {
    if (lockIds.length === 0) return;
    let pending = this.hints.get(tx);
    if (!pending) {
      const locks = new Set<string>();
      this.hints.set(tx, locks);
      tx.after(() => { for (const id of locks) this.send(id, { v: 1, version: this.store.version(id) }); });
      pending = locks;
    }
    for (const id of lockIds) pending.add(id);
  }

  /** Expires the codes past their window and hints their locks. */
  async sweep(): Promise<void> {
    await this.gw.transact((tx) => this.changed(tx, this.store.expireDue(tx.now)));
  }

  /**
   * §1.3: `unchanged` only when `have` is the current version, else the full list. Due
   * codes expire first, so an expired code is never sent.
   */
  private pull(tx: Tx, lockId: string, pull: LockPullPayload): void {
    const expired = this.store.expireDue(tx.now);
    // The puller learns its new version from the reply itself.
    this.changed(tx, expired.filter((id) => id !== lockId));
    const version = this.store.version(lockId);
    const head = { v: 1, reqId: pull.reqId, version, now: isoTime(tx.now) };
    const reply = pull.have === version
      ? { ...head, unchanged: true }
      : { ...head, codes: this.store.list(lockId, tx.now).map(wireCode) };
    tx.after(() => this.send(lockId, reply));
  }

  private send(lockId: string, payload: object): void {
    this.gw.broker.publish(deviceTopic('lock', lockId, 'codes'), payload, { qos: 1 })
      .catch((err: unknown) => this.log.warn({ err, lockId }, 'codes message not published'));
  }

  /** §2.2 `code.revoke`: a codeId that matches no live code is UNKNOWN_CODE. */
  private revokeCommand(tx: Tx, command: Command<'code.revoke'>): CommandOutcome {
    if (command.codeId !== undefined) {
      if (this.revokeCodes(tx, { codeId: command.codeId }) === 0) return commandError('UNKNOWN_CODE', `no live code ${command.codeId}`);
      return { status: 'ok' };
    }
    const unit = command.unit!;
    if (!this.gw.units.find(unit)) return commandError('UNKNOWN_UNIT', `no unit ${unit}`);
    this.revokeCodes(tx, { unit });
    return { status: 'ok' };
  }
}

/** Epoch ms of local midnight after the day `date` (YYYY-MM-DD) in `timeZone`. */
function endOfLocalDay(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const midnightAsUtc = Date.UTC(y, m - 1, d + 1);
  // Two passes settle an offset that changes (DST) between the guess and the answer.
  let at = midnightAsUtc;
  for (let pass = 0; pass < 2; pass++) at = midnightAsUtc - zoneOffsetMs(at, timeZone);
  return at;
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`. */
function zoneOffsetMs(at: number, timeZone: string): number {
  const fields = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(at);
  const f = (type: string) => Number(fields.find((p) => p.type === type)?.value);
  return Date.UTC(f('year'), f('month') - 1, f('day'), f('hour'), f('minute'), f('second')) - (at - (at % 1000));
}

function wireCode(c: ListedCode) {
  return { codeId: c.codeId, hmac: c.hmac, validFrom: isoTime(c.validFrom), validTo: isoTime(c.validTo), uses: c.uses };
}
