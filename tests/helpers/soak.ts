// Fault and fuzz tests run at two sizes (issue 9): the quick size in every `npm test`
// (and so in CI), and the full size with `npm run soak`, which sets MENWEI_SOAK=1.
export const soaking = process.env.MENWEI_SOAK === '1';

/** The quick figure normally, the full one under `npm run soak`. */
export const bySize = <T>(quick: T, full: T): T => (soaking ? full : quick);

/** A test timeout that grows with the size: full-size runs take many minutes. */
export const sizedTimeout = (quickMs: number): number => (soaking ? 60 * 60_000 : quickMs);
