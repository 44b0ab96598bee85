// Flood control (PROTOCOL.md §2.3; ARCHITECTURE.md invariant 9). Events caused by
// untrusted input are aggregated per (source, type) per minute: the first goes out at
// once; while more keep coming, one summary {count, firstAt, lastAt} goes out per minute.
import type { Clock } from './clock.ts';
import type { NewEvent } from './outbox/outbox.ts';
import { isoTime } from '../protocol/time.ts';

const WINDOW_MS = 60_000;
/** Past this many (source, type) pairs, new sources share one bucket, so memory stays bounded. */
const MAX_BUCKETS = 10_000;

type Bucket = { template: NewEvent; openedMono: number; count: number; firstAt: number; lastAt: number };

export class FloodControl {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock) {}

  /** Returns the event to enqueue now, or null when it joins this minute's summary. */
  admit(source: string, event: NewEvent): NewEvent | null {
    let key = `${event.class}/${event.type}\u0000${source}`;
    if (!this.buckets.has(key) && this.buckets.size >= MAX_BUCKETS) key = `${event.class}/${event.type}\u0000*`;
    const bucket = this.buckets.get(key);
    if (!bucket) {
      this.buckets.set(key, { template: event, openedMono: this.clock.monotonic(), count: 0, firstAt: 0, lastAt: 0 });
      return event;
    }
    const now = this.clock.now();
    if (bucket.count === 0) bucket.firstAt = now;
    bucket.count++;
    bucket.lastAt = now;
    return null;
  }

  /** Takes back an admit whose transaction did not commit. */
  unadmit(source: string, event: NewEvent): void {
    for (const key of [`${event.class}/${event.type}\u0000${source}`, `${event.class}/${event.type}\u0000*`]) {
      const bucket = this.buckets.get(key);
      if (!bucket) continue;
      if (bucket.count > 0) bucket.count--;
      else this.buckets.delete(key);
      return;
    }
  }

  /** Summaries of the windows that closed; call it every few seconds. */
  due(): NewEvent[] {
    const now = this.clock.monotonic();
    const out: NewEvent[] = [];
    for (const [key, b] of this.buckets) {
      if (now - b.openedMono < WINDOW_MS) continue;
      if (b.count === 0) {
        this.buckets.delete(key);
        continue;
      }
      out.push({ ...b.template, data: { ...b.template.data, count: b.count, firstAt: isoTime(b.firstAt), lastAt: isoTime(b.lastAt) } });
      Object.assign(b, { openedMono: now, count: 0 });
    }
    return out;
  }
}
