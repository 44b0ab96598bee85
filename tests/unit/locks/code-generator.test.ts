// PROTOCOL.md §1.3 "Codes" and the HMAC the lock checks entered codes against.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac, randomBytes } from 'node:crypto';
import { generateCode, hmacCode, isAcceptableCode } from '../../../gateway/locks/code-generator.ts';

/** An independent reading of the rules: no window of 4 equal, ascending or descending digits. */
function hasForbiddenRun(code: string): boolean {
  const d = [...code].map(Number);
  for (let i = 0; i + 3 < d.length; i++) {
    const w = d.slice(i, i + 4);
    const steps = [w[1]! - w[0]!, w[2]! - w[1]!, w[3]! - w[2]!];
    if (steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1)) return true;
  }
  return false;
}

describe('code rules (PROTOCOL.md §1.3)', () => {
  it('every generated code is 8 digits with no forbidden run, and not among the live HMACs', () => {
    const key = randomBytes(32);
    fc.assert(fc.property(fc.integer({ min: 0, max: 20 }), (n) => {
      const live = new Set(Array.from({ length: n }, () => generateCode(key, new Set()).hmac));
      const { code, hmac } = generateCode(key, live);
      expect(code).toMatch(/^\d{8}$/);
      expect(hasForbiddenRun(code)).toBe(false);
      expect(live.has(hmac)).toBe(false);
      expect(hmac).toBe(hmacCode(key, code));
    }), { numRuns: 200 });
  });

  it('the rule checker agrees with an independent reading on any 8 digits', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 99_999_999 }), (n) => {
      const code = String(n).padStart(8, '0');
      expect(isAcceptableCode(code)).toBe(!hasForbiddenRun(code));
    }), { numRuns: 2000 });
  });

  it('rejects runs of 4 ascending, descending or equal digits anywhere', () => {
    for (const code of ['12340596', '05912345', '90587654', '38765091', '11110592', '05922229', '50900009']) {
      expect(isAcceptableCode(code), code).toBe(false);
    }
  });

  it('accepts codes without such runs, and wrap-around 8901 / 1098 is not a run', () => {
    for (const code of ['13572468', '12391239', '89015890', '10985109', '11122233', '98798798']) {
      expect(isAcceptableCode(code), code).toBe(true);
    }
  });

  it('rejects anything but 8 digits', () => {
    for (const code of ['1357246', '135724680', '1357246a', '', '１３５７２４６８']) expect(isAcceptableCode(code)).toBe(false);
  });
});

describe('code HMAC (PROTOCOL.md §1.3)', () => {
  it('is lowercase hex HMAC-SHA256 keyed by the 32 hex-decoded key bytes over the ASCII digits', () => {
    const keyHex = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
    const expected = createHmac('sha256', Buffer.from(keyHex, 'hex')).update(Buffer.from('13572468', 'ascii')).digest('hex');
    expect(hmacCode(keyHex, '13572468')).toBe(expected);
    expect(hmacCode(Buffer.from(keyHex, 'hex'), '13572468')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => hmacCode('00ff', '13572468')).toThrow();
  });
});
