// The shape every benchmark reports in, so `run.ts` prints one table (issue 8): the
// absolute figures of Menwei, of its baselines measured in the same run, the ratios, and
// the goal with whether it was met.
export type BenchRow = {
  benchmark: string;
  menwei: string;
  baselines: string;
  ratios: string;
  goal: string;
};

export type BenchOptions = {
  quick: boolean;
  /** Measured runs after the warm-up; the row shows their median. */
  runs: number;
};

export type Benchmark = {
  /** Short name for `npm run bench -- --only <name>`. */
  name: string;
  run(opts: BenchOptions): Promise<BenchRow[]>;
};

export const goalText = (goal: string, met: boolean) => `${goal}: ${met ? 'met' : '**missed**'}`;
