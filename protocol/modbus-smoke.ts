// Wired smoke detectors over Modbus RTU, PROTOCOL.md §5: the register map, the state
// it decodes to, and the events (PROTOCOL.md §1.4) that a change of state gives. The RTU
// framing and CRC belong to the Modbus library; this file sees register values only.

/** PROTOCOL.md §5: read input registers 0..2 of each slave. */
export const SMOKE_REGISTERS = Object.freeze({ functionCode: 0x04, start: 0, count: 3 });

/** PROTOCOL.md §5 defaults: 9600 8N1, a poll per second, 200 ms per request, slaves 1–247. */
export const SMOKE_POLL_DEFAULTS = Object.freeze({
  baudRate: 9600,
  pollMs: 1000,
  timeoutMs: 200,
  minSlaveId: 1,
  maxSlaveId: 247,
});

/** Register 0 bit numbers, PROTOCOL.md §5. Other bits are reserved and ignored. */
export const SMOKE_STATUS_BITS = Object.freeze({
  alarm: 0,
  tamper: 2,
  batteryLow: 3,
  fault: 6,
  test: 8,
  batteryDefect: 9,
});

export const SMOKE_BATTERY_MAX = 100;
export const SMOKE_DENSITY_MAX = 1000;

type StatusFlag = keyof typeof SMOKE_STATUS_BITS;

export type DetectorState = Readonly<Record<StatusFlag, boolean> & { batteryPct: number; density: number }>;

/** PROTOCOL.md §5: before the first good reply the state is all zero, so an alarm present at start is reported. */
export const INITIAL_DETECTOR_STATE: DetectorState = Object.freeze({
  alarm: false,
  tamper: false,
  batteryLow: false,
  fault: false,
  test: false,
  batteryDefect: false,
  batteryPct: 0,
  density: 0,
});

export type SmokeEdge = {
  type: 'alarm' | 'clear' | 'tamper' | 'battery_low' | 'fault' | 'test' | 'battery_defect' | 'restored';
  what?: 'tamper' | 'battery' | 'fault';
  /** Smoke density 0–1000, on `alarm`. */
  value?: number;
  /** Battery %, on the battery events (`battery_low`, `battery_defect`, `restored` battery). */
  batteryPct?: number;
};

export type SmokeDecodeResult =
  | { ok: true; state: DetectorState }
  | { ok: false; error: { code: 'MW_MODBUS_BAD_REPLY'; detail: string } };

const isUint16 = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;

/**
 * The state in registers 0..2 (extra registers are ignored). A register that is not a
 * uint16 makes a bad reply. Battery and density above their ranges are clamped, not
 * refused: a bad analogue reading must never hide the alarm bit beside it.
 */
export function decodeSmokeRegisters(regs: readonly number[]): SmokeDecodeResult {
  const [status, battery, density] = regs;
  if (status === undefined || battery === undefined || density === undefined) {
    return badReply(`${regs.length} registers, expected ${SMOKE_REGISTERS.count}`);
  }
  const bad = [status, battery, density].findIndex((r) => !isUint16(r));
  if (bad !== -1) return badReply(`register ${bad} is ${regs[bad]}, not a uint16`);
  const bit = (flag: StatusFlag) => (status & (1 << SMOKE_STATUS_BITS[flag])) !== 0;
  const state: DetectorState = {
    alarm: bit('alarm'),
    tamper: bit('tamper'),
    batteryLow: bit('batteryLow'),
    fault: bit('fault'),
    test: bit('test'),
    batteryDefect: bit('batteryDefect'),
    batteryPct: Math.min(battery, SMOKE_BATTERY_MAX),
    density: Math.min(density, SMOKE_DENSITY_MAX),
  };
  return { ok: true, state };
}

function badReply(detail: string): SmokeDecodeResult {
  return { ok: false, error: { code: 'MW_MODBUS_BAD_REPLY', detail } };
}

const rose = (prev: DetectorState, next: DetectorState, flag: StatusFlag) => !prev[flag] && next[flag];
const fell = (prev: DetectorState, next: DetectorState, flag: StatusFlag) => prev[flag] && !next[flag];

/**
 * The §1.4 events for one change of state (PROTOCOL.md §5 edge table), alarm first
 * because it goes ahead of everything, then in bit order. Bits 3 and 9 share
 * `restored {what: "battery"}`, which clears the whole battery condition upstream, so it
 * is sent only when neither is left set: clearing battery_low while the battery is
 * still defective must not clear the defect.
 */
export function smokeEdges(prev: DetectorState, next: DetectorState): SmokeEdge[] {
  const edges: SmokeEdge[] = [];
  const battery = { batteryPct: next.batteryPct };
  if (rose(prev, next, 'alarm')) edges.push({ type: 'alarm', value: next.density });
  if (fell(prev, next, 'alarm')) edges.push({ type: 'clear' });
  if (rose(prev, next, 'tamper')) edges.push({ type: 'tamper' });
  if (fell(prev, next, 'tamper')) edges.push({ type: 'restored', what: 'tamper' });
  if (rose(prev, next, 'batteryLow')) edges.push({ type: 'battery_low', ...battery });
  if (rose(prev, next, 'fault')) edges.push({ type: 'fault' });
  if (fell(prev, next, 'fault')) edges.push({ type: 'restored', what: 'fault' });
  if (rose(prev, next, 'test')) edges.push({ type: 'test' });
  if (rose(prev, next, 'batteryDefect')) edges.push({ type: 'battery_defect', ...battery });
  const batteryWasBad = prev.batteryLow || prev.batteryDefect;
  if (batteryWasBad && !next.batteryLow && !next.batteryDefect) edges.push({ type: 'restored', what: 'battery', ...battery });
  return edges;
}

/** Registers 0..2 for a state, as a simulated slave answers. Throws on an out-of-range value. */
export function encodeSmokeRegisters(state: DetectorState): number[] {
  checkRange('batteryPct', state.batteryPct, SMOKE_BATTERY_MAX);
  checkRange('density', state.density, SMOKE_DENSITY_MAX);
  let status = 0;
  for (const [flag, bit] of Object.entries(SMOKE_STATUS_BITS)) {
    if (state[flag as StatusFlag]) status |= 1 << bit;
  }
  return [status, state.batteryPct, state.density];
}

function checkRange(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer 0–${max}, got ${value}`);
  }
}
