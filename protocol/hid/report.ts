// SAM readers in USB-HID mode, PROTOCOL.md §3 "HID transport": both directions use
// 64-byte reports, byte 0 = number of payload bytes that follow (1–63), the rest zero
// padding. The payloads of consecutive reports form the serial byte stream, so a
// driver unwraps reports and feeds the payloads to SamParser. Pure: no I/O.

export const HID_REPORT_BYTES = 64;

/** Byte 0 is the count, so a report carries at most 63 payload bytes. */
export const HID_MAX_PAYLOAD = HID_REPORT_BYTES - 1;

/** Writes through hidraw put the report id 0x00 in front of the 64 bytes. */
export const HID_WRITE_REPORT_ID = 0x00;

export type HidReportResult =
  | { ok: true; payload: Buffer }
  | { ok: false; error: { code: 'MW_HID_BAD_REPORT'; detail: string } };

/** Cuts a byte stream into 64-byte reports. No bytes, no reports. */
export function toHidReports(bytes: Uint8Array): Buffer[] {
  const reports: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += HID_MAX_PAYLOAD) {
    const payload = bytes.subarray(at, at + HID_MAX_PAYLOAD);
    const report = Buffer.alloc(HID_REPORT_BYTES);
    report[0] = payload.length;
    report.set(payload, 1);
    reports.push(report);
  }
  return reports;
}

/** As toHidReports, each with the 0x00 report id in front (65 bytes) for hidraw writes. */
export function toHidWrites(bytes: Uint8Array): Buffer[] {
  return toHidReports(bytes).map((report) => Buffer.concat([Buffer.of(HID_WRITE_REPORT_ID), report]));
}

/**
 * The payload of one received report. The count byte must be 1–63 and fit in the
 * report; anything else is a bad report. Only the count is checked, not the padding,
 * since readers need not zero it. The payload is a copy, safe to keep.
 */
export function fromHidReport(report: Uint8Array): HidReportResult {
  const count = report[0];
  if (count === undefined) return badReport('empty report');
  if (count === 0 || count > HID_MAX_PAYLOAD) return badReport(`length byte ${count} is outside 1..${HID_MAX_PAYLOAD}`);
  if (count > report.length - 1) return badReport(`length byte ${count} but only ${report.length - 1} bytes follow`);
  return { ok: true, payload: Buffer.from(report.subarray(1, 1 + count)) };
}

function badReport(detail: string): HidReportResult {
  return { ok: false, error: { code: 'MW_HID_BAD_REPORT', detail } };
}
