// The gateway config (INTERFACES.md "Config file"): one zod schema with the documented
// defaults, so `menwei start` with no file runs on embedded defaults.
import { hostname } from 'node:os';
import { z } from 'zod';

const Port = z.number().int().min(0).max(65535);
const Path = z.string().min(1);
const DeviceId = z.string().regex(/^[a-z0-9-]{3,64}$/, 'expected [a-z0-9-]{3,64}');

const Tls = z.object({ port: Port.default(8883), cert: Path, key: Path, ca: Path.optional() });

const Reader = z.discriminatedUnion('transport', [
  z.object({ id: DeviceId, transport: z.literal('serial'), path: Path, desk: DeviceId, baudRate: z.number().int().default(115200) }),
  z.object({ id: DeviceId, transport: z.literal('hid'), vendorId: z.number().int(), productId: z.number().int(), desk: DeviceId }),
  z.object({ id: DeviceId, transport: z.literal('network'), desk: DeviceId }),
]);

export const ConfigSchema = z.object({
  gatewayId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1–64 of [A-Za-z0-9_-]').default(() => `gw-${hostname()}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64)),
  dataDir: Path.default('./data'),
  timezone: z.string().refine(isTimeZone, 'unknown IANA time zone').default('Asia/Shanghai'),
  broker: z.object({
    host: z.string().default('127.0.0.1'),
    port: Port.default(1883),
    tls: Tls.optional(),
    /** PROTOCOL.md §1: plain TCP on a non-loopback address must be asked for. */
    allowPlainLan: z.boolean().default(false),
  }).prefault({}),
  upstream: z.object({
    url: z.string().regex(/^(mqtt|mqtts|tcp|tls|ssl):\/\//, 'expected an mqtt:// or mqtts:// URL'),
    username: z.string().optional(),
    password: z.string().optional(),
    ca: Path.optional(),
    cert: Path.optional(),
    key: Path.optional(),
    /** INTERFACES.md /healthz: no PUBACK for this long while events are in flight is `stalled`. */
    stallS: z.number().positive().default(30),
  }).optional(),
  console: z.object({
    host: z.string().default('127.0.0.1'),
    port: Port.default(8080),
    tls: z.object({ cert: Path, key: Path }).optional(),
  }).prefault({}),
  readers: z.array(Reader).default([]),
  badgeReaders: z.array(z.object({ id: DeviceId, vendorId: z.number().int(), productId: z.number().int(), desk: DeviceId })).default([]),
  modbus: z.array(z.object({
    path: Path,
    baudRate: z.number().int().default(9600),
    pollMs: z.number().int().min(50).default(1000),
    timeoutMs: z.number().int().min(10).default(200),
    detectors: z.array(z.object({ address: z.number().int().min(1).max(247), deviceId: DeviceId, unit: z.string().optional() })).min(1),
  })).default([]),
  heartbeatS: z.object({
    lock: z.number().int().min(1).default(60),
    desk: z.number().int().min(1).default(60),
    reader: z.number().int().min(1).default(60),
    smoke: z.number().int().min(1).default(300),
  }).prefault({}),
  policy: z.object({
    faceThreshold: z.number().min(0.6).max(0.99).default(0.82),
    walkIns: z.boolean().default(true),
    attendantOverride: z.boolean().default(false),
    readMaxAgeS: z.number().int().min(1).default(120),
    verifyMaxAgeS: z.number().int().min(1).default(120),
    bookingEarlyH: z.number().min(0).default(6),
    stayCheckoutGraceH: z.number().min(0).default(2),
    onceCodeHours: z.number().min(0.1).default(6),
    doorAjarMin: z.number().min(1).default(10),
  }).prefault({}),
  outbox: z.object({
    maxBytes: z.number().int().min(1024).default(1024 ** 3),
    /** Optional expiry of droppable events, by monotonic age (ARCHITECTURE.md invariant 6). */
    maxAgeH: z.number().positive().optional(),
  }).prefault({}),
  retention: z.object({
    deliveredDays: z.number().min(0).default(7),
    personalDataDays: z.number().min(0).default(30),
    commandIdDays: z.number().min(0).default(7),
  }).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
