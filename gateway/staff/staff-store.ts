// Staff accounts, API tokens and console sessions (INTERFACES.md `staff add|revoke` and
// the HTTP API). Tokens and session ids rest as SHA-256, passwords as scrypt, badges as
// an HMAC (gateway/store/schema-staff.ts says why). Every check reads the database, so
// `menwei staff revoke` in another process takes effect at the very next request.
import { createHmac, randomInt } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { hashPassword, newSecret, passwordMatches, sha256 } from '../crypto.ts';
import { MenweiError } from '../../protocol/errors.ts';

const DAY_MS = 86_400_000;
// Lowercase and digits without the look-alikes 0/o, 1/l/i: 31^16 is about 2^79.
const PASSWORD_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export type NewStaff = { id: string; name: string; badge?: string; days: number };
export type StaffCredentials = { id: string; token: string; password: string };
export type Revocation = { tokens: number; sessions: number };
export type PendingRevocation = { id: number; staffId: string; revokedAt: number; tokens: number; sessions: number };
export type SessionCheck = { staffId: string; csrfSha256: Buffer };

/** The badge HMAC key, derived so the data key itself is never used for two purposes. */
export function badgeKeyFrom(dataKey: Uint8Array): Buffer {
  return createHmac('sha256', dataKey).update('menwei/staff-badge/v1').digest();
}

/** Four groups of four, e.g. `k7mq-2xbd-9tpa-hw3n`: read off a screen and typed once. */
export function readablePassword(): string {
  const group = () => Array.from({ length: 4 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

function prepare(db: Db) {
  return {
    tokenCheck: db.prepare<[Buffer, number], { staffId: string }>(
      `SELECT t.staff_id AS staffId FROM staff_tokens t JOIN staff s ON s.id = t.staff_id
       WHERE t.token_sha256 = ? AND t.revoked = 0 AND t.expires_at > ? AND s.disabled = 0`),
    sessionCheck: db.prepare<[Buffer, number], SessionCheck>(
      `SELECT x.staff_id AS staffId, x.csrf_sha256 AS csrfSha256 FROM sessions x JOIN staff s ON s.id = x.staff_id
       WHERE x.session_sha256 = ? AND x.revoked = 0 AND x.expires_at > ? AND s.disabled = 0`),
    anyStaff: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM staff WHERE id = ?'),
    activeStaff: db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM staff WHERE id = ? AND disabled = 0'),
    staffState: db.prepare<[string], { disabled: number }>('SELECT disabled FROM staff WHERE id = ?'),
    upsertStaff: db.prepare<[string, string, string, Buffer | null, number], void>(
      `INSERT INTO staff (id, name, password_hash, badge_hmac, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash,
         badge_hmac = excluded.badge_hmac, disabled = 0`),
    addToken: db.prepare<[Buffer, string, number, number], void>(
      'INSERT INTO staff_tokens (token_sha256, staff_id, expires_at, created_at) VALUES (?, ?, ?, ?)'),
    passwordOf: db.prepare<[string], { hash: string; disabled: number }>('SELECT password_hash AS hash, disabled FROM staff WHERE id = ?'),
    byBadge: db.prepare<[Buffer], { id: string }>('SELECT id FROM staff WHERE badge_hmac = ? AND disabled = 0'),
    revokeTokens: db.prepare<[string, number], void>('UPDATE staff_tokens SET revoked = 1 WHERE staff_id = ? AND revoked = 0 AND expires_at > ?'),
    revokeSessions: db.prepare<[string, number], void>('UPDATE sessions SET revoked = 1 WHERE staff_id = ? AND revoked = 0 AND expires_at > ?'),
    disable: db.prepare<[string], void>('UPDATE staff SET disabled = 1 WHERE id = ? AND disabled = 0'),
    recordRevocation: db.prepare<[string, number, number, number], void>(
      'INSERT INTO staff_revocations (staff_id, revoked_at, tokens, sessions) VALUES (?, ?, ?, ?)'),
    purgeSessions: db.prepare<[string, number], void>('DELETE FROM sessions WHERE staff_id = ? AND (revoked = 1 OR expires_at <= ?)'),
    addSession: db.prepare<[Buffer, string, Buffer, number, number], void>(
      'INSERT INTO sessions (session_sha256, staff_id, csrf_sha256, expires_at, created_at) VALUES (?, ?, ?, ?, ?)'),
    endSession: db.prepare<[Buffer], void>('UPDATE sessions SET revoked = 1 WHERE session_sha256 = ?'),
    unreported: db.prepare<[], PendingRevocation>(
      'SELECT id, staff_id AS staffId, revoked_at AS revokedAt, tokens, sessions FROM staff_revocations WHERE reported = 0 ORDER BY id'),
    markReported: db.prepare<[number], void>('UPDATE staff_revocations SET reported = 1 WHERE id = ?'),
  };
}

export class StaffStore {
  private readonly sql: ReturnType<typeof prepare>;
  private dummyHash: string | undefined;

  constructor(private readonly db: Db, private readonly badgeKey: Buffer | null) {
    this.sql = prepare(db);
  }

  /** Any staff id ever added, revoked or not: one that may be repeated in an audit event. */
  exists(id: string): boolean {
    return this.sql.anyStaff.get(id)!.n > 0;
  }

  /** An active (not revoked, not disabled) staff member (CHECKIN.md 10b STAFF_UNKNOWN). */
  isActive(id: string): boolean {
    return this.sql.activeStaff.get(id)!.n > 0;
  }

  /**
   * Creates a staff member with a token valid for `days` and a console password, both
   * returned to be shown once. A revoked (disabled) id is re-enabled with fresh
   * credentials, which is how a token is rotated. Returns undefined when an active
   * staff member has this id already.
   */
  add(input: NewStaff, now: number): StaffCredentials | undefined {
    const password = readablePassword();
    const passwordHash = hashPassword(password);
    const badge = input.badge === undefined ? null : this.badgeHmac(input.badge);
    const token = newSecret();
    return this.db.transaction(() => {
      const existing = this.sql.staffState.get(input.id);
      if (existing && existing.disabled === 0) return undefined;
      this.sql.upsertStaff.run(input.id, input.name, passwordHash, badge, now);
      this.sql.addToken.run(sha256(token), input.id, now + input.days * DAY_MS, now);
      return { id: input.id, token, password };
    })();
  }

  verifyToken(token: string, now: number): { staffId: string } | undefined {
    return this.sql.tokenCheck.get(sha256(token), now);
  }

  /** Constant-time: an unknown or disabled id costs the same scrypt as a wrong password. */
  verifyPassword(id: string, password: string): boolean {
    const row = this.sql.passwordOf.get(id);
    this.dummyHash ??= hashPassword(newSecret());
    const matches = passwordMatches(password, row?.hash ?? this.dummyHash);
    return matches && row !== undefined && row.disabled === 0;
  }

  findByBadge(digits: string): string | undefined {
    return this.sql.byBadge.get(this.badgeHmac(digits))?.id;
  }

  /**
   * Disables the staff member (so the password no longer logs in) and revokes every live
   * token and session in one transaction; records the revocation for the gateway to
   * report. Returns undefined for an unknown id.
   */
  revoke(id: string, now: number): Revocation | undefined {
    return this.db.transaction(() => {
      if (!this.sql.staffState.get(id)) return undefined;
      const tokens = this.sql.revokeTokens.run(id, now).changes;
      const sessions = this.sql.revokeSessions.run(id, now).changes;
      const disabled = this.sql.disable.run(id).changes;
      if (tokens + sessions + disabled > 0) this.sql.recordRevocation.run(id, now, tokens, sessions);
      return { tokens, sessions };
    })();
  }

  /** A console session; the staff member's dead sessions are purged so the table stays small. */
  createSession(staffId: string, now: number, ttlMs: number): { sessionId: string; csrfToken: string } {
    const sessionId = newSecret();
    const csrfToken = newSecret();
    this.sql.purgeSessions.run(staffId, now);
    this.sql.addSession.run(sha256(sessionId), staffId, sha256(csrfToken), now + ttlMs, now);
    return { sessionId, csrfToken };
  }

  verifySession(sessionId: string, now: number): SessionCheck | undefined {
    return this.sql.sessionCheck.get(sha256(sessionId), now);
  }

  endSession(sessionId: string): void {
    this.sql.endSession.run(sha256(sessionId));
  }

  unreportedRevocations(): PendingRevocation[] {
    return this.sql.unreported.all();
  }

  markReported(revocationId: number): void {
    this.sql.markReported.run(revocationId);
  }

  private badgeHmac(digits: string): Buffer {
    if (!this.badgeKey) throw new MenweiError('MW_CONFIG_INVALID', 'a staff badge needs MENWEI_DATA_KEY');
    return createHmac('sha256', this.badgeKey).update(digits).digest();
  }
}
