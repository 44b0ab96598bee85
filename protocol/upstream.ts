// The upstream envelope and every event class and type (PROTOCOL.md §2.1).
import { z } from 'zod';
import { Timestamp, CalendarDate } from './time.ts';

/** §2.1 table: priority (0 first) and whether the class may drop past the byte budget. */
export const EVENT_CLASSES = {
  alarm: { priority: 0, droppable: false },
  security: { priority: 1, droppable: false },
  gateway: { priority: 1, droppable: false },
  registration: { priority: 2, droppable: false },
  reply: { priority: 2, droppable: false },
  occupancy: { priority: 3, droppable: false },
  device: { priority: 4, droppable: true },
  audit: { priority: 5, droppable: true },
} as const;

export type EventClass = keyof typeof EVENT_CLASSES;
export const EVENT_CLASS_NAMES = Object.keys(EVENT_CLASSES) as EventClass[];

/** Alarm, security and gateway events: they overtake everything (ARCHITECTURE.md invariant 4). */
export const URGENT_PRIORITY = 1;
export const isUrgent = (eventClass: EventClass): boolean => EVENT_CLASSES[eventClass].priority <= URGENT_PRIORITY;

/** §2.3: the first goes out at once, then one summary per minute while it continues. */
const FloodSummary = { count: z.number().int().min(1).optional(), firstAt: Timestamp.optional(), lastAt: Timestamp.optional() };
const Aggregated = (fields: z.ZodRawShape = {}) => z.object({ ...fields, ...FloodSummary });
const Empty = z.object({});
const DeviceSeq = { deviceSeq: z.number().int().min(0).optional() };

const Guest = z.object({
  name: z.string(),
  idNumber: z.string(),
  docType: z.enum(['resident', 'permit-hkmotw', 'foreign-permanent']),
  gender: z.enum(['male', 'female', 'unknown', 'unspecified']),
  nation: z.string().nullable(),
  birth: CalendarDate,
  address: z.string(),
  authority: z.string(),
  validFrom: CalendarDate,
  validTo: CalendarDate.nullable(),
  photoSha256: z.string().regex(/^[0-9a-f]{64}$/),
  passNumber: z.string().optional(),
});

const Registration = z.object({
  stayId: z.string(),
  bookingId: z.string().nullable(),
  unit: z.string(),
  guest: Guest,
  verification: z.object({
    method: z.enum(['face', 'attendant']),
    score: z.number().nullable(),
    liveness: z.boolean().nullable(),
    algo: z.string().nullable(),
    staffId: z.string().optional(),
    reason: z.string().optional(),
  }),
  guardian: z.object({ name: z.string(), phone: z.string(), relation: z.string() }).optional(),
  checkinAt: Timestamp,
  expectedCheckout: Timestamp,
});

/** Every type of every class, with its `data` schema. */
export const EVENT_DATA = {
  alarm: {
    smoke: z.object({ value: z.number().optional(), occupants: z.number().int().min(0), deviceSeq: z.number().int().min(0) }),
    smoke_clear: z.object({ repeats: z.number().int().min(0), ...DeviceSeq }),
    silenced: z.object(DeviceSeq),
  },
  security: {
    auth_failed: Aggregated({ source: z.string().optional(), deviceId: z.string().optional() }),
    acl_denied: Aggregated({ topic: z.string().optional() }),
    session_takeover: Aggregated({ source: z.string().optional() }),
    unknown_code: z.object({ codeId: z.string().optional(), ...DeviceSeq }),
    wrong_code: Aggregated({ count: z.number().int().min(1).optional(), ...DeviceSeq }),
    lockout: z.object({ until: Timestamp.optional(), ...DeviceSeq }),
    tamper: z.object(DeviceSeq),
    mechanical_key: z.object(DeviceSeq),
    door_ajar: z.object({ openSinceMin: z.number().optional(), ...DeviceSeq }),
    checkin_refused: z.object({ reason: z.string(), unit: z.string().nullable(), idNumber: z.string().nullable() }),
    unit_suspended_attempt: z.object({ unit: z.string(), idNumber: z.string().nullable() }),
    attendant_override: z.object({ stayId: z.string(), staffId: z.string(), reason: z.string() }),
  },
  gateway: {
    started: z.object({ version: z.string(), bootId: z.string() }),
    outbox_dropped: z.object({ class: z.string(), count: z.number().int(), bytes: z.number().int() }),
    disk_full: z.object({}).loose(),
    clock_jump: z.object({ deltaMs: z.number() }),
    bad_command: Aggregated({ reason: z.string().optional(), topic: z.string().optional() }),
  },
  registration: {
    checkin: Registration,
    visitor: Registration.extend({ hostStayId: z.string() }),
    checkout: z.object({ stayId: z.string(), unit: z.string(), checkoutAt: Timestamp, by: z.enum(['desk', 'platform', 'auto']) }),
  },
  occupancy: {
    entry: z.object({ method: z.string(), stayId: z.string().optional(), codeId: z.string().optional(), ...DeviceSeq }),
    unit: z.object({
      unit: z.string(),
      occupants: z.array(z.object({ stayId: z.string(), name: z.string(), since: Timestamp })),
      count: z.number().int().min(0),
    }),
  },
  device: {
    online: Empty,
    offline: z.object({ reason: z.string().optional() }),
    battery_low: z.object({ pct: z.number().optional(), ...DeviceSeq }),
    fault: z.object({ what: z.string(), ...DeviceSeq }),
    restored: z.object({ what: z.enum(['tamper', 'battery', 'fault']), ...DeviceSeq }),
    test: z.object(DeviceSeq),
    end_of_life: z.object(DeviceSeq),
    bad_message: Aggregated({ reason: z.string(), topic: z.string(), deviceId: z.string().nullable() }),
  },
  audit: Object.fromEntries(
    ['code_issued', 'code_revoked', 'config_changed', 'login', 'login_failed', 'alarm_acknowledged', 'token_revoked']
      .map((t) => [t, z.object({}).loose()]),
  ),
} as const;

/** §2.2: every command is answered by a `reply` event whose type is the command name. */
export const ReplyData = z.object({
  commandId: z.string(),
  status: z.enum(['ok', 'error']),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const UpstreamEnvelope = z.object({
  v: z.literal(1),
  eventId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'expected a ULID'),
  gatewayId: z.string().min(1),
  seq: z.number().int().min(1),
  bootId: z.string().min(1),
  class: z.enum(EVENT_CLASS_NAMES as [EventClass, ...EventClass[]]),
  type: z.string().min(1),
  unit: z.string().optional(),
  deviceId: z.string().optional(),
  deviceTs: Timestamp.optional(),
  gatewayTs: Timestamp,
  data: z.record(z.string(), z.unknown()),
});

export type UpstreamEnvelope = z.infer<typeof UpstreamEnvelope>;
export type ReplyData = z.infer<typeof ReplyData>;
export type RegistrationData = z.infer<typeof Registration>;

/** The data schema for a (class, type), or undefined when the type is not in §2.1. */
export function eventDataSchema(eventClass: EventClass, type: string): z.ZodType | undefined {
  if (eventClass === 'reply') return ReplyData;
  const types = EVENT_DATA[eventClass] as Record<string, z.ZodType>;
  return Object.hasOwn(types, type) ? types[type] : undefined;
}
