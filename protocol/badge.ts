// Staff badge readers in USB-HID keyboard-wedge mode, PROTOCOL.md §4. The driver reads
// 8-byte boot-protocol keyboard reports and pushes them here with a monotonic time;
// the decoder turns keystrokes into badges. Pure: no I/O, time is passed in.
import type { ErrorCode } from './errors.ts';

export type BadgeEvent = { ok: true; badge: string } | { ok: false; error: { code: ErrorCode; detail?: string } };

/** Boot-protocol keyboard report: modifiers, reserved, 6 key codes (HID 1.11 App. B.1). */
export const BADGE_REPORT_BYTES = 8;
/** PROTOCOL.md §4: at most 500 ms from the first key to Enter. */
export const BADGE_MAX_MS = 500;
/** Digits kept before Enter; a longer run is not a badge (MW_BADGE_TOO_LONG). */
export const BADGE_MAX_DIGITS = 64;

const KEY_ENTER = 0x28;
const KEYPAD_ENTER = 0x58;
const KEY_1 = 0x1e;
const KEY_0 = 0x27;
const KEYPAD_1 = 0x59;
const KEYPAD_0 = 0x62;
// HID Usage Tables §10: 0x01–0x03 are ErrorRollOver, POSTFail and ErrorUndefined. A
// report carrying them ("phantom state") says nothing about which keys are down.
const KEY_ERROR_MAX = 0x03;

// PROTOCOL.md §4: 0x1E–0x26 are 1–9 and 0x27 is 0; the keypad's 0x59–0x61 and 0x62.
function digitOf(code: number): string | undefined {
  if (code >= KEY_1 && code < KEY_0) return String(code - KEY_1 + 1);
  if (code >= KEYPAD_1 && code < KEYPAD_0) return String(code - KEYPAD_1 + 1);
  if (code === KEY_0 || code === KEYPAD_0) return '0';
  return undefined;
}

function failure(code: ErrorCode, detail: string): BadgeEvent {
  return { ok: false, error: { code, detail } };
}

/**
 * Decodes the keystrokes of one badge reader. Modifiers are ignored: a reader types
 * bare digits, and a shifted digit is still the digit printed on the badge.
 */
export class BadgeDecoder {
  readonly #maxMs: number;
  #held = new Set<number>();
  #digits = '';
  #firstMs = 0;
  /** Set after MW_BADGE_TOO_LONG: the rest of that run is dropped up to its Enter. */
  #overflowed = false;

  constructor(opts: { maxMs?: number } = {}) {
    const maxMs = opts.maxMs ?? BADGE_MAX_MS;
    if (!Number.isFinite(maxMs) || maxMs < 0) throw new RangeError(`maxMs must be a finite number ≥ 0, got ${maxMs}`);
    this.#maxMs = maxMs;
  }

  /** One input report, read at `nowMs` (monotonic). Returns the badges and errors it completes. */
  push(report: Uint8Array, nowMs: number): BadgeEvent[] {
    if (report.length !== BADGE_REPORT_BYTES) {
      return [failure('MW_HID_BAD_REPORT', `keyboard report is ${report.length} bytes, expected ${BADGE_REPORT_BYTES}`)];
    }
    const slots = report.subarray(2);
    if (slots.some((code) => code > 0 && code <= KEY_ERROR_MAX)) return [];
    const events: BadgeEvent[] = [];
    const down = new Set<number>();
    // PROTOCOL.md §4: a key held across reports counts once; new keys count in slot order.
    for (const code of slots) {
      if (code === 0 || down.has(code)) continue;
      down.add(code);
      if (this.#held.has(code)) continue;
      const event = this.#key(code, nowMs);
      if (event) events.push(event);
    }
    this.#held = down;
    return events;
  }

  #key(code: number, nowMs: number): BadgeEvent | undefined {
    if (code === KEY_ENTER || code === KEYPAD_ENTER) return this.#enter(nowMs);
    const digit = digitOf(code);
    if (digit === undefined || this.#overflowed) return undefined;
    if (this.#digits.length === BADGE_MAX_DIGITS) {
      this.#overflowed = true;
      this.#digits = '';
      return failure('MW_BADGE_TOO_LONG', `more than ${BADGE_MAX_DIGITS} digits before Enter`);
    }
    if (this.#digits === '') this.#firstMs = nowMs;
    this.#digits += digit;
    return undefined;
  }

  // Every digit since the last Enter belongs to this badge. Stale digits are not
  // dropped to keep a fast tail: that would accept the last digits of slow typing as
  // a badge. A stray key costs one failed swipe instead (MW_BADGE_TOO_SLOW).
  #enter(nowMs: number): BadgeEvent | undefined {
    const digits = this.#digits;
    const overflowed = this.#overflowed;
    this.#digits = '';
    this.#overflowed = false;
    if (overflowed || digits === '') return undefined;
    const elapsedMs = nowMs - this.#firstMs;
    if (elapsedMs > this.#maxMs) {
      return failure('MW_BADGE_TOO_SLOW', `${digits.length} digits took ${elapsedMs} ms, limit ${this.#maxMs} ms`);
    }
    return { ok: true, badge: digits };
  }
}

function keyReport(code: number): Buffer {
  const report = Buffer.alloc(BADGE_REPORT_BYTES);
  report[2] = code;
  return report;
}

/**
 * The reports a keyboard-wedge reader sends for a badge (for simulators): a press and a
 * release per digit on the main row, then Enter. The releases let a repeated digit count.
 */
export function encodeBadgeReports(digits: string): Buffer[] {
  if (!/^\d*$/.test(digits)) throw new RangeError(`a badge is digits only, got "${digits}"`);
  const codes = Array.from(digits, (d) => (d === '0' ? KEY_0 : KEY_1 + Number(d) - 1));
  return [...codes, KEY_ENTER].flatMap((code) => [keyReport(code), keyReport(0)]);
}
