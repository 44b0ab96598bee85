// The codes of every lock and the versions of their lists (PROTOCOL.md §1.3, CHECKIN.md
// "Codes"). Everything here is synchronous, so it runs inside a group commit: a change
// of a lock's list and the rise of its version commit together, with the events of the
// same work. Only HMACs are stored; the digits are returned once by `issue`
// (ARCHITECTURE.md invariant 7). States other than `live` are terminal and stored, so
// no wall-clock jump brings a used, revoked or expired code back (invariant 6).
import { ulid } from 'ulid';
import type { Db } from '../store/db.ts';
import { open } from '../crypto.ts';
import { generateCode } from './code-generator.ts';

/** §1.3: the list holds at most 200 codes per lock; a 201st is refused. */
export const MAX_LIVE_CODES = 200;

export type CodeKind = 'stay' | 'once' | 'staff';
export type CodeState = 'live' | 'used' | 'revoked' | 'expired';

export type NewCode = {
  lockId: string;
  kind: CodeKind;
  validFrom: number;
  validTo: number;
  /** Entries left, or null for unlimited entries inside the window. */
  uses: number | null;
  stayId?: string;
  visitId?: string;
};

/** `code` holds the plain digits: show them once, never store or log them. */
export type IssuedCode = { codeId: string; code: string; validFrom: number; validTo: number; uses: number | null };
export type ListedCode = { codeId: string; hmac: string; validFrom: number; validTo: number; uses: number | null };
export type LiveCode = { codeId: string; lockId: string; kind: CodeKind; validFrom: number; validTo: number; uses: number | null };
export type CodeRecord = { codeId: string; lockId: string; stayId: string | null; state: CodeState };
export type RevokeScope = { codeId: string } | { stayId: string } | { visitId: string } | { lockIds: readonly string[] };
export type Revoked = { count: number; codes: Array<{ codeId: string; lockId: string }>; lockIds: string[] };
/** `unknown`: no such code on this lock, or it is revoked, used up or past its window. */
export type UseOutcome = 'used' | 'unlimited' | 'unknown';

/** CHECKIN.md rule 12 reason code; thrown so the whole check-in rolls back. */
export class LockFullError extends Error {
  readonly code = 'LOCK_FULL';

  constructor(readonly lockId: string) {
    super(`lock ${lockId} already has ${MAX_LIVE_CODES} live codes`);
    this.name = 'LockFullError';
  }
}

type CodeRow = { code_id: string; lock_id: string; kind: CodeKind; hmac: string; valid_from: number; valid_to: number; uses_left: number | null };
type RecordRow = { code_id: string; lock_id: string; stay_id: string | null; state: CodeState; valid_to: number; uses_left: number | null };
type Ended = { code_id: string; lock_id: string };

const ENDED = 'RETURNING code_id, lock_id';

export class CodeStore {
  private readonly s;

  constructor(db: Db, private readonly dataKey: Buffer) {
    const live = `state = 'live'`;
    this.s = {
      codeKey: db.prepare<[string], { code_key: Buffer | null }>(`SELECT code_key FROM devices WHERE id = ? AND kind = 'lock'`),
      liveHmacs: db.prepare<[string], { hmac: string }>(`SELECT hmac FROM codes WHERE lock_id = ? AND ${live}`),
      countListed: db.prepare<[string, number], { n: number }>(`SELECT count(*) AS n FROM codes WHERE lock_id = ? AND ${live} AND valid_to > ?`),
      insert: db.prepare(`INSERT INTO codes (code_id, lock_id, hmac, stay_id, visit_id, kind, valid_from, valid_to, uses_left, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      bump: db.prepare(`INSERT INTO lock_versions (lock_id, version) VALUES (?, 1)
        ON CONFLICT (lock_id) DO UPDATE SET version = version + 1`),
      version: db.prepare<[string], { version: number }>('SELECT version FROM lock_versions WHERE lock_id = ?'),
      find: db.prepare<[string], RecordRow>('SELECT code_id, lock_id, stay_id, state, valid_to, uses_left FROM codes WHERE code_id = ?'),
      // The last use ends the code in the same statement (UPDATE reads the old uses_left).
      consume: db.prepare<[number, string]>(`UPDATE codes SET uses_left = uses_left - 1,
        state = CASE WHEN uses_left = 1 THEN 'used' ELSE state END,
        ended_at = CASE WHEN uses_left = 1 THEN ? ELSE ended_at END WHERE code_id = ?`),
      expire: db.prepare<[number, number], Ended>(`UPDATE codes SET state = 'expired', ended_at = ? WHERE ${live} AND valid_to <= ? ${ENDED}`),
      revokeCode: db.prepare<[number, string], Ended>(`UPDATE codes SET state = 'revoked', ended_at = ? WHERE code_id = ? AND ${live} ${ENDED}`),
      revokeStay: db.prepare<[number, string], Ended>(`UPDATE codes SET state = 'revoked', ended_at = ? WHERE stay_id = ? AND ${live} ${ENDED}`),
      revokeVisit: db.prepare<[number, string], Ended>(`UPDATE codes SET state = 'revoked', ended_at = ? WHERE visit_id = ? AND ${live} ${ENDED}`),
      revokeLock: db.prepare<[number, string], Ended>(`UPDATE codes SET state = 'revoked', ended_at = ? WHERE lock_id = ? AND ${live} ${ENDED}`),
      retime: db.prepare<[number, string, number], Ended>(`UPDATE codes SET valid_to = ? WHERE stay_id = ? AND ${live} AND kind = 'stay' AND valid_from < ? ${ENDED}`),
      list: db.prepare<[string, number, number], CodeRow>(`SELECT code_id, lock_id, kind, hmac, valid_from, valid_to, uses_left FROM codes
        WHERE lock_id = ? AND ${live} AND valid_to > ? ORDER BY valid_from, code_id LIMIT ?`),
    };
  }

  /** CHECKIN.md rule 12: room for one more code valid now or later. */
  hasRoom(lockId: string, now: number): boolean {
    return this.s.countListed.get(lockId, now)!.n < MAX_LIVE_CODES;
  }

  /** Stores the HMAC of a fresh code and bumps the lock's version; the digits come back once. */
  issue(input: NewCode, now: number): IssuedCode {
    checkNewCode(input, now);
    if (!this.hasRoom(input.lockId, now)) throw new LockFullError(input.lockId);
    const liveHmacs = new Set(this.s.liveHmacs.all(input.lockId).map((r) => r.hmac));
    const { code, hmac } = generateCode(this.codeKey(input.lockId), liveHmacs);
    const codeId = `c_${ulid()}`;
    this.s.insert.run(codeId, input.lockId, hmac, input.stayId ?? null, input.visitId ?? null, input.kind,
      input.validFrom, input.validTo, input.uses, now);
    this.s.bump.run(input.lockId);
    return { codeId, code, validFrom: input.validFrom, validTo: input.validTo, uses: input.uses };
  }

  /** Revokes the live codes in scope; each affected lock's version rises once. */
  revoke(scope: RevokeScope, now: number): Revoked {
    let ended: Ended[];
    if ('codeId' in scope) ended = this.s.revokeCode.all(now, scope.codeId);
    else if ('stayId' in scope) ended = this.s.revokeStay.all(now, scope.stayId);
    else if ('visitId' in scope) ended = this.s.revokeVisit.all(now, scope.visitId);
    else ended = scope.lockIds.flatMap((lockId) => this.s.revokeLock.all(now, lockId));
    const lockIds = this.bumpEach(ended);
    return { count: ended.length, codes: ended.map((e) => ({ codeId: e.code_id, lockId: e.lock_id })), lockIds };
  }

  /**
   * An unlock by code (§1.2): a finite-use code loses one use, which changes the list
   * (version bump; at zero the code is used up and leaves it). An unlimited code changes
   * nothing (§1.3).
   */
  use(lockId: string, codeId: string, now: number): UseOutcome {
    const row = this.s.find.get(codeId);
    if (!row || row.lock_id !== lockId || row.state !== 'live' || row.valid_to <= now) return 'unknown';
    if (row.uses_left === null) return 'unlimited';
    this.s.consume.run(now, codeId);
    this.s.bump.run(lockId);
    return 'used';
  }

  /**
   * PROTOCOL.md §2.2 booking.upsert: the live stay codes of a stay take its new end; each
   * affected lock's version rises once. Returns the affected locks.
   */
  retime(stayId: string, validTo: number): string[] {
    return this.bumpEach(this.s.retime.all(validTo, stayId, validTo));
  }

  /** Codes past validTo become `expired` and leave their lists; returns the affected locks. */
  expireDue(now: number): string[] {
    return this.bumpEach(this.s.expire.all(now, now));
  }

  /** §1.3: the codes valid now or later, at most 200. */
  list(lockId: string, now: number): ListedCode[] {
    return this.s.list.all(lockId, now, MAX_LIVE_CODES).map((r) => ({
      codeId: r.code_id, hmac: r.hmac, validFrom: r.valid_from, validTo: r.valid_to, uses: r.uses_left,
    }));
  }

  /** The same codes without their HMACs, for listings (ids and validity only). */
  live(lockIds: readonly string[], now: number): LiveCode[] {
    return lockIds.flatMap((lockId) => this.s.list.all(lockId, now, MAX_LIVE_CODES).map((r) => ({
      codeId: r.code_id, lockId: r.lock_id, kind: r.kind, validFrom: r.valid_from, validTo: r.valid_to, uses: r.uses_left,
    })));
  }

  find(codeId: string): CodeRecord | undefined {
    const row = this.s.find.get(codeId);
    return row && { codeId: row.code_id, lockId: row.lock_id, stayId: row.stay_id, state: row.state };
  }

  /** §1.3: 0 until the lock's list first changes. */
  version(lockId: string): number {
    return this.s.version.get(lockId)?.version ?? 0;
  }

  /** Decrypted only for the HMAC at issue time, never kept (invariant 7). */
  private codeKey(lockId: string): Buffer {
    const sealed = this.s.codeKey.get(lockId)?.code_key;
    if (!sealed) throw new Error(`${lockId} is not a lock with a code key`);
    return open(this.dataKey, sealed);
  }

  private bumpEach(ended: readonly Ended[]): string[] {
    const lockIds = [...new Set(ended.map((e) => e.lock_id))];
    for (const lockId of lockIds) this.s.bump.run(lockId);
    return lockIds;
  }
}

function checkNewCode(input: NewCode, now: number): void {
  if (!(input.validFrom < input.validTo)) throw new RangeError('a code needs validFrom < validTo');
  if (input.validTo <= now) throw new RangeError('a code must be valid now or later');
  if (input.uses !== null && !(Number.isInteger(input.uses) && input.uses >= 1)) {
    throw new RangeError('uses is a whole number ≥ 1, or null for unlimited');
  }
}
