// zod schemas for every device topic payload (PROTOCOL.md §1). Objects are parsed, not
// strict: unknown extra fields are ignored (§0). Types come from z.infer.
import { z } from 'zod';
import { Timestamp } from './time.ts';

const V = z.literal(1);
const Uint32 = z.number().int().min(0).max(0xffff_ffff);
const Percent = z.number().int().min(0).max(100);
/** Gateway-made ids are a prefix plus a ULID (§0); devices treat them as opaque. */
const OpaqueId = z.string().min(1).max(64);

/** §1.1: only `v` and `online` are required, so the will `{"v":1,"online":false}` is valid. */
export const StatusPayload = z.object({
  v: V,
  online: z.boolean(),
  ts: Timestamp.optional(),
  fw: z.string().max(64).optional(),
  batteryPct: Percent.optional(),
});

const deviceEvent = { v: V, seq: Uint32, ts: Timestamp };

/** §1.2 lock events. */
export const LockEventPayload = z.discriminatedUnion('type', [
  z.object({
    ...deviceEvent,
    type: z.literal('unlock'),
    method: z.enum(['code', 'card', 'key', 'app', 'inside']),
    codeId: OpaqueId.optional(),
  }).refine((e) => e.method !== 'code' || e.codeId !== undefined, {
    message: 'codeId is required when method is "code"',
    path: ['codeId'],
  }),
  z.object({ ...deviceEvent, type: z.literal('wrong_code'), count: z.number().int().min(1).max(0xffff) }),
  z.object({ ...deviceEvent, type: z.literal('lockout'), until: Timestamp }),
  z.object({ ...deviceEvent, type: z.literal('tamper') }),
  z.object({ ...deviceEvent, type: z.literal('door'), open: z.boolean() }),
  z.object({ ...deviceEvent, type: z.literal('battery'), pct: Percent }),
  z.object({ ...deviceEvent, type: z.literal('jammed') }),
]);

/** §1.3 pull: `have` is the version of the last list the lock applied, 0 if none. */
export const LockPullPayload = z.object({
  v: V,
  reqId: z.string().min(1).max(64),
  have: z.number().int().min(0),
});

const Hmac = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex');

export const LockCode = z.object({
  codeId: OpaqueId,
  hmac: Hmac,
  validFrom: Timestamp,
  validTo: Timestamp,
  uses: z.number().int().min(0).nullable(),
});

/**
 * §1.3 gateway → lock on `codes`: a reply to a pull (has `reqId` and `now`, then either
 * `unchanged: true` or the full `codes` list), or a hint (`version` alone). One object with
 * a refinement, not a union, so an error names the field that is wrong.
 */
export const LockCodesPayload = z.object({
  v: V,
  version: z.number().int().min(0),
  reqId: z.string().min(1).max(64).optional(),
  now: Timestamp.optional(),
  unchanged: z.literal(true).optional(),
  codes: z.array(LockCode).max(200).optional(),
}).superRefine((m, ctx) => {
  const isReply = m.reqId !== undefined;
  if (isReply && m.now === undefined) ctx.addIssue({ code: 'custom', path: ['now'], message: 'now is required in a reply' });
  if (isReply && (m.unchanged === undefined) === (m.codes === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['codes'], message: 'a reply has either codes or unchanged: true' });
  }
  if (!isReply && (m.codes !== undefined || m.unchanged !== undefined)) {
    ctx.addIssue({ code: 'custom', path: ['reqId'], message: 'a list reply needs the reqId of its pull' });
  }
});

export const SMOKE_EVENT_TYPES = [
  'alarm', 'clear', 'silenced', 'test', 'tamper', 'battery_low', 'battery_defect', 'fault', 'restored', 'eol',
] as const;

/** §1.4 smoke events; `what` only on `restored`. */
export const SmokeEventPayload = z.object({
  ...deviceEvent,
  type: z.enum(SMOKE_EVENT_TYPES),
  value: z.number().int().min(0).max(1000).optional(),
  batteryPct: Percent.optional(),
  what: z.enum(['tamper', 'battery', 'fault']).optional(),
}).refine((e) => e.type !== 'restored' || e.what !== undefined, {
  message: 'what is required on restored',
  path: ['what'],
});

/** §1.5 gateway → desk: the card photo for face comparison. */
export const DeskCardPayload = z.object({
  v: V,
  readId: OpaqueId,
  name: z.string().max(64),
  photo: z.base64(),
  ts: Timestamp,
});

/** §1.5 desk → gateway. */
export const DeskVerifyPayload = z.object({
  v: V,
  readId: OpaqueId,
  score: z.number().min(0).max(1),
  liveness: z.boolean(),
  algo: z.string().min(1).max(64),
  ts: Timestamp,
});

/** §1.6 network reader: one complete SAM read response, base64. */
export const ReaderReadPayload = z.object({
  v: V,
  ts: Timestamp,
  frame: z.base64().max(8192),
});

export type StatusPayload = z.infer<typeof StatusPayload>;
export type LockEventPayload = z.infer<typeof LockEventPayload>;
export type LockPullPayload = z.infer<typeof LockPullPayload>;
export type LockCode = z.infer<typeof LockCode>;
export type LockCodesPayload = z.infer<typeof LockCodesPayload>;
export type SmokeEventPayload = z.infer<typeof SmokeEventPayload>;
export type DeskCardPayload = z.infer<typeof DeskCardPayload>;
export type DeskVerifyPayload = z.infer<typeof DeskVerifyPayload>;
export type ReaderReadPayload = z.infer<typeof ReaderReadPayload>;

/** The schema of every (kind, channel) of the §1 table, in both directions. */
export const DEVICE_SCHEMAS = {
  lock: { event: LockEventPayload, pull: LockPullPayload, status: StatusPayload, codes: LockCodesPayload },
  smoke: { event: SmokeEventPayload, status: StatusPayload },
  desk: { verify: DeskVerifyPayload, status: StatusPayload, card: DeskCardPayload },
  reader: { read: ReaderReadPayload, status: StatusPayload },
} as const;
