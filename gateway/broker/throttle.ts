// PROTOCOL.md §1 Refusals: more than 5 failures from one source address in a minute
// refuse that address, without checking, for 1 minute. Monotonic time (invariant 6).
import type { Clock } from '../clock.ts';

const WINDOW_MS = 60_000;
const MAX_FAILURES = 5;
const MAX_TRACKED = 10_000;

export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  isBlocked(source: string): boolean {
    const until = this.blockedUntil.get(source);
    if (until === undefined) return false;
    if (this.clock.monotonic() < until) return true;
    this.blockedUntil.delete(source);
    return false;
  }

  recordFailure(source: string): void {
    const now = this.clock.monotonic();
    const recent = (this.failures.get(source) ?? []).filter((t) => now - t < WINDOW_MS);
    recent.push(now);
    if (recent.length > MAX_FAILURES) {
      this.blockedUntil.set(source, now + WINDOW_MS);
      this.failures.delete(source);
      return;
    }
    // A LAN host cycling addresses must not grow this map without bound.
    if (this.failures.size >= MAX_TRACKED && !this.failures.has(source)) this.prune(now);
    this.failures.set(source, recent);
  }

  private prune(now: number): void {
    for (const [source, times] of this.failures) {
      if (times.every((t) => now - t >= WINDOW_MS)) this.failures.delete(source);
    }
    if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
  }
}
