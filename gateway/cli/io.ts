// CLI conventions (INTERFACES.md): machine-readable output is one JSON object per line
// on stdout; human messages go to stderr; exit 0 success, 1 a "no" answer, 2 usage or
// config error.
import { MenweiError } from '../../protocol/errors.ts';

export const EXIT = { ok: 0, no: 1, usage: 2 } as const;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function say(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs a command body; a MenweiError of config or usage becomes exit 2 with its message. */
export async function run(body: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await body();
    if (typeof code === 'number') process.exitCode = code;
  } catch (err) {
    if (err instanceof MenweiError && (err.code === 'MW_CONFIG_INVALID' || err.code === 'MW_USAGE')) {
      say(`menwei: ${err.code}: ${err.message}`);
      process.exitCode = EXIT.usage;
      return;
    }
    if (err instanceof MenweiError) {
      say(`menwei: ${err.code}: ${err.message}`);
      process.exitCode = EXIT.no;
      return;
    }
    throw err;
  }
}
