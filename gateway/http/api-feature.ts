// The HTTP API's read side and plumbing (INTERFACES.md HTTP API): staff auth, the error
// shape for every route, GET /api/outbox, /api/devices, /api/units, /api/alarms and the
// Server-Sent Events stream. The check-in, locks and smoke features add what only they
// know through `ApiProviders`, and their own /api/ routes inherit the auth and error
// shape from here (docs/API-NOTES.md).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Feature } from '../feature.ts';
import type { Gateway } from '../main.ts';
import type { BusEventName, BusEvents } from '../event-bus.ts';
import { AuthThrottle } from '../broker/throttle.ts';
import { StaffStore, badgeKeyFrom } from '../staff/staff-store.ts';
import { every } from '../maintenance.ts';
import { DEVICE_KINDS } from '../../protocol/topics.ts';
import { isoTime } from '../../protocol/time.ts';
import { StaffAuth } from './auth.ts';
import { apiError, parseOr400, sendFastifyError } from './errors.ts';

export type DeviceHealth = { fault?: string | null; tamper?: boolean; batteryLow?: boolean; endOfLife?: boolean };
/** ARCHITECTURE.md invariant 7: a listing shows code ids and validity, never digits or HMACs. */
export type LiveCode = { codeId: string; lockId: string; kind: 'stay' | 'once' | 'staff'; validFrom: string; validTo: string; uses: number | null };
export type UnitState = { liveCodes?: LiveCode[]; unsafe?: string[] };
export type AlarmView = BusEvents['alarm'];

/** What other features know about devices, units and alarms; each is optional. */
export type ApiProviders = {
  deviceHealth?: (deviceId: string) => DeviceHealth | undefined;
  /** Registered occupants of a unit (the check-in feature). */
  occupancy?: (unit: string) => number;
  /** Live codes (the locks feature) and reasons the unit is unsafe (the smoke feature). */
  unitState?: (unit: string) => UnitState | undefined;
  /** Open and recent alarms (the smoke feature). */
  alarms?: () => AlarmView[];
  /** Console login by badge: who just swiped at the desk (the check-in feature). */
  badgeAtDesk?: (desk: string | undefined) => string | undefined;
};

/** An SSE comment every 15 s keeps proxies and the browser from timing the stream out. */
const HEARTBEAT_MS = 15_000;
/** How soon a revocation by the CLI is reported and a revoked stream is closed. */
const CHECK_MS = 2_000;
/** A client that stops reading is cut off rather than buffered without bound; EventSource reconnects. */
const MAX_BUFFERED_BYTES = 1 << 20;
const BUS_EVENTS = Object.keys({ read: 0, verify: 0, decision: 0, alarm: 0, device: 0, unit: 0 } satisfies Record<BusEventName, 0>) as BusEventName[];

const DevicesQuery = z.strictObject({ kind: z.enum(DEVICE_KINDS).optional(), unit: z.string().min(1).max(64).optional() });

type Stream = { stillValid(): boolean; end(): void };

export class ApiFeature implements Feature {
  private gateway!: Gateway;
  staff!: StaffStore;
  private auth!: StaffAuth;
  /** For the badge readers and the staff-code and override rules (CHECKIN.md 10b). */
  private readonly streams = new Set<Stream>();
  private stopTimer: (() => void) | undefined;

  constructor(private readonly providers: ApiProviders = {}) {}

  attach(gateway: Gateway): void {
    this.gateway = gateway;
    this.staff = new StaffStore(gateway.db, badgeKeyFrom(gateway.dataKey));
    this.auth = new StaffAuth({
      store: this.staff,
      clock: gateway.clock,
      throttle: new AuthThrottle(gateway.clock),
      transact: (fn) => gateway.transact(fn),
      secureCookie: gateway.config.console.tls !== undefined,
      ...(this.providers.badgeAtDesk ? { badgeAtDesk: this.providers.badgeAtDesk } : {}),
    });
    const app = gateway.http;
    this.auth.install(app);
    app.setErrorHandler((error: { statusCode?: number; message: string }, _req, reply) => {
      if ((error.statusCode ?? 500) >= 500) gateway.logger.error({ err: error }, 'http request failed');
      return sendFastifyError(reply, error);
    });
    app.get('/api/outbox', async () => gateway.outbox.status());
    app.get('/api/devices', (req, reply) => this.devices(req, reply));
    app.get('/api/units', async () => ({ units: this.units() }));
    app.get('/api/alarms', async () => ({ alarms: this.providers.alarms?.() ?? [] }));
    app.get('/api/events', (req, reply) => this.events(req, reply));
    // Below any real route (find-my-way tries wildcards last), and behind auth like them.
    app.all('/api/*', async (_req, reply) => apiError(reply, 'NOT_FOUND'));
  }

  async start(): Promise<void> {
    // Revocations made while the gateway was down are reported at start.
    await this.reportRevocations();
    const onError = (err: unknown) => this.gateway.logger.error({ err }, 'api upkeep failed');
    this.stopTimer = every(CHECK_MS, () => this.upkeep(), onError);
  }

  stop(): void {
    this.stopTimer?.();
    // Open streams would keep the HTTP server from closing.
    for (const stream of [...this.streams]) stream.end();
  }

  /** Open SSE streams (ops and tests). */
  openStreams(): number {
    return this.streams.size;
  }

  async upkeep(): Promise<void> {
    await this.reportRevocations();
    for (const stream of [...this.streams]) if (!stream.stillValid()) stream.end();
  }

  /**
   * `menwei staff revoke` runs in another process, which never appends to the outbox, so
   * the gateway reports each recorded revocation as audit/token_revoked exactly once:
   * the event and the "reported" mark commit together.
   */
  async reportRevocations(): Promise<void> {
    if (this.staff.unreportedRevocations().length === 0) return;
    await this.gateway.transact((tx) => {
      for (const r of this.staff.unreportedRevocations()) {
        this.staff.markReported(r.id);
        tx.emit({ class: 'audit', type: 'token_revoked', data: { staffId: r.staffId, tokens: r.tokens, sessions: r.sessions, revokedAt: isoTime(r.revokedAt) } });
      }
    });
  }

  /** Every provisioned, enabled device; one never seen since start is `online: null`. */
  private async devices(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const query = parseOr400(DevicesQuery, req.query, reply);
    if (!query) return reply;
    const seen = new Map(this.gateway.presence.list().map((d) => [d.id, d]));
    const devices = this.gateway.registry.enabled()
      .filter((d) => (!query.kind || d.kind === query.kind) && (!query.unit || d.unit === query.unit))
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((d) => {
        const p = seen.get(d.id);
        return {
          id: d.id, kind: d.kind, unit: d.unit,
          online: p?.online ?? null,
          batteryPct: p?.batteryPct ?? null,
          lastSeenAt: p?.lastSeenAt == null ? null : isoTime(p.lastSeenAt),
          health: this.providers.deviceHealth?.(d.id) ?? {},
        };
      });
    return { devices };
  }

  private units(): unknown[] {
    return this.gateway.units.list().map((u) => {
      const state = this.providers.unitState?.(u.code);
      return {
        code: u.code, address: u.address, operator: u.operator, officer: u.officer,
        licensed: u.licensed, licenceUntil: u.licenceUntil,
        suspended: u.suspended, suspendReason: u.suspendReason,
        suspendedUntil: u.suspendedUntil === null ? null : isoTime(u.suspendedUntil),
        occupants: this.providers.occupancy?.(u.code) ?? 0,
        // Picked field by field, so a provider cannot leak code digits or HMACs here.
        liveCodes: (state?.liveCodes ?? []).map((c) => ({ codeId: c.codeId, lockId: c.lockId, kind: c.kind, validFrom: c.validFrom, validTo: c.validTo, uses: c.uses })),
        unsafe: state?.unsafe ?? [],
      };
    });
  }

  /** GET /api/events: `event: <name>\ndata: <json>\n\n` for every bus event, masked at the source. */
  private events(req: FastifyRequest, reply: FastifyReply): void {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const write = (chunk: string) => {
      if (res.writableLength <= MAX_BUFFERED_BYTES) return void res.write(chunk);
      end();
      res.destroy();
    };
    const offs = BUS_EVENTS.map((name) => this.gateway.bus.on(name, (data) => write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)));
    const heartbeat = setInterval(() => write(': heartbeat\n\n'), HEARTBEAT_MS).unref();
    // The same path for the client leaving, a revocation, a slow reader and shutdown.
    const end = () => {
      clearInterval(heartbeat);
      for (const off of offs) off();
      this.streams.delete(stream);
      if (!res.writableEnded) res.end();
    };
    const headers = req.headers;
    // A stream outlives its request's auth check: it is re-checked every CHECK_MS, so a
    // revoked token or an expired session stops it too.
    const stream: Stream = { stillValid: () => this.auth.check('GET', headers).ok, end };
    res.on('close', end);
    this.streams.add(stream);
    res.write(': connected\n\n');
  }
}
