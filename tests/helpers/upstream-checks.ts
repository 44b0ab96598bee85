// What the platform side checks of a received stream (PROTOCOL.md §2.1): dedupe by
// eventId, and seq order within each class among first arrivals.
import type { Received } from './subscriber.ts';

type Envelope = { eventId: string; seq: number; class: string; deviceId?: string; data: { deviceSeq?: number } };

export type StreamReport = { unique: Envelope[]; duplicates: number; orderViolations: string[] };

export function analyse(messages: readonly Received[]): StreamReport {
  const seen = new Set<string>();
  const lastSeq = new Map<string, number>();
  const unique: Envelope[] = [];
  const orderViolations: string[] = [];
  let duplicates = 0;
  for (const m of messages) {
    const e = m.json as Envelope;
    if (seen.has(e.eventId)) {
      duplicates++;
      continue;
    }
    seen.add(e.eventId);
    unique.push(e);
    const last = lastSeq.get(e.class) ?? 0;
    if (e.seq <= last) orderViolations.push(`${e.class}: seq ${e.seq} after ${last}`);
    lastSeq.set(e.class, e.seq);
  }
  return { unique, duplicates, orderViolations };
}

/** `deviceId:deviceSeq` of every unique device event, to compare with what devices had acked. */
export function deliveredDeviceEvents(report: StreamReport): Set<string> {
  return new Set(report.unique.filter((e) => e.deviceId && e.data.deviceSeq !== undefined).map((e) => `${e.deviceId}:${e.data.deviceSeq}`));
}

/**
 * PROTOCOL.md §2.1: `seq` strictly increases per gateway across restarts and is never
 * reused, and delivery is at least once (ARCHITECTURE.md invariant 3). So a seq may
 * arrive again only as a resend of the very same event, byte for byte, and an eventId
 * always keeps its seq. Returns each breach found.
 */
export function seqReuses(messages: readonly Received[]): string[] {
  const bySeq = new Map<number, Received>();
  const seqOf = new Map<string, number>();
  const breaches: string[] = [];
  for (const m of messages) {
    const e = m.json as Envelope;
    const first = bySeq.get(e.seq);
    if (first && !first.payload.equals(m.payload)) breaches.push(`seq ${e.seq}: ${(first.json as Envelope).eventId} and ${e.eventId}`);
    if (!first) bySeq.set(e.seq, m);
    const seq = seqOf.get(e.eventId);
    if (seq !== undefined && seq !== e.seq) breaches.push(`${e.eventId}: seq ${seq} and ${e.seq}`);
    seqOf.set(e.eventId, e.seq);
  }
  return breaches;
}
