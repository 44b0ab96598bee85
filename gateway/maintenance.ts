// Periodic upkeep on monotonic timers (ARCHITECTURE.md invariant 6): heartbeat
// timeouts, flood summaries, drop reports, clock-jump detection, purges and automatic
// resumption of suspended units.
import type { Clock } from './clock.ts';

/** A wall-clock jump of more than 2 minutes is reported (invariant 6). */
export const CLOCK_JUMP_MS = 120_000;

export class ClockJumpDetector {
  private lastWall: number;
  private lastMono: number;

  constructor(private readonly clock: Clock) {
    this.lastWall = clock.now();
    this.lastMono = clock.monotonic();
  }

  /** Returns the jump in ms when the wall clock moved unlike the monotonic one, else null. */
  check(): number | null {
    const wall = this.clock.now();
    const mono = this.clock.monotonic();
    const delta = wall - (this.lastWall + (mono - this.lastMono));
    this.lastWall = wall;
    this.lastMono = mono;
    return Math.abs(delta) > CLOCK_JUMP_MS ? Math.round(delta) : null;
  }
}

/** Runs `task` every `periodMs` without overlapping itself; errors are reported, not thrown. */
export function every(periodMs: number, task: () => void | Promise<void>, onError: (err: unknown) => void): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    Promise.resolve().then(task).catch(onError).finally(() => { running = false; });
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}
