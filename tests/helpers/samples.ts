// One valid payload for every device topic and command of PROTOCOL.md, for schema tests
// and fuzzers to mutate.
const T = '2026-11-30T10:00:00.000Z';
const HMAC = 'a'.repeat(64);

export const DEVICE_SAMPLES: Array<{ topic: string; payload: Record<string, unknown> }> = [
  { topic: 'menwei/lock/lock-0301/status', payload: { v: 1, online: true, ts: T, fw: '1.4.2', batteryPct: 87 } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 7, ts: T, type: 'unlock', method: 'code', codeId: 'c_01JD' } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 8, ts: T, type: 'wrong_code', count: 3 } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 9, ts: T, type: 'lockout', until: T } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 10, ts: T, type: 'door', open: true } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 11, ts: T, type: 'battery', pct: 19 } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 12, ts: T, type: 'tamper' } },
  { topic: 'menwei/lock/lock-0301/event', payload: { v: 1, seq: 13, ts: T, type: 'jammed' } },
  { topic: 'menwei/lock/lock-0301/pull', payload: { v: 1, reqId: 'r-17', have: 18 } },
  {
    topic: 'menwei/lock/lock-0301/codes',
    payload: { v: 1, reqId: 'r-17', version: 18, now: T, codes: [{ codeId: 'c_1', hmac: HMAC, validFrom: T, validTo: T, uses: null }] },
  },
  { topic: 'menwei/lock/lock-0301/codes', payload: { v: 1, reqId: 'r-17', version: 18, now: T, unchanged: true } },
  { topic: 'menwei/lock/lock-0301/codes', payload: { v: 1, version: 19 } },
  { topic: 'menwei/smoke/smoke-0301/event', payload: { v: 1, seq: 1, ts: T, type: 'alarm', value: 640 } },
  { topic: 'menwei/smoke/smoke-0301/event', payload: { v: 1, seq: 2, ts: T, type: 'restored', what: 'tamper' } },
  { topic: 'menwei/smoke/smoke-0301/status', payload: { v: 1, online: false } },
  { topic: 'menwei/desk/desk-1/card', payload: { v: 1, readId: 'r_01JD', name: '张三', photo: 'AAEC', ts: T } },
  { topic: 'menwei/desk/desk-1/verify', payload: { v: 1, readId: 'r_01JD', score: 0.91, liveness: true, algo: 'vendor/3.1', ts: T } },
  { topic: 'menwei/reader/reader-lobby/read', payload: { v: 1, ts: T, frame: 'qqqqlmkABAAAkJQ=' } },
];

const base = { v: 1, commandId: 'cmd-1', expiresAt: T };

export const COMMAND_SAMPLES: Array<{ name: string; payload: Record<string, unknown> }> = [
  {
    name: 'booking.upsert',
    payload: { ...base, bookingId: 'bk-1', unit: 'HL-MY-0301', from: T, to: '2026-12-02T04:00:00.000Z', guests: [{ name: '张三', idNumber: '11010519491231002X' }] },
  },
  { name: 'booking.cancel', payload: { ...base, bookingId: 'bk-1' } },
  { name: 'stay.checkout', payload: { ...base, stayId: 's_01JD' } },
  { name: 'unit.suspend', payload: { ...base, unit: 'HL-MY-0301', reason: '消防整改' } },
  { name: 'unit.resume', payload: { ...base, unit: 'HL-MY-0301' } },
  { name: 'code.revoke', payload: { ...base, codeId: 'c_01JD' } },
  { name: 'occupancy.snapshot', payload: { ...base } },
];
