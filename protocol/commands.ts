// Platform → gateway commands (PROTOCOL.md §2.2).
import { z } from 'zod';
import { Timestamp } from './time.ts';

const base = {
  v: z.literal(1),
  commandId: z.string().min(1).max(64),
  expiresAt: Timestamp,
};

const Name = z.string().min(1).max(64);
const UnitCode = z.string().min(1).max(64);

export const COMMAND_SCHEMAS = {
  'booking.upsert': z.object({
    ...base,
    bookingId: z.string().min(1).max(64),
    unit: UnitCode,
    from: Timestamp,
    to: Timestamp,
    guests: z.array(z.object({ name: Name, idNumber: z.string().min(1).max(32) })).min(1).max(10),
  }).refine((c) => Date.parse(c.from) < Date.parse(c.to), { message: 'from must be before to', path: ['to'] }),
  'booking.cancel': z.object({ ...base, bookingId: z.string().min(1).max(64) }),
  'stay.checkout': z.object({ ...base, stayId: z.string().min(1).max(64) }),
  'unit.suspend': z.object({ ...base, unit: UnitCode, reason: z.string().min(1).max(500), until: Timestamp.optional() }),
  'unit.resume': z.object({ ...base, unit: UnitCode }),
  'code.revoke': z.object({ ...base, codeId: z.string().min(1).max(64).optional(), unit: UnitCode.optional() })
    .refine((c) => (c.codeId === undefined) !== (c.unit === undefined), {
      message: 'exactly one of codeId or unit is required',
      path: ['codeId'],
    }),
  'occupancy.snapshot': z.object({ ...base, unit: UnitCode.optional() }),
} as const;

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];
export type Command<N extends CommandName = CommandName> = z.infer<(typeof COMMAND_SCHEMAS)[N]>;

/** §2.2 reply error codes. */
export const COMMAND_ERRORS = [
  'INVALID', 'UNKNOWN_UNIT', 'UNKNOWN_BOOKING', 'UNKNOWN_STAY', 'UNKNOWN_CODE',
  'COMMAND_EXPIRED', 'COMMAND_ID_REUSED', 'UNSUPPORTED',
] as const;
export type CommandError = (typeof COMMAND_ERRORS)[number];

export function isCommandName(s: string): s is CommandName {
  return Object.hasOwn(COMMAND_SCHEMAS, s);
}
