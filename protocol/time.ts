import { z } from 'zod';

// PROTOCOL.md §0: accept any RFC 3339 time with a zone; emit UTC with milliseconds.
export const Timestamp = z.iso.datetime({ offset: true });

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `s` is YYYY-MM-DD and names a day that exists. */
export function isCalendarDate(s: string): boolean {
  const m = CALENDAR_DATE.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export const CalendarDate = z.string().refine(isCalendarDate, 'expected a real date YYYY-MM-DD');

/** PROTOCOL.md §0: `YYYY-MM-DDTHH:mm:ss.sssZ`. */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** The calendar date at `epochMs` in an IANA time zone (CHECKIN.md: building time zone). */
export function localDate(epochMs: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(epochMs);
}
