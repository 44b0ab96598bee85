import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HID_MAX_PAYLOAD,
  HID_REPORT_BYTES,
  fromHidReport,
  toHidReports,
  toHidWrites,
} from '../../../protocol/hid/report.ts';
import { SamParser, decodeCard } from '../../../protocol/sam/index.ts';
import { readHexFixture } from '../../helpers/fixtures.ts';

/** Unwraps reports the way a HID driver does, failing the test on a bad one. */
function payloads(reports: Uint8Array[]): Buffer[] {
  return reports.map((report) => {
    const result = fromHidReport(report);
    if (!result.ok) throw new Error(result.error.detail);
    return result.payload;
  });
}

describe('HID reports (PROTOCOL.md §3 HID transport)', () => {
  const read = readHexFixture('read-resident');

  it('a read response split into reports and reassembled equals the original', () => {
    const reports = toHidReports(read);
    expect(reports).toHaveLength(Math.ceil(read.length / HID_MAX_PAYLOAD));
    expect(Buffer.concat(payloads(reports))).toEqual(read);
  });

  it('every report is 64 bytes: a count of 1–63, the payload, zero padding', () => {
    const reports = toHidReports(read);
    for (const report of reports) {
      expect(report).toHaveLength(HID_REPORT_BYTES);
      const count = report[0] ?? 0;
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(HID_MAX_PAYLOAD);
      expect(report.subarray(1 + count).every((b) => b === 0)).toBe(true);
    }
    expect(reports.at(-1)?.[0]).toBe(read.length % HID_MAX_PAYLOAD);
  });

  it('report payloads fed to the SAM parser give the card back', () => {
    const parser = new SamParser();
    const results = payloads(toHidReports(read)).flatMap((payload) => parser.push(payload));
    expect(results).toHaveLength(1);
    const [result] = results;
    const decoded = result?.ok ? decodeCard(result.frame.data) : undefined;
    expect(decoded?.ok && decoded.card.idNumber).toBe('11010519491231002X');
  });

  it('no bytes make no reports', () => {
    expect(toHidReports(new Uint8Array(0))).toEqual([]);
  });

  it('hidraw writes are the same reports behind a 0x00 report id', () => {
    const writes = toHidWrites(read);
    const reports = toHidReports(read);
    expect(writes).toHaveLength(reports.length);
    writes.forEach((write, i) => {
      expect(write).toHaveLength(HID_REPORT_BYTES + 1);
      expect(write[0]).toBe(0x00);
      expect(write.subarray(1)).toEqual(reports[i]);
    });
  });

  it('any bytes survive reports and back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (bytes) => {
        expect(Buffer.concat(payloads(toHidReports(bytes)))).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe('bad HID reports are rejected with MW_HID_BAD_REPORT', () => {
  const report = (count: number, length = HID_REPORT_BYTES): Buffer => {
    const r = Buffer.alloc(length);
    r[0] = count;
    return r;
  };

  it.each([
    ['a zero length byte', report(0)],
    ['a length byte of 64', report(64)],
    ['a length byte of 255', report(255)],
    ['a length byte past the end of a short report', report(20, 10)],
    ['an empty report', Buffer.alloc(0)],
  ])('%s', (_, bad) => {
    expect(fromHidReport(bad)).toMatchObject({ ok: false, error: { code: 'MW_HID_BAD_REPORT' } });
  });

  it('a short report whose payload fits is accepted', () => {
    expect(fromHidReport(Buffer.of(2, 0xaa, 0xbb))).toEqual({ ok: true, payload: Buffer.of(0xaa, 0xbb) });
  });

  it('a full 63-byte payload is accepted', () => {
    const full = report(63);
    full.fill(7, 1);
    const result = fromHidReport(full);
    expect(result.ok && result.payload).toEqual(Buffer.alloc(63, 7));
  });
});
