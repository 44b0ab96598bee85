// Staff authentication for the HTTP API (INTERFACES.md HTTP API): `Authorization: Bearer
// <staff token>` or the console's session cookie. Every route under /api/ except POST
// /api/login is behind it, whichever feature registered the route, so a new route
// cannot be left open by mistake. Credentials are checked against the database on every
// request, so `menwei staff revoke` (another process) takes effect at once.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Tx } from '../ingest/tx.ts';
import type { AuthThrottle } from '../broker/throttle.ts';
import type { StaffStore } from '../staff/staff-store.ts';
import { secretMatches } from '../crypto.ts';
import { apiError, parseOr400, type ApiErrorCode } from './errors.ts';
import { knownOr } from '../typed-text.ts';

export type StaffIdentity = { staffId: string; via: 'token' | 'session' };

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated staff member; set on every /api/ route but POST /api/login. */
    staff: StaffIdentity | null;
  }
}

export const SESSION_COOKIE = 'menwei_session';
export const CSRF_HEADER = 'x-csrf-token';
/** A console session lasts one long shift; the staff member logs in again after it. */
export const SESSION_TTL_MS = 12 * 3600_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The staff id of a failed badge login, where no id was typed. */
const BADGE = '(badge)';

const LoginBody = z.union([
  z.strictObject({ staffId: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
  // PROTOCOL.md §4: a badge swiped at the desk's reader identifies the staff member there.
  z.strictObject({ badge: z.literal(true), desk: z.string().min(1).max(64).optional() }),
]);

export type AuthCheck = { ok: true; identity: StaffIdentity } | { ok: false; code: Extract<ApiErrorCode, 'UNAUTHORIZED' | 'CSRF_FAILED'> };

export type StaffAuthDeps = {
  store: StaffStore;
  clock: Clock;
  /** PROTOCOL.md §1 Refusals, as for the broker: >5 failures a minute refuse the address for a minute. */
  throttle: AuthThrottle;
  transact: <R>(fn: (tx: Tx) => R) => Promise<R>;
  /** INTERFACES.md: cookies are `Secure` when `console.tls` is on. */
  secureCookie: boolean;
  /** The staff member who just swiped a badge at the desk (the console's own when absent). */
  badgeAtDesk?: (desk: string | undefined) => string | undefined;
};

export class StaffAuth {
  constructor(private readonly deps: StaffAuthDeps) {}

  install(app: FastifyInstance): void {
    app.decorateRequest('staff', null);
    app.addHook('onRequest', async (req, reply) => {
      if (!isProtected(req)) return;
      const check = this.check(req.method, req.headers);
      if (!check.ok) return apiError(reply, check.code);
      req.staff = check.identity;
    });
    app.post('/api/login', (req, reply) => this.login(req, reply));
    app.post('/api/logout', (req, reply) => this.logout(req, reply));
  }

  /**
   * A Bearer header, when present, decides alone. A cookie session needs the CSRF header
   * on state-changing methods, because a browser sends the cookie by itself; a Bearer
   * token is never sent by a browser on its own, so it needs none.
   */
  check(method: string, headers: IncomingHttpHeaders): AuthCheck {
    const now = this.deps.clock.now();
    const authorization = headers.authorization;
    if (authorization !== undefined) {
      const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
      const found = token === undefined ? undefined : this.deps.store.verifyToken(token, now);
      return found ? { ok: true, identity: { staffId: found.staffId, via: 'token' } } : { ok: false, code: 'UNAUTHORIZED' };
    }
    const sessionId = cookieValue(headers.cookie, SESSION_COOKIE);
    const session = sessionId === undefined ? undefined : this.deps.store.verifySession(sessionId, now);
    if (!session) return { ok: false, code: 'UNAUTHORIZED' };
    const csrf = headers[CSRF_HEADER];
    if (!SAFE_METHODS.has(method) && !(typeof csrf === 'string' && secretMatches(csrf, session.csrfSha256))) {
      return { ok: false, code: 'CSRF_FAILED' };
    }
    return { ok: true, identity: { staffId: session.staffId, via: 'session' } };
  }

  /** POST /api/login `{staffId, password}` or `{badge: true, desk?}` → `{staffId, csrfToken}` and the session cookie. */
  private async login(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = parseOr400(LoginBody, req.body, reply);
    if (!body) return reply;
    const source = req.ip;
    const { store, throttle } = this.deps;
    // A refused address is not checked at all, so guessing costs it a minute per 6 tries.
    if (throttle.isBlocked(source)) {
      await this.auditFailure(source, 'staffId' in body ? body.staffId : BADGE);
      return apiError(reply.header('retry-after', '60'), 'TOO_MANY_ATTEMPTS');
    }
    const staffId = 'badge' in body ? this.deps.badgeAtDesk?.(body.desk) : body.staffId;
    const verified = 'badge' in body ? staffId !== undefined && store.isActive(staffId) : store.verifyPassword(body.staffId, body.password);
    if (!verified || staffId === undefined) {
      throttle.recordFailure(source);
      await this.auditFailure(source, staffId ?? BADGE);
      return apiError(reply, 'LOGIN_FAILED');
    }
    // The session and its audit/login event commit together: no session without a record.
    const session = await this.deps.transact((tx) => {
      tx.emit({ class: 'audit', type: 'login', data: { staffId, source, method: 'badge' in body ? 'badge' : 'password' } });
      return store.createSession(staffId, tx.now, SESSION_TTL_MS);
    });
    reply.header('set-cookie', this.cookie(session.sessionId, SESSION_TTL_MS / 1000));
    return { staffId, csrfToken: session.csrfToken };
  }

  /** POST /api/logout: ends the cookie's session (a Bearer token stays valid until revoked). */
  private async logout(req: FastifyRequest, reply: FastifyReply): Promise<{ ok: true }> {
    const sessionId = cookieValue(req.headers.cookie, SESSION_COOKIE);
    // Through the group commit, so the reply follows the fsync (store/wal-sync.ts).
    if (req.staff?.via === 'session' && sessionId !== undefined) await this.deps.transact(() => this.deps.store.endSession(sessionId));
    reply.header('set-cookie', this.cookie('', 0));
    return { ok: true };
  }

  /**
   * PROTOCOL.md §2.3: a guessing LAN host is untrusted input, so failures are flood-controlled.
   * A staff id nobody has is not repeated: it may be a password typed into the wrong box.
   */
  private auditFailure(source: string, typed: string): Promise<void> {
    const staffId = knownOr(typed, typed === BADGE || this.deps.store.exists(typed));
    return this.deps.transact((tx) => tx.emitFlooded(source, { class: 'audit', type: 'login_failed', data: { staffId, source } }));
  }

  private cookie(value: string, maxAgeS: number): string {
    const secure = this.deps.secureCookie ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
  }
}

/** Decided by the matched route pattern, not the raw URL, so no path spelling slips past. */
function isProtected(req: FastifyRequest): boolean {
  const route = req.routeOptions.url;
  return route !== undefined && route.startsWith('/api/') && route !== '/api/login';
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=') || undefined;
  }
  return undefined;
}
