// The check-in part of the HTTP API (INTERFACES.md): reads, check-ins, visitors, lost
// codes, staff codes and check-out. Bodies are validated with zod; a refusal is 422 with
// its reason code and a zh/en message; other errors use the one error shape.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { maskIdNumber, maskName } from '../../protocol/id-number.ts';
import { isoTime } from '../../protocol/time.ts';
import type { Gateway } from '../main.ts';
import type { CheckinService } from './checkin-service.ts';
import type { StayLifecycle } from './stay-commands.ts';
import type { ReadRegistry } from './reads.ts';

const Id = z.string().min(1).max(64);
const Guardian = z.object({ name: z.string().min(1).max(64), phone: z.string().min(3).max(32), relation: z.string().min(1).max(32) });
const CheckinBody = z.object({
  readId: Id, unit: Id, bookingId: Id.optional(), expectedCheckout: z.iso.datetime({ offset: true }).optional(),
  override: z.object({ staffId: Id, reason: z.string().max(500) }).optional(), guardian: Guardian.optional(),
});
const VisitorBody = z.object({ readId: Id, stayId: Id, guardian: Guardian.optional() });
const ReissueBody = z.object({ readId: Id });
const StaffCodeBody = z.object({ unit: Id, staffId: Id });

type Outcome = { ok: true; status: number; body: unknown } | { ok: false; status: 422; body: unknown } | { ok: false; status: 404 | 409; code: string; message: { zh: string; en: string } };

function errorBody(code: string, message: { zh: string; en: string }) {
  return { error: { code, message } };
}

function parse<T>(schema: z.ZodType<T>, body: unknown, reply: FastifyReply): T | undefined {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') || '(body)';
  void reply.code(400).send(errorBody('BAD_REQUEST', { zh: `请求有误：${field}`, en: `${field}: ${issue?.message ?? 'invalid'}` }));
  return undefined;
}

// The auth hook (gateway/http/auth.ts) puts the authenticated caller on `req.staff`.
const staffOf = (req: FastifyRequest) => req.staff?.staffId;

export function registerCheckinRoutes(app: FastifyInstance, gw: Gateway, service: CheckinService, stays: StayLifecycle, reads: ReadRegistry): void {
  const send = async (reply: FastifyReply, outcome: Promise<Outcome>) => {
    const o = await outcome;
    if (o.ok || o.status === 422) return reply.code(o.status).send(o.body);
    return reply.code(o.status).send(errorBody(o.code, o.message));
  };
  app.get('/api/reads', async (req) => {
    const desk = (req.query as { desk?: string }).desk;
    return { reads: reads.recent(desk).map((r) => readView(r, reads)) };
  });
  app.post('/api/checkins', async (req, reply) => {
    const body = parse(CheckinBody, req.body, reply);
    const staffId = staffOf(req);
    if (body) return send(reply, gw.transact((tx) => service.checkin(tx, { ...body, ...(staffId ? { callerStaffId: staffId } : {}) })));
  });
  app.post('/api/visitors', async (req, reply) => {
    const body = parse(VisitorBody, req.body, reply);
    if (body) return send(reply, gw.transact((tx) => service.visitor(tx, body)));
  });
  app.post('/api/stays/:stayId/codes', async (req, reply) => {
    const body = parse(ReissueBody, req.body, reply);
    const { stayId } = req.params as { stayId: string };
    if (body) return send(reply, gw.transact((tx) => service.reissue(tx, stayId, body.readId)));
  });
  app.post('/api/staff-codes', async (req, reply) => {
    const body = parse(StaffCodeBody, req.body, reply);
    if (body) return send(reply, gw.transact((tx) => service.staffCodes(tx, body)));
  });
  app.post('/api/stays/:stayId/checkout', async (req, reply) => {
    const { stayId } = req.params as { stayId: string };
    const result = await gw.transact((tx) => stays.checkout(tx, stayId, 'desk'));
    if (result === 'unknown') return reply.code(404).send(errorBody('UNKNOWN_STAY', { zh: '没有这个入住记录', en: 'There is no such stay.' }));
    if (result === 'closed') return reply.code(409).send(errorBody('STAY_CLOSED', { zh: '该入住已退房', en: 'This stay is already checked out.' }));
    return result;
  });
}

/** GET /api/reads: ID numbers and names masked (ARCHITECTURE.md invariant 8). */
function readView(r: ReturnType<ReadRegistry['recent']>[number], reads: ReadRegistry) {
  const card = r.card;
  const verify = reads.latestVerify(r.readId);
  return {
    readId: r.readId, readerId: r.readerId, desk: r.desk, at: isoTime(r.receivedAt), used: r.usedByStay,
    card: 'idNumber' in card
      ? { name: maskName(card.name), idNumber: maskIdNumber(card.idNumber), docType: card.docType, gender: card.gender, birth: card.birth, validFrom: card.validFrom, validTo: card.validTo }
      : { docType: card.docType },
    verification: verify ? { state: 'received', score: verify.score, liveness: verify.liveness, algo: verify.algo, at: isoTime(verify.receivedAt) } : { state: 'waiting' },
  };
}
