import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  ageOn,
  cardAgreesWithNumber,
  checkCharacter,
  checkIdNumber,
  maskIdNumber,
  maskName,
  type IdCheckReason,
  type IdKind,
} from '../../../protocol/id-number.ts';

const TODAY = '2026-11-30';

// tests/fixtures/id-numbers.json, the project's copy of the shared vectors.
const Vectors = z.object({
  valid: z.array(z.object({ id: z.string(), note: z.string() })),
  invalid: z.array(z.object({ id: z.string(), reason: z.string() })),
});
const vectors = Vectors.parse(JSON.parse(readFileSync(new URL('../../fixtures/id-numbers.json', import.meta.url), 'utf8')));

type Expected = { id: string; birth: string; gender: 'male' | 'female'; kind: IdKind };
const VALID: Record<string, Expected> = {
  '11010519491231002X': { id: '11010519491231002X', birth: '1949-12-31', gender: 'female', kind: 'resident' },
  '11010519491231002x': { id: '11010519491231002X', birth: '1949-12-31', gender: 'female', kind: 'resident' },
  '440524188001010014': { id: '440524188001010014', birth: '1880-01-01', gender: 'male', kind: 'resident' },
  '360426199101010071': { id: '360426199101010071', birth: '1991-01-01', gender: 'male', kind: 'resident' },
  '120103198806018241': { id: '120103198806018241', birth: '1988-06-01', gender: 'female', kind: 'resident' },
  '320402199003071235': { id: '320402199003071235', birth: '1990-03-07', gender: 'male', kind: 'resident' },
  '810000198506120040': { id: '810000198506120040', birth: '1985-06-12', gender: 'female', kind: 'permit-hkmotw' },
  '911840198001010013': { id: '911840198001010013', birth: '1980-01-01', gender: 'male', kind: 'foreign-permanent' },
};

const INVALID: Record<string, IdCheckReason> = {
  '360426199101010072': 'CHECKSUM',
  '110101202311012171': 'CHECKSUM',
  '110105194912310021': 'CHECKSUM',
  '110105194902310026': 'DATE',
  '11010519491231002': 'LENGTH',
  '1101051949123100222': 'LENGTH',
  '11010519491231002Y': 'FORMAT',
  A1010519491231002X: 'FORMAT',
  '990000199001010017': 'REGION',
  '110105209912310010': 'FUTURE_DATE',
  '': 'LENGTH',
};

describe('checkIdNumber: fixture vectors (PROTOCOL.md §6)', () => {
  it('every fixture vector has an expectation here, so none is skipped', () => {
    expect(vectors.valid.map((v) => v.id).sort()).toEqual(Object.keys(VALID).sort());
    expect(vectors.invalid.map((v) => v.id).sort()).toEqual(Object.keys(INVALID).sort());
  });

  it.each(vectors.valid)('$id is valid ($note)', ({ id }) => {
    const expected = VALID[id];
    expect(checkIdNumber(id, TODAY)).toEqual({ ok: true, region: expected?.id.slice(0, 6), ...expected });
  });

  it.each(vectors.invalid)('"$id" is refused ($reason)', ({ id }) => {
    expect(checkIdNumber(id, TODAY)).toEqual({ ok: false, reason: INVALID[id] });
  });
});

describe('checkIdNumber: rules and their order', () => {
  it('checks length before format', () => {
    expect(checkIdNumber('ABC', TODAY)).toEqual({ ok: false, reason: 'LENGTH' });
  });

  it('checks format before region: a bad check letter on a bad region is FORMAT', () => {
    expect(checkIdNumber('99000019900101001Y', TODAY)).toEqual({ ok: false, reason: 'FORMAT' });
  });

  it('checks region before date: province 10 with Feb 31 is REGION', () => {
    expect(checkIdNumber('100105194902310026', TODAY)).toEqual({ ok: false, reason: 'REGION' });
  });

  it('checks date before checksum, and future date before checksum', () => {
    expect(checkIdNumber('110105194913310026', TODAY)).toEqual({ ok: false, reason: 'DATE' });
    expect(checkIdNumber('110105202612010011', TODAY)).toEqual({ ok: false, reason: 'FUTURE_DATE' });
  });

  it('accepts a birth date of today and refuses tomorrow as FUTURE_DATE', () => {
    const body = '11010520261130002';
    expect(checkIdNumber(body + checkCharacter(body), TODAY)).toMatchObject({ ok: true, birth: TODAY });
    expect(checkIdNumber(body + checkCharacter(body), '2026-11-29')).toEqual({ ok: false, reason: 'FUTURE_DATE' });
  });

  it.each(['00', '10', '16', '20', '24', '38', '47', '55', '66', '71', '80', '84'])('a number starting with %s is REGION', (prefix) => {
    const body = `${prefix}0000199001010010`.slice(0, 17);
    expect(checkIdNumber(body + checkCharacter(body), TODAY)).toEqual({ ok: false, reason: 'REGION' });
  });

  it('a foreign-permanent number needs a province after its 9', () => {
    const body = '97184019800101001';
    expect(checkIdNumber(body + checkCharacter(body), TODAY)).toEqual({ ok: false, reason: 'REGION' });
  });

  it('does not trim: surrounding spaces are a LENGTH error', () => {
    expect(checkIdNumber(' 11010519491231002X', TODAY)).toEqual({ ok: false, reason: 'LENGTH' });
  });

  it('throws on a today that is not a real date, a caller bug', () => {
    expect(() => checkIdNumber('11010519491231002X', '2026-02-30')).toThrow(RangeError);
  });
});

// A reference check character by the ISO 7064 MOD 11-2 definition (weights 2^(17-i)
// mod 11, check = (12 - sum) mod 11), independent of the implementation's table.
function referenceCheck(body: string): string {
  const sum = Array.from(body).reduce((acc, d, i) => acc + Number(d) * (2 ** (17 - i) % 11), 0);
  const value = (12 - (sum % 11)) % 11;
  return value === 10 ? 'X' : String(value);
}

const PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65];
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const province = fc.constantFrom(...PROVINCES.map(String));
const prefix = fc.oneof(
  fc.tuple(province, digits(4)).map(([p, d]) => ({ prefix: p + d, kind: 'resident' as const })),
  fc.tuple(fc.constantFrom('81', '82', '83'), digits(4)).map(([p, d]) => ({ prefix: p + d, kind: 'permit-hkmotw' as const })),
  fc.tuple(province, digits(3)).map(([p, d]) => ({ prefix: `9${p}${d}`, kind: 'foreign-permanent' as const })),
);
const DAY_MS = 86_400_000;
const birthDate = fc
  .integer({ min: Date.UTC(1880, 0, 1) / DAY_MS, max: Date.UTC(2026, 10, 30) / DAY_MS })
  .map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));
const validNumber = fc.record({ p: prefix, birth: birthDate, seq: fc.integer({ min: 0, max: 999 }) }).map(({ p, birth, seq }) => {
  const body = p.prefix + birth.replaceAll('-', '') + String(seq).padStart(3, '0');
  return { id: body + referenceCheck(body), kind: p.kind, birth, gender: seq % 2 === 1 ? 'male' : 'female' };
});

describe('checkIdNumber: properties', () => {
  it('a generated valid number validates and round-trips birth, gender, kind and region', () => {
    fc.assert(
      fc.property(validNumber, (v) => {
        expect(checkIdNumber(v.id, TODAY)).toEqual({ ok: true, id: v.id, birth: v.birth, gender: v.gender, kind: v.kind, region: v.id.slice(0, 6) });
      }),
    );
  });

  it('a lower-case x check character is accepted and upper-cased', () => {
    const withX = validNumber.filter((v) => v.id.endsWith('X'));
    fc.assert(
      fc.property(withX, (v) => {
        expect(checkIdNumber(v.id.toLowerCase(), TODAY)).toMatchObject({ ok: true, id: v.id });
      }),
    );
  });

  it('any other check character fails with CHECKSUM', () => {
    const flipped = fc.tuple(validNumber, fc.constantFrom(...'0123456789Xx')).filter(([v, c]) => c.toUpperCase() !== v.id[17]);
    fc.assert(
      fc.property(flipped, ([v, c]) => {
        expect(checkIdNumber(v.id.slice(0, 17) + c, TODAY)).toEqual({ ok: false, reason: 'CHECKSUM' });
      }),
    );
  });

  it('never throws on arbitrary input, and an accepted id is 18 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (raw) => {
        const result = checkIdNumber(raw, TODAY);
        if (result.ok) expect(result.id).toHaveLength(18);
      }),
    );
  });
});

describe('masks (PROTOCOL.md §0)', () => {
  it('an ID number keeps its first 6 and last 4 characters', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });

  it.each([
    ['', ''],
    ['1', '*'],
    ['1234', '1***'],
    ['11010519491231002', '11010*********002'],
    ['1101051949123100222', '110105*********0222'],
  ])('a malformed ID number "%s" is masked as "%s"', (input, masked) => {
    expect(maskIdNumber(input)).toBe(masked);
  });

  it('any input shows at most 10 of its characters, in place, and hides at least 8 in 18', () => {
    const noStars = fc.string({ unit: fc.constantFrom(...'0123456789Xx abc'), maxLength: 40 });
    fc.assert(
      fc.property(noStars, (input) => {
        const masked = maskIdNumber(input);
        const shown = Array.from(masked).filter((c) => c !== '*');
        expect(masked).toHaveLength(input.length);
        expect(Array.from(masked).every((c, i) => c === '*' || c === input[i])).toBe(true);
        expect(shown.length).toBeLessThanOrEqual(10);
        expect((input.length - shown.length) * 18).toBeGreaterThanOrEqual(input.length * 8);
      }),
    );
  });

  it.each([
    ['欧阳娜娜', '欧***'],
    ['张三', '张*'],
    ['王', '王'],
    ['', ''],
    ['𠮷野家', '𠮷**'],
    ['𠮷', '𠮷'],
    ['阿卜杜·热合曼', '阿******'],
    ['Zoe\u0308 Smith', 'Z********'],
    ['E\u0301lodie', 'E\u0301*****'],
  ])('the name %s is masked as %s', (name, masked) => {
    expect(maskName(name)).toBe(masked);
  });

  it('a masked name keeps its whole first character and never leaves half a surrogate pair', () => {
    const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((n) => !n.includes('*')), (name) => {
        const masked = maskName(name);
        const stars = /\**$/.exec(masked)?.[0] ?? '';
        expect(loneSurrogate.test(masked)).toBe(false);
        expect(name.startsWith(masked.slice(0, masked.length - stars.length))).toBe(true);
        expect(masked.length - stars.length).toBeGreaterThan(0);
      }),
    );
  });
});

describe('cardAgreesWithNumber (CHECKIN.md rule 5)', () => {
  const parsedOf = (id: string) => {
    const result = checkIdNumber(id, TODAY);
    if (!result.ok) throw new Error(`fixture ${id} should be valid`);
    return result;
  };
  const resident = { idNumber: '11010519491231002X', birth: '1949-12-31', gender: 'female', docType: 'resident' };
  const permit = { idNumber: '810000198506120040', birth: '1985-06-12', gender: 'female', docType: 'permit-hkmotw' };

  it('a card whose birth and gender match its number agrees', () => {
    expect(cardAgreesWithNumber(resident, parsedOf(resident.idNumber))).toBe(true);
    expect(cardAgreesWithNumber(permit, parsedOf(permit.idNumber))).toBe(true);
  });

  it('a different birth date or gender disagrees', () => {
    expect(cardAgreesWithNumber({ ...resident, birth: '1949-12-30' }, parsedOf(resident.idNumber))).toBe(false);
    expect(cardAgreesWithNumber({ ...resident, gender: 'male' }, parsedOf(resident.idNumber))).toBe(false);
  });

  it.each(['unknown', 'unspecified', ''])('gender "%s" (code 0 or 9) never agrees', (gender) => {
    expect(cardAgreesWithNumber({ ...resident, gender }, parsedOf(resident.idNumber))).toBe(false);
  });

  it('a J card whose number is a resident number disagrees', () => {
    const card = { ...resident, docType: 'permit-hkmotw' };
    expect(cardAgreesWithNumber(card, parsedOf(card.idNumber))).toBe(false);
  });

  it('a J card disagrees when its own number does not start with 81–83, whatever it was parsed as', () => {
    expect(cardAgreesWithNumber({ ...permit, idNumber: '11010519850612004X' }, parsedOf(permit.idNumber))).toBe(false);
  });

  it('a resident card carrying a permit number disagrees', () => {
    const card = { ...permit, docType: 'resident' };
    expect(cardAgreesWithNumber(card, parsedOf(card.idNumber))).toBe(false);
  });
});

describe('ageOn (CHECKIN.md rule 11)', () => {
  it.each([
    ['2008-11-30', '2026-11-29', 17],
    ['2008-11-30', '2026-11-30', 18],
    ['2008-11-30', '2026-12-01', 18],
    ['2008-12-31', '2026-01-01', 17],
    ['2026-11-30', '2026-11-30', 0],
    ['2026-11-30', '2026-11-29', -1],
  ])('born %s, on %s is %i', (birth, date, age) => {
    expect(ageOn(birth, date)).toBe(age);
  });

  it.each([
    ['2008-02-29', '2026-02-28', 17],
    ['2008-02-29', '2026-03-01', 18],
    ['2008-02-29', '2028-02-28', 19],
    ['2008-02-29', '2028-02-29', 20],
  ])('a 29 February birthday (%s) completes its year on 1 March in a common year: on %s, %i', (birth, date, age) => {
    expect(ageOn(birth, date)).toBe(age);
  });

  it('throws on a date that does not exist, a caller bug', () => {
    expect(() => ageOn('2008-02-30', '2026-01-01')).toThrow(RangeError);
    expect(() => ageOn('2008-02-01', '20260101')).toThrow(RangeError);
  });
});
