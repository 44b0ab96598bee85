// The live feed of `menwei demo`: one line per happening, in Chinese and English, with the
// local time, on stdout. The gateway's own logs go to stderr, so `menwei demo 2>/dev/null`
// leaves only what a person watching the demo wants to read.

/** A line in both languages: the staff at a Chinese front desk and an integrator abroad read the same feed. */
export type Line = { zh: string; en: string };

export type FeedOptions = {
  out?: { write(text: string): unknown };
  now?: () => number;
};

export class Feed {
  private readonly out: { write(text: string): unknown };
  private readonly now: () => number;
  private held: Array<[number, string]> | undefined;

  constructor(opts: FeedOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Until the next step line, platform lines wait (with their own arrival times), so
   * what the platform received prints under the step that caused it, not above it.
   */
  hold(): void {
    this.held ??= [];
  }

  /** A scenario step's outcome: `[3] zh / en`, marked ✗ when it failed and – when it was skipped. */
  step(n: number, line: Line, status: 'ok' | 'failed' | 'skipped' = 'ok'): void {
    const mark = { ok: '', failed: '✗ ', skipped: '– ' }[status];
    this.write(`${mark}[${n}] ${line.zh} / ${line.en}`);
    const held = this.held ?? [];
    this.held = undefined;
    for (const [at, text] of held) this.write(text, at);
  }

  /** Setup and teardown notes: what was started, where, and how. */
  note(line: Line): void {
    this.write(`${line.zh} / ${line.en}`);
  }

  /** What the platform received, indented under the step that caused it. */
  platform(line: Line): void {
    const text = `    ⇠ 平台 ${line.zh} / platform: ${line.en}`;
    if (this.held) this.held.push([this.now(), text]);
    else this.write(text);
  }

  /** A bare line, for URLs and tokens a person copies. */
  plain(text: string): void {
    this.write(text);
  }

  private write(text: string, at = this.now()): void {
    this.out.write(`${clockTime(at)} ${text}\n`);
  }
}

/** HH:MM:SS.mmm in the local time zone of the machine running the demo. */
export function clockTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
