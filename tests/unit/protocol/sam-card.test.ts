import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CARD_TEXT_BYTES,
  SamParser,
  decodeCard,
  encodeCardText,
  encodeReadResponse,
  type Card,
  type CardFields,
  type DecodedCard,
} from '../../../protocol/sam/index.ts';
import { readHexFixture } from '../../helpers/fixtures.ts';

/** The DATA of a read-response frame: everything between SW3 and CHK. */
function readData(frame: Buffer): Buffer {
  return frame.subarray(10, frame.length - 1);
}

function cardOf(result: DecodedCard): Card {
  if (!result.ok) throw new Error(`expected a card, got ${JSON.stringify(result.error)}`);
  return result.card;
}

/** DATA for a text block and photo, laid out as PROTOCOL.md §3 says. */
function dataOf(text: Buffer, photo: Uint8Array, lengths = { text: text.length, photo: photo.length }): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(lengths.text, 0);
  head.writeUInt16BE(lengths.photo, 2);
  return Buffer.concat([head, text, photo]);
}

const PHOTO = Buffer.alloc(1024, 0x5a);

const RESIDENT: CardFields = {
  name: '张三',
  gender: 'female',
  nation: '01',
  birth: '1949-12-31',
  address: '北京市朝阳区朝阳路1号',
  idNumber: '11010519491231002X',
  authority: '北京市公安局朝阳分局',
  validFrom: '2015-01-01',
  validTo: '2035-01-01',
  docType: 'resident',
};

/** The resident text block with one field (by byte offset) overwritten. */
function textWith(offset: number, value: string, base: CardFields = RESIDENT): Buffer {
  const text = encodeCardText(base);
  text.write(value, offset, 'utf16le');
  return text;
}

describe('read fixtures decode to Card JSON (PROTOCOL.md §3)', () => {
  const sha = (name: string): string => createHash('sha256').update(readData(readHexFixture(name)).subarray(260)).digest('hex');

  it('read-resident is 张三, female, valid 2015-01-01..2035-01-01', () => {
    const result = decodeCard(readData(readHexFixture('read-resident')));
    expect(cardOf(result)).toEqual({ ...RESIDENT, photoSha256: sha('read-resident') });
  });

  it('read-longterm says 长期, so validTo is null', () => {
    expect(cardOf(decodeCard(readData(readHexFixture('read-longterm'))))).toEqual({
      name: '李建国',
      gender: 'male',
      nation: '01',
      birth: '1960-05-20',
      address: '江苏省泰州市海陵区青年南路8号',
      idNumber: '321202196005200316',
      authority: '泰州市公安局海陵分局',
      validFrom: '2010-03-15',
      validTo: null,
      docType: 'resident',
      photoSha256: sha('read-longterm'),
    });
  });

  it('read-expired is 王五, valid to 2020-01-01', () => {
    const card = cardOf(decodeCard(readData(readHexFixture('read-expired'))));
    expect(card).toMatchObject({ name: '王五', idNumber: '360426199101010071', validFrom: '2010-01-01', validTo: '2020-01-01' });
  });

  it('read-hk-permit is a J permit with pass number, issue count and no nation', () => {
    const card = cardOf(decodeCard(readData(readHexFixture('read-hk-permit'))));
    expect(card).toEqual({
      name: '陈大文',
      gender: 'male',
      nation: null,
      birth: '1985-06-12',
      address: '香港特别行政区',
      idNumber: '810000198506120032',
      authority: '公安部',
      validFrom: '2020-01-01',
      validTo: '2025-01-01',
      docType: 'permit-hkmotw',
      passNumber: 'H60123456',
      issueCount: '01',
      photoSha256: sha('read-hk-permit'),
    });
  });

  it('a resident card has no passNumber or issueCount keys, and photoSha256 comes last', () => {
    const card = cardOf(decodeCard(readData(readHexFixture('read-resident'))));
    expect(Object.keys(card)).toEqual([...Object.keys(RESIDENT), 'photoSha256']);
  });

  it('returns the raw 1024-byte photo, whose SHA-256 is photoSha256', () => {
    const result = decodeCard(readData(readHexFixture('read-resident')));
    if (!result.ok) throw new Error('expected a card');
    expect(result.photo).toHaveLength(1024);
    expect(createHash('sha256').update(result.photo).digest('hex')).toBe(result.card.photoSha256);
  });

  it.each(['read-resident', 'read-longterm', 'read-expired', 'read-hk-permit'])(
    'encodeReadResponse rebuilds %s byte for byte from its decoded card',
    (name) => {
      const frame = readHexFixture(name);
      const result = decodeCard(readData(frame));
      if (!result.ok) throw new Error('expected a card');
      const { photoSha256: _, ...fields } = result.card;
      expect(encodeReadResponse(fields, result.photo)).toEqual(frame);
    },
  );

  it('a read response from the parser decodes from its frame data', () => {
    const [result] = new SamParser().push(encodeReadResponse(RESIDENT, PHOTO));
    expect(result?.ok && cardOf(decodeCard(result.frame.data)).name).toBe('张三');
  });
});

describe('read DATA lengths (MW_SAM_BAD_READ)', () => {
  const text = encodeCardText(RESIDENT);

  it('DATA shorter than the two length fields is a bad read', () => {
    expect(decodeCard(Uint8Array.of(1, 0, 4))).toMatchObject({ ok: false, error: { code: 'MW_SAM_BAD_READ' } });
  });

  it('lengths that claim more than the DATA holds are a bad read', () => {
    const data = dataOf(text, PHOTO, { text: 256, photo: 1025 });
    expect(decodeCard(data)).toMatchObject({ ok: false, error: { code: 'MW_SAM_BAD_READ' } });
  });

  it('bytes left over after text and photo are a bad read', () => {
    const data = Buffer.concat([dataOf(text, PHOTO), Buffer.of(0)]);
    expect(decodeCard(data)).toMatchObject({ ok: false, error: { code: 'MW_SAM_BAD_READ' } });
  });

  it('a text block shorter than the 256-byte layout is a bad read', () => {
    const data = dataOf(text.subarray(0, 254), PHOTO);
    expect(decodeCard(data)).toMatchObject({ ok: false, error: { code: 'MW_SAM_BAD_READ' } });
  });

  it('the photo is found by the text length, not at a fixed offset', () => {
    const longer = Buffer.concat([text, Buffer.from('  ', 'utf16le')]);
    const result = decodeCard(dataOf(longer, PHOTO));
    expect(result.ok && result.photo).toEqual(PHOTO);
  });

  it('a photo of another size is kept opaque and hashed as it is', () => {
    const photo = Buffer.from('not really WLT');
    const result = decodeCard(dataOf(text, photo));
    expect(result.ok && result.card.photoSha256).toBe(createHash('sha256').update(photo).digest('hex'));
  });
});

describe('card type and malformed fields', () => {
  it.each(['I', 'Y'])('type %s is refused as DOC_UNSUPPORTED, reporting foreign-permanent', (type) => {
    const text = encodeCardText({ ...RESIDENT, cardType: type });
    expect(decodeCard(dataOf(text, PHOTO))).toEqual({
      ok: false,
      error: { code: 'MW_SAM_DOC_UNSUPPORTED', docType: 'foreign-permanent' },
    });
  });

  it('any other type char reads as a resident card', () => {
    const text = encodeCardText({ ...RESIDENT, cardType: 'Q' });
    expect(cardOf(decodeCard(dataOf(text, PHOTO))).docType).toBe('resident');
  });

  it.each([
    ['gender', 30, '5'],
    ['gender', 30, ' '],
    ['nation', 32, '1x'],
    ['birth', 36, '19491331'],
    ['birth', 36, '19490229'],
    ['birth', 36, '1949-1-1'],
    ['validFrom', 188, '2015O101'],
    ['validTo', 204, '长  '],
    ['validTo', 204, '20350001'],
  ])('a malformed %s field (%s) is MW_SAM_BAD_CARD_TEXT naming it', (field, offset, value) => {
    expect(decodeCard(dataOf(textWith(offset, value), PHOTO))).toEqual({
      ok: false,
      error: { code: 'MW_SAM_BAD_CARD_TEXT', field },
    });
  });

  it('a leap day is a real date', () => {
    expect(cardOf(decodeCard(dataOf(textWith(36, '20000229'), PHOTO))).birth).toBe('2000-02-29');
  });

  it.each([
    ['1', 'male'],
    ['2', 'female'],
    ['0', 'unknown'],
    ['9', 'unspecified'],
  ])('gender code %s reads as %s', (code, gender) => {
    expect(cardOf(decodeCard(dataOf(textWith(30, code), PHOTO))).gender).toBe(gender);
  });

  it('a lower-case x in the ID number is normalised to X', () => {
    const card = cardOf(decodeCard(dataOf(encodeCardText({ ...RESIDENT, idNumber: '11010519491231002x' }), PHOTO)));
    expect(card.idNumber).toBe('11010519491231002X');
  });

  it('encodeCardText refuses a value longer than its field', () => {
    expect(() => encodeCardText({ ...RESIDENT, name: '一二三四五六七八九十一二三四五六' })).toThrow(RangeError);
    expect(() => encodeCardText({ ...RESIDENT, birth: '19491231' })).toThrow(RangeError);
  });
});

/** Strings of BMP CJK ideographs and digits, with no space padding to trim. */
const cjk = (maxLength: number, minLength = 1) =>
  fc.string({
    unit: fc.oneof(
      fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('0', '1', '9', '号', '路'),
    ),
    minLength,
    maxLength,
  });
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
const date = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const common = {
  name: cjk(15),
  gender: fc.constantFrom('male', 'female', 'unknown', 'unspecified' as const),
  birth: date,
  address: cjk(35, 0),
  idNumber: fc.tuple(digits(17), fc.constantFrom(...'0123456789X')).map(([d, c]) => d + c),
  authority: cjk(15, 0),
  validFrom: date,
  validTo: fc.option(date, { nil: null }),
};
const resident = fc.record({
  ...common,
  nation: fc.option(digits(2), { nil: null }),
  docType: fc.constant('resident' as const),
});
const permit = fc.record({
  ...common,
  nation: fc.constant(null),
  docType: fc.constant('permit-hkmotw' as const),
  passNumber: fc.tuple(fc.constantFrom('H', 'M'), digits(8)).map(([p, d]) => p + d),
  issueCount: digits(2),
});

describe('card text round trips (fast-check)', () => {
  it('any resident card or J permit decodes back to the fields it was encoded from', () => {
    fc.assert(
      fc.property(fc.oneof(resident, permit), fc.uint8Array({ minLength: 1024, maxLength: 1024 }), (fields, photo) => {
        const text = encodeCardText(fields);
        expect(text).toHaveLength(CARD_TEXT_BYTES);
        const sha = createHash('sha256').update(photo).digest('hex');
        expect(cardOf(decodeCard(dataOf(text, photo)))).toEqual({ ...fields, photoSha256: sha });
      }),
    );
  });
});
