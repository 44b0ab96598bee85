import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BADGE_MAX_DIGITS,
  BADGE_MAX_MS,
  BadgeDecoder,
  encodeBadgeReports,
  type BadgeEvent,
} from '../../../protocol/badge.ts';

const ENTER = 0x28;
const KEYPAD_ENTER = 0x58;
const MAIN_ROW = { '1': 0x1e, '2': 0x1f, '3': 0x20, '5': 0x22, '9': 0x26, '0': 0x27 } as const;
const RELEASE = report();

/** A boot keyboard report with these key codes in slots 0.. (and optional modifiers). */
function report(keys: number[] = [], modifiers = 0): Uint8Array {
  const bytes = new Uint8Array(8);
  bytes[0] = modifiers;
  bytes.set(keys, 2);
  return bytes;
}

/** Pushes reports 1 ms apart from `startMs` and collects every event. */
function feed(decoder: BadgeDecoder, reports: Uint8Array[], startMs = 0, stepMs = 1): BadgeEvent[] {
  return reports.flatMap((r, i) => decoder.push(r, startMs + i * stepMs));
}

/** Press-and-release reports for each key code. */
function typed(codes: number[]): Uint8Array[] {
  return codes.flatMap((code) => [report([code]), RELEASE]);
}

describe('BadgeDecoder (PROTOCOL.md §4)', () => {
  it('the digits typed before Enter are a badge', () => {
    const { '1': k1, '2': k2, '3': k3, '0': k0 } = MAIN_ROW;
    expect(feed(new BadgeDecoder(), typed([k1, k2, k3, k0, ENTER]))).toEqual([{ ok: true, badge: '1230' }]);
  });

  it('main-row codes 0x1E–0x27 are 1–9 then 0', () => {
    const codes = [0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, ENTER];
    expect(feed(new BadgeDecoder(), typed(codes))).toEqual([{ ok: true, badge: '1234567890' }]);
  });

  it('keypad codes 0x59–0x62 are 1–9 then 0, and keypad Enter 0x58 ends the badge', () => {
    const codes = [0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, KEYPAD_ENTER];
    expect(feed(new BadgeDecoder(), typed(codes))).toEqual([{ ok: true, badge: '1234567890' }]);
  });

  it('a key held across reports counts once', () => {
    const held = [report([MAIN_ROW['5']]), report([MAIN_ROW['5']]), report([MAIN_ROW['5']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...held, ...typed([ENTER])])).toEqual([{ ok: true, badge: '5' }]);
  });

  it('a key pressed while another is held counts, and the held one does not repeat', () => {
    const reports = [report([MAIN_ROW['1']]), report([MAIN_ROW['1'], MAIN_ROW['2']]), report([MAIN_ROW['2']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '12' }]);
  });

  it('a held key moving to another slot is still held', () => {
    const reports = [report([MAIN_ROW['1'], MAIN_ROW['2']]), report([MAIN_ROW['2'], MAIN_ROW['1']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '12' }]);
  });

  it('a digit released and pressed again counts twice', () => {
    expect(feed(new BadgeDecoder(), typed([MAIN_ROW['9'], MAIN_ROW['9'], ENTER]))).toEqual([{ ok: true, badge: '99' }]);
  });

  it('keys newly pressed in one report count in slot order', () => {
    const reports = [report([MAIN_ROW['3'], MAIN_ROW['1'], MAIN_ROW['2']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '312' }]);
  });

  it('digits and Enter in one report make a badge at once', () => {
    const decoder = new BadgeDecoder();
    expect(decoder.push(report([MAIN_ROW['2'], MAIN_ROW['1'], ENTER]), 0)).toEqual([{ ok: true, badge: '21' }]);
  });

  it('a key code repeated in two slots of one report counts once', () => {
    const reports = [report([MAIN_ROW['1'], MAIN_ROW['1']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '1' }]);
  });

  it('other keys and modifiers are ignored', () => {
    const reports = [report([0x04]), RELEASE, report([MAIN_ROW['1']], 0x02), RELEASE, report([0x2c, MAIN_ROW['2']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '12' }]);
  });

  it('Enter with no digits yields nothing', () => {
    expect(feed(new BadgeDecoder(), typed([ENTER, KEYPAD_ENTER]))).toEqual([]);
  });

  it('a phantom (ErrorRollOver) report neither releases nor repeats the held keys', () => {
    const reports = [report([MAIN_ROW['1']]), report([1, 1, 1, 1, 1, 1]), report([MAIN_ROW['1']]), RELEASE];
    expect(feed(new BadgeDecoder(), [...reports, ...typed([ENTER])])).toEqual([{ ok: true, badge: '1' }]);
  });
});

describe('BadgeDecoder timing (PROTOCOL.md §4: 500 ms from first key to Enter)', () => {
  const badge = (digits: string) => encodeBadgeReports(digits);

  it('Enter exactly 500 ms after the first key still makes a badge', () => {
    const decoder = new BadgeDecoder();
    const [press1, release1, pressEnter] = badge('1');
    decoder.push(press1!, 1000);
    decoder.push(release1!, 1001);
    expect(decoder.push(pressEnter!, 1000 + BADGE_MAX_MS)).toEqual([{ ok: true, badge: '1' }]);
  });

  it('slower than 500 ms is MW_BADGE_TOO_SLOW, the digits are dropped, and the next swipe works', () => {
    const decoder = new BadgeDecoder();
    const slow = feed(decoder, badge('1234'), 0, 70);
    expect(slow).toEqual([{ ok: false, error: { code: 'MW_BADGE_TOO_SLOW', detail: expect.stringContaining('560 ms') } }]);
    expect(JSON.stringify(slow)).not.toContain('1234');
    expect(feed(decoder, badge('5678'), 10_000)).toEqual([{ ok: true, badge: '5678' }]);
  });

  it('a stray digit long before a swipe fails that swipe rather than shortening it', () => {
    const decoder = new BadgeDecoder();
    feed(decoder, typed([MAIN_ROW['9']]), 0);
    expect(feed(decoder, badge('1234'), 60_000)).toMatchObject([{ ok: false, error: { code: 'MW_BADGE_TOO_SLOW' } }]);
    expect(feed(decoder, badge('1234'), 61_000)).toEqual([{ ok: true, badge: '1234' }]);
  });

  it('honours a configured maxMs', () => {
    expect(feed(new BadgeDecoder({ maxMs: 5 }), badge('12'), 0, 2)).toMatchObject([{ ok: false, error: { code: 'MW_BADGE_TOO_SLOW' } }]);
    expect(feed(new BadgeDecoder({ maxMs: 2000 }), badge('12'), 0, 200)).toEqual([{ ok: true, badge: '12' }]);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxMs %s', (maxMs) => {
    expect(() => new BadgeDecoder({ maxMs })).toThrow(RangeError);
  });
});

describe('BadgeDecoder errors', () => {
  it.each([0, 7, 9, 64])('a %i-byte report is MW_HID_BAD_REPORT and the badge in progress goes on', (length) => {
    const decoder = new BadgeDecoder();
    decoder.push(report([MAIN_ROW['1']]), 0);
    expect(decoder.push(new Uint8Array(length), 1)).toEqual([
      { ok: false, error: { code: 'MW_HID_BAD_REPORT', detail: expect.stringContaining(`${length} bytes`) } },
    ]);
    expect(feed(decoder, [RELEASE, ...typed([MAIN_ROW['2'], ENTER])], 2)).toEqual([{ ok: true, badge: '12' }]);
  });

  it(`${BADGE_MAX_DIGITS} digits make a badge`, () => {
    const digits = '7'.repeat(BADGE_MAX_DIGITS);
    expect(feed(new BadgeDecoder(), encodeBadgeReports(digits), 0, 0)).toEqual([{ ok: true, badge: digits }]);
  });

  it('one digit more is MW_BADGE_TOO_LONG once, the run is dropped up to its Enter, and the next badge works', () => {
    const decoder = new BadgeDecoder();
    const events = feed(decoder, encodeBadgeReports('7'.repeat(BADGE_MAX_DIGITS + 10)), 0, 0);
    expect(events).toEqual([{ ok: false, error: { code: 'MW_BADGE_TOO_LONG', detail: expect.any(String) } }]);
    expect(feed(decoder, encodeBadgeReports('42'), 10)).toEqual([{ ok: true, badge: '42' }]);
  });
});

describe('encodeBadgeReports', () => {
  it('makes a press and a release per digit, then Enter', () => {
    const reports = encodeBadgeReports('10');
    expect(reports.map((r) => r.toString('hex'))).toEqual([
      '00001e0000000000',
      '0000000000000000',
      '0000270000000000',
      '0000000000000000',
      '0000280000000000',
      '0000000000000000',
    ]);
  });

  it.each(['12a', '１２', '-1', ' 1'])('refuses the non-digit badge %j', (badge) => {
    expect(() => encodeBadgeReports(badge)).toThrow(RangeError);
  });

  it('any badge of 1–64 digits, typed within 500 ms, decodes to itself', () => {
    const badgeDigits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: BADGE_MAX_DIGITS });
    fc.assert(
      fc.property(badgeDigits, fc.integer({ min: 0, max: 3 }), fc.nat(1e9), (digits, stepMs, startMs) => {
        expect(feed(new BadgeDecoder(), encodeBadgeReports(digits), startMs, stepMs)).toEqual([{ ok: true, badge: digits }]);
      }),
    );
  });

  it('arbitrary reports never throw, and every badge is 1–64 digits', () => {
    const anyReport = fc.oneof(
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      fc.uint8Array({ maxLength: 12 }),
      fc.constantFrom(...encodeBadgeReports('1234567890')),
    );
    fc.assert(
      fc.property(fc.array(anyReport, { maxLength: 200 }), (reports) => {
        for (const event of feed(new BadgeDecoder(), reports)) {
          if (event.ok) expect(event.badge).toMatch(/^\d{1,64}$/);
        }
      }),
    );
  });
});
