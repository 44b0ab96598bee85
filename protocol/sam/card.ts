// The DATA of a SAM read response (SW3 90) as Card JSON, and back, PROTOCOL.md §3
// "Read response", "Text block" and "Card JSON". Pure: no I/O.
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';
import { SW3, encodeResponse } from './frame.ts';

export type Gender = 'male' | 'female' | 'unknown' | 'unspecified';
export type DocType = 'resident' | 'permit-hkmotw' | 'foreign-permanent';

/** Card JSON, PROTOCOL.md §3. `passNumber` and `issueCount` are present on `J` permits only. */
export type Card = {
  name: string;
  gender: Gender;
  nation: string | null;
  birth: string;
  address: string;
  idNumber: string;
  authority: string;
  validFrom: string;
  validTo: string | null;
  docType: DocType;
  passNumber?: string;
  issueCount?: string;
  photoSha256: string;
};

/** What a simulator puts on a card. `cardType` overrides the type char that docType implies. */
export type CardFields = Omit<Card, 'photoSha256'> & { cardType?: string };

export type CardError = { code: ErrorCode; field?: string; docType?: DocType; detail?: string };

export type DecodedCard = { ok: true; card: Card; photo: Buffer } | { ok: false; error: CardError };

/** The text block is 256 bytes of UCS-2LE (PROTOCOL.md §3). */
export const CARD_TEXT_BYTES = 256;

/** Byte ranges of the resident (and `J` permit) text block layout, PROTOCOL.md §3. */
const FIELD = {
  name: [0, 30],
  gender: [30, 2],
  nation: [32, 4],
  birth: [36, 16],
  address: [52, 70],
  idNumber: [122, 36],
  authority: [158, 30],
  validFrom: [188, 16],
  validTo: [204, 16],
  passNumber: [220, 18],
  issueCount: [238, 4],
  cardType: [248, 2],
} as const satisfies Record<string, readonly [offset: number, bytes: number]>;

type FieldName = keyof typeof FIELD;

const GENDER_BY_CODE: Readonly<Record<string, Gender>> = {
  '1': 'male',
  '2': 'female',
  '0': 'unknown',
  '9': 'unspecified',
};
const CODE_BY_GENDER: Readonly<Record<Gender, string>> = { male: '1', female: '2', unknown: '0', unspecified: '9' };
const TYPE_CHAR: Readonly<Record<DocType, string>> = { resident: ' ', 'permit-hkmotw': 'J', 'foreign-permanent': 'Y' };
const LONG_TERM = '长期';

class CardTextError extends Error {
  constructor(readonly field: FieldName) {
    super(`malformed card field ${field}`);
  }
}

/** Decodes the DATA of a read response: text length, photo length, text, photo. */
export function decodeCard(data: Uint8Array): DecodedCard {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 4) return badRead(`DATA is ${bytes.length} bytes, the two lengths need 4`);
  const textLength = bytes.readUInt16BE(0);
  const photoLength = bytes.readUInt16BE(2);
  // Parse by the length fields, not fixed offsets (PROTOCOL.md §3).
  if (4 + textLength + photoLength !== bytes.length) {
    return badRead(`text ${textLength} + photo ${photoLength} + 4 does not match DATA of ${bytes.length} bytes`);
  }
  if (textLength < CARD_TEXT_BYTES) {
    return badRead(`text block is ${textLength} bytes, the layout needs ${CARD_TEXT_BYTES}`);
  }
  const text = bytes.subarray(4, 4 + textLength);
  const photo = Buffer.from(bytes.subarray(4 + textLength));
  const typeChar = readField(text, 'cardType');
  if (typeChar === 'I' || typeChar === 'Y') {
    // Foreign permanent resident cards have other layouts; refused until implemented (PROTOCOL.md §3).
    return { ok: false, error: { code: 'MW_SAM_DOC_UNSUPPORTED', docType: 'foreign-permanent' } };
  }
  try {
    const card = cardFromText(text, typeChar === 'J' ? 'permit-hkmotw' : 'resident', photo);
    return { ok: true, card, photo };
  } catch (err) {
    if (!(err instanceof CardTextError)) throw err;
    return { ok: false, error: { code: 'MW_SAM_BAD_CARD_TEXT', field: err.field } };
  }
}

function badRead(detail: string): DecodedCard {
  return { ok: false, error: { code: 'MW_SAM_BAD_READ', detail } };
}

function cardFromText(text: Buffer, docType: DocType, photo: Buffer): Card {
  const permit =
    docType === 'permit-hkmotw'
      ? { passNumber: readField(text, 'passNumber'), issueCount: readField(text, 'issueCount') }
      : {};
  // Keys in the order of the Card JSON table (PROTOCOL.md §3), photoSha256 last.
  return {
    name: readField(text, 'name'),
    gender: parseGender(readField(text, 'gender')),
    nation: parseNation(readField(text, 'nation')),
    birth: parseDate(readField(text, 'birth'), 'birth'),
    address: readField(text, 'address'),
    idNumber: readField(text, 'idNumber').toUpperCase(),
    authority: readField(text, 'authority'),
    validFrom: parseDate(readField(text, 'validFrom'), 'validFrom'),
    validTo: parseValidTo(readField(text, 'validTo')),
    docType,
    ...permit,
    photoSha256: createHash('sha256').update(photo).digest('hex'),
  };
}

/** UCS-2LE with space padding (`20 00`), trimmed. */
function readField(text: Buffer, field: FieldName): string {
  const [offset, length] = FIELD[field];
  return text.toString('utf16le', offset, offset + length).replace(/^ +| +$/g, '');
}

function parseGender(code: string): Gender {
  const gender = GENDER_BY_CODE[code];
  if (gender === undefined) throw new CardTextError('gender');
  return gender;
}

/** Two digits, or null when blank (it is blank on `J` permits). */
function parseNation(value: string): string | null {
  if (value === '') return null;
  if (!/^\d{2}$/.test(value)) throw new CardTextError('nation');
  return value;
}

function parseValidTo(value: string): string | null {
  return value === LONG_TERM ? null : parseDate(value, 'validTo');
}

/** YYYYMMDD on the card to YYYY-MM-DD, refusing anything that is not a calendar date. */
function parseDate(value: string, field: FieldName): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  const [year, month, day] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
  if (!m || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new CardTextError(field);
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/**
 * The 256-byte text block of a card, for simulators and round-trip tests. Throws
 * RangeError when a value does not fit its field or a date is not YYYY-MM-DD.
 */
export function encodeCardText(fields: CardFields): Buffer {
  const text = Buffer.from(' '.repeat(CARD_TEXT_BYTES / 2), 'utf16le');
  writeField(text, 'name', fields.name);
  writeField(text, 'gender', CODE_BY_GENDER[fields.gender]);
  writeField(text, 'nation', fields.nation ?? '');
  writeField(text, 'birth', cardDate(fields.birth));
  writeField(text, 'address', fields.address);
  writeField(text, 'idNumber', fields.idNumber);
  writeField(text, 'authority', fields.authority);
  writeField(text, 'validFrom', cardDate(fields.validFrom));
  writeField(text, 'validTo', fields.validTo === null ? LONG_TERM : cardDate(fields.validTo));
  writeField(text, 'passNumber', fields.passNumber ?? '');
  writeField(text, 'issueCount', fields.issueCount ?? '');
  writeField(text, 'cardType', fields.cardType ?? TYPE_CHAR[fields.docType]);
  return text;
}

/** A whole read-response frame (SW3 90) carrying this card and photo. */
export function encodeReadResponse(fields: CardFields, photo: Uint8Array): Buffer {
  const data = Buffer.alloc(4 + CARD_TEXT_BYTES + photo.length);
  data.writeUInt16BE(CARD_TEXT_BYTES, 0);
  data.writeUInt16BE(photo.length, 2);
  encodeCardText(fields).copy(data, 4);
  data.set(photo, 4 + CARD_TEXT_BYTES);
  return encodeResponse(SW3.ok, data);
}

function writeField(text: Buffer, field: FieldName, value: string): void {
  const [offset, length] = FIELD[field];
  if (value.length * 2 > length) {
    throw new RangeError(`card field ${field} holds ${length / 2} UCS-2 chars, got ${value.length}`);
  }
  text.write(value, offset, 'utf16le');
}

function cardDate(date: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new RangeError(`card date must be YYYY-MM-DD, got ${date}`);
  return date.replaceAll('-', '');
}
