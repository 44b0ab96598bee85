// The front-desk console (issue 7): a page a clerk uses all day, served by the gateway's
// own HTTP server (console.host/console.port) on top of the HTTP API. It is plain static
// files (gateway/console/static/, vanilla ES modules, no build chain), read once at
// start, plus the few routes only the console needs. Every /api/ route here inherits
// staff auth, CSRF and the error shape from the API feature (docs/API-NOTES.md).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Feature } from '../feature.ts';
import type { Gateway } from '../main.ts';
import type { Db } from '../store/db.ts';
import { StayStore } from '../checkin/stays.ts';
import { PersonalData } from '../checkin/personal-data.ts';
import { httpError, parseOr400 } from '../http/errors.ts';
import { isoTime } from '../../protocol/time.ts';

/** What the console needs of the smoke feature (gateway/smoke/smoke-feature.ts). */
export type ConsoleSmoke = { alarms(): unknown[]; acknowledge(alarmId: string, staffId: string): Promise<boolean> };
/** What the console needs of the check-in feature's in-memory reads, to match a read to its bookings. */
export type ConsoleReads = { find(readId: string): { card: object } | undefined };

export type ConsoleFeatureOptions = {
  smoke?: ConsoleSmoke;
  /** The desk this console serves (INTERFACES.md `readers[].desk`). */
  desk?: string;
  reads?: ConsoleReads;
  /** Where the page's files are; tests may point elsewhere. */
  staticDir?: string;
};

type Asset = { body: Buffer; type: string };

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/**
 * Nothing from outside the gateway (the issue: no external network resources), no inline
 * script, and the page may not be framed (a clickjacked "acknowledge" or "check out").
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

/** An asset name is one path segment of safe characters, so no request can leave the folder. */
const ASSET_NAME = /^[a-z0-9][a-z0-9_-]*\.[a-z0-9]+$/;
const AlarmParams = z.strictObject({ alarmId: z.string().min(1).max(64) });
const BookingsQuery = z.strictObject({ readId: z.string().min(1).max(64) });

export class ConsoleFeature implements Feature {
  private gw!: Gateway;
  private readonly assets = new Map<string, Asset>();
  private stays!: StayStore;
  private personal!: PersonalData;
  private bookingsOfGuest!: ReturnType<typeof bookingsQuery>;

  constructor(private readonly opts: ConsoleFeatureOptions = {}) {}

  attach(gw: Gateway): void {
    this.gw = gw;
    this.loadAssets(this.opts.staticDir ?? fileURLToPath(new URL('./static/', import.meta.url)));
    this.stays = new StayStore(gw.db);
    this.personal = new PersonalData(gw.dataKey);
    this.bookingsOfGuest = bookingsQuery(gw.db);
    const app = gw.http;
    app.get('/', (_req, reply) => this.sendAsset(reply, 'index.html'));
    app.get('/console/:file', (req, reply) => this.sendAsset(reply, (req.params as { file: string }).file));
    app.get('/api/config/console', async (req) => this.config(req));
    app.get('/api/console/stays', async () => ({ stays: this.openStays() }));
    app.get('/api/console/bookings', (req, reply) => this.bookings(req, reply));
    app.post('/api/alarms/:alarmId/ack', (req, reply) => this.acknowledge(req, reply));
  }

  /** Read at start: a missing file is a broken install, found now rather than at the desk. */
  private loadAssets(dir: string): void {
    for (const name of readdirSync(dir)) {
      const type = CONTENT_TYPES[extname(name)];
      if (!ASSET_NAME.test(name) || type === undefined || !statSync(join(dir, name)).isFile()) continue;
      this.assets.set(name, { body: readFileSync(join(dir, name)), type });
    }
    if (!this.assets.has('index.html')) throw new Error(`console: no index.html in ${dir}`);
  }

  private sendAsset(reply: FastifyReply, name: string): FastifyReply {
    const asset = ASSET_NAME.test(name) ? this.assets.get(name) : undefined;
    reply.headers(SECURITY_HEADERS);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply.type(asset.type).send(asset.body);
  }

  /** GET /api/config/console: what the page needs to know about this desk and the policy. */
  private config(req: FastifyRequest) {
    const { policy, timezone } = this.gw.config;
    return {
      desk: this.opts.desk ?? 'desk-1',
      staffId: req.staff?.staffId ?? null,
      faceThreshold: policy.faceThreshold,
      attendantOverride: policy.attendantOverride,
      walkIns: policy.walkIns,
      readMaxAgeS: policy.readMaxAgeS,
      timezone,
      language: 'zh',
    };
  }

  /** Open stays of every unit, names masked: for check-out, visitors and the alarm screen. */
  private openStays() {
    return this.gw.units.list().flatMap((u) => this.stays.openStaysIn(u.code).map((s) => ({
      stayId: s.stay_id, unit: s.unit, bookingId: s.booking_id, name: s.name_masked, since: isoTime(s.checkin_at), until: isoTime(s.ends_at),
    })));
  }

  /**
   * GET /api/console/bookings?readId=: the platform bookings that list the guest of this
   * read, matched by the keyed hash of the ID number as rule 8 does (CHECKIN.md), never
   * by plain text. Cancelled and ended bookings and desk-made walk-in bookings are left out.
   */
  private bookings(req: FastifyRequest, reply: FastifyReply): unknown {
    const query = parseOr400(BookingsQuery, req.query, reply);
    if (!query) return reply;
    const card = this.opts.reads?.find(query.readId)?.card;
    if (!card || !('idNumber' in card) || typeof card.idNumber !== 'string') return { bookings: [] };
    const rows = this.bookingsOfGuest.all(this.personal.idHash(card.idNumber), this.gw.clock.now());
    return { bookings: rows.map((b) => ({ bookingId: b.booking_id, unit: b.unit, from: isoTime(b.from_ms), to: isoTime(b.to_ms) })) };
  }

  /** POST /api/alarms/:alarmId/ack: the smoke feature commits `audit/alarm_acknowledged` before this answers. */
  private async acknowledge(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const params = parseOr400(AlarmParams, req.params, reply);
    if (!params) return reply;
    const staffId = req.staff!.staffId;
    const known = (await this.opts.smoke?.acknowledge(params.alarmId, staffId)) ?? false;
    if (!known) return httpError(reply, 404, 'UNKNOWN_ALARM', { zh: '没有这个警报', en: 'There is no such alarm.' });
    return { alarmId: params.alarmId, acknowledged: true, staffId };
  }
}

function bookingsQuery(db: Db) {
  return db.prepare<[string, number], { booking_id: string; unit: string; from_ms: number; to_ms: number }>(
    `SELECT b.booking_id, b.unit, b.from_ms, b.to_ms FROM booking_guests g JOIN bookings b ON b.booking_id = g.booking_id
     WHERE g.id_hash = ? AND b.cancelled = 0 AND b.source <> 'walkin' AND b.to_ms > ? ORDER BY b.from_ms LIMIT 10`,
  );
}
