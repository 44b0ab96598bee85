// ID number validation, PROTOCOL.md §6 (GB 11643-1999), the masks of PROTOCOL.md §0,
// the card-versus-number check of CHECKIN.md rule 5 and the age of CHECKIN.md rule 11.
// Pure: "today" is passed in as the building's local date, never read from a clock.
import { isCalendarDate } from './time.ts';

export type IdKind = 'resident' | 'permit-hkmotw' | 'foreign-permanent';

export type IdCheckReason = 'LENGTH' | 'FORMAT' | 'REGION' | 'DATE' | 'FUTURE_DATE' | 'CHECKSUM';

export type IdCheckOk = {
  ok: true;
  /** Normalised: a lower-case check `x` is upper-cased. */
  id: string;
  birth: string;
  gender: 'male' | 'female';
  /** The first 6 characters. */
  region: string;
  kind: IdKind;
};

export type IdCheckResult = IdCheckOk | { ok: false; reason: IdCheckReason };

export const ID_NUMBER_LENGTH = 18;

// GB 11643 check code, ISO 7064 MOD 11-2: weights of the 17 body digits, and the check
// character indexed by the weighted sum mod 11.
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

const ID_FORMAT = /^\d{17}[\dXx]$/;

// PROTOCOL.md §6: the province codes a resident number may start with.
const PROVINCE = /^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5])$/;
const PERMIT_HKMOTW = /^8[1-3]$/;

/**
 * Checks an 18-character ID number against PROTOCOL.md §6, reporting the first failing
 * reason in the order LENGTH, FORMAT, REGION, DATE, FUTURE_DATE, CHECKSUM. The input is
 * not trimmed: card fields arrive trimmed, and typed input is trimmed where it enters.
 * Only the province (or 81–83, or 9 + province) is checked: the county part of the
 * region has no table here, and counties are renamed over time.
 */
export function checkIdNumber(raw: string, today: string): IdCheckResult {
  if (!isCalendarDate(today)) throw new RangeError(`today must be a real YYYY-MM-DD date, got "${today}"`);
  if (raw.length !== ID_NUMBER_LENGTH) return { ok: false, reason: 'LENGTH' };
  if (!ID_FORMAT.test(raw)) return { ok: false, reason: 'FORMAT' };
  const id = raw.toUpperCase();
  const kind = kindOf(id);
  if (kind === undefined) return { ok: false, reason: 'REGION' };
  // The birth date sits at offset 6 for every kind: the foreign-permanent prefix
  // (9 + province + nationality) is also 6 characters. String order is date order.
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  if (!isCalendarDate(birth)) return { ok: false, reason: 'DATE' };
  if (birth > today) return { ok: false, reason: 'FUTURE_DATE' };
  if (id[17] !== checkCharacter(id.slice(0, 17))) return { ok: false, reason: 'CHECKSUM' };
  // GB 11643: the sequence code's last digit (the 17th character) gives the gender.
  const gender = Number(id[16]) % 2 === 1 ? 'male' : 'female';
  return { ok: true, id, birth, gender, region: id.slice(0, 6), kind };
}

/** The check character of 17 body digits (GB 11643, ISO 7064 MOD 11-2). Throws on anything else. */
export function checkCharacter(body: string): string {
  if (!/^\d{17}$/.test(body)) throw new RangeError('the body of an ID number is 17 digits');
  let sum = 0;
  for (const [i, weight] of WEIGHTS.entries()) sum += Number(body[i]) * weight;
  return CHECK_CHARS.charAt(sum % 11);
}

// PROTOCOL.md §6 table: which prefix makes which kind of number.
function kindOf(id: string): IdKind | undefined {
  if (id[0] === '9') return PROVINCE.test(id.slice(1, 3)) ? 'foreign-permanent' : undefined;
  const prefix = id.slice(0, 2);
  if (PERMIT_HKMOTW.test(prefix)) return 'permit-hkmotw';
  return PROVINCE.test(prefix) ? 'resident' : undefined;
}

/**
 * PROTOCOL.md §0: keep the first 6 and the last 4 characters, star the rest
 * (`110105********002X`). Input of another length is masked in the same proportion
 * (at most 6 + 4 characters shown, and fewer for short input), so garbage typed into an
 * ID field is never logged whole.
 */
export function maskIdNumber(id: string): string {
  const chars = Array.from(id);
  const n = chars.length;
  const head = n >= ID_NUMBER_LENGTH ? 6 : Math.floor((n * 6) / ID_NUMBER_LENGTH);
  const tail = n >= ID_NUMBER_LENGTH ? 4 : Math.floor((n * 4) / ID_NUMBER_LENGTH);
  return chars.slice(0, head).join('') + '*'.repeat(n - head - tail) + chars.slice(n - tail).join('');
}

// Names are cut by user-perceived characters, so a surrogate pair (𠮷) or a combining
// sequence is one character and one star, and no half character is ever shown.
const GRAPHEMES = new Intl.Segmenter('zh', { granularity: 'grapheme' });

/** PROTOCOL.md §0: the first character, then one star per remaining character (`欧***`). */
export function maskName(name: string): string {
  const chars = Array.from(GRAPHEMES.segment(name), (s) => s.segment);
  const [first] = chars;
  return first === undefined ? '' : first + '*'.repeat(chars.length - 1);
}

/** The card fields that CHECKIN.md rule 5 compares (Card of protocol/sam fits). */
export type CardIdentity = { idNumber: string; birth: string; gender: string; docType: string };

/**
 * CHECKIN.md rule 5, PROTOCOL.md §6: the card's birth and gender agree with the number.
 * Only codes 1 and 2 ('male', 'female') can agree. A `J` card's number starts with
 * 81–83; more generally the card's document type must be the kind its number implies,
 * so a resident card carrying a permit or foreign number is inconsistent too.
 */
export function cardAgreesWithNumber(card: CardIdentity, parsed: Pick<IdCheckOk, 'birth' | 'gender' | 'kind'>): boolean {
  if (card.gender !== 'male' && card.gender !== 'female') return false;
  if (card.birth !== parsed.birth || card.gender !== parsed.gender) return false;
  if (card.docType === 'permit-hkmotw' && !PERMIT_HKMOTW.test(card.idNumber.slice(0, 2))) return false;
  return card.docType === parsed.kind;
}

/**
 * Completed years on `date` (CHECKIN.md rule 11), both YYYY-MM-DD. A year is completed
 * on the birthday's month and day; a 29 February birthday therefore completes its year
 * on 1 March in a non-leap year (28 February is still the day before). A date before
 * the birth gives a negative number; callers refuse such cards before asking the age.
 */
export function ageOn(birth: string, date: string): number {
  if (!isCalendarDate(birth) || !isCalendarDate(date)) {
    throw new RangeError(`ageOn needs two YYYY-MM-DD dates, got "${birth}" and "${date}"`);
  }
  const years = Number(date.slice(0, 4)) - Number(birth.slice(0, 4));
  // MM-DD compares as a string; "02-29" sorts after "02-28" and before "03-01".
  return date.slice(5) < birth.slice(5) ? years - 1 : years;
}
