// Time is injected (STYLE.md §7). Wall time is for legal validity and timestamps;
// monotonic time is for every internal timer (ARCHITECTURE.md invariant 6).
export interface Clock {
  /** Wall clock, epoch milliseconds. May jump when NTP corrects it. */
  now(): number;
  /** Monotonic milliseconds since an arbitrary origin. Never jumps. */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};

/** A clock tests move by hand: `advance` moves both, `jumpWall` only the wall clock. */
export class FakeClock implements Clock {
  private wall: number;
  private mono = 0;

  constructor(startWall = Date.parse('2026-11-30T02:00:00.000Z')) {
    this.wall = startWall;
  }

  now(): number {
    return this.wall;
  }

  monotonic(): number {
    return this.mono;
  }

  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }

  jumpWall(ms: number): void {
    this.wall += ms;
  }
}
