// Unlock codes and their HMACs (PROTOCOL.md §1.3 "Codes", ARCHITECTURE.md invariant 7).
// A code is 8 digits from a CSPRNG, with no run of 4 equal digits and no run of 4
// consecutive ascending or descending digits (no wrap-around, so 8901 is allowed), and
// unique among the lock's live codes. The plain digits leave this module only to be
// shown to the guest once.
import { createHmac, randomInt } from 'node:crypto';

export const CODE_LENGTH = 8;
const RUN_LIMIT = 4;
/** With at most 200 live codes among ~10^8 acceptable ones, this is never reached by chance. */
const MAX_ATTEMPTS = 1_000;

/** True when `code` is 8 digits with no forbidden run (§1.3). */
export function isAcceptableCode(code: string): boolean {
  if (!/^\d{8}$/.test(code)) return false;
  let equal = 1;
  let ascending = 1;
  let descending = 1;
  for (let i = 1; i < code.length; i++) {
    const step = code.charCodeAt(i) - code.charCodeAt(i - 1);
    equal = step === 0 ? equal + 1 : 1;
    ascending = step === 1 ? ascending + 1 : 1;
    descending = step === -1 ? descending + 1 : 1;
    if (equal >= RUN_LIMIT || ascending >= RUN_LIMIT || descending >= RUN_LIMIT) return false;
  }
  return true;
}

/**
 * §1.3: lowercase hex HMAC-SHA256 with the 32 raw bytes of the lock's code key (given
 * as 64 hex or as bytes) over the 8 ASCII digits.
 */
export function hmacCode(codeKey: string | Buffer, code: string): string {
  const key = typeof codeKey === 'string' ? Buffer.from(codeKey, 'hex') : codeKey;
  if (key.length !== 32) throw new Error('a lock code key is 32 bytes');
  return createHmac('sha256', key).update(code, 'ascii').digest('hex');
}

/**
 * A fresh acceptable code whose HMAC under `codeKey` is not in `liveHmacs`. Plain codes
 * are never stored, so uniqueness is checked on the HMACs (§1.3).
 */
export function generateCode(codeKey: Buffer, liveHmacs: ReadonlySet<string>): { code: string; hmac: string } {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const code = String(randomInt(0, 10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0');
    if (!isAcceptableCode(code)) continue;
    const hmac = hmacCode(codeKey, code);
    if (!liveHmacs.has(hmac)) return { code, hmac };
  }
  throw new Error('no unique acceptable code found');
}
