// Vitest global setup (issue 9): every gateway of the run logs at debug level into one
// file (MENWEI_LOG_FILE, inherited by child processes), and the run fails if any line
// holds a plain ID number, name, address, device secret, token or code digits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_FILE_NAME, SCAN_DIR_VAR, scanLogDir } from '../helpers/log-scan.ts';

const SHOWN = 40;

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-log-scan-'));
  process.env[SCAN_DIR_VAR] = dir;
  process.env.MENWEI_LOG_FILE = join(dir, LOG_FILE_NAME);
  process.env.MENWEI_LOG_LEVEL = 'debug';
  return () => {
    const { lines, findings } = scanLogDir(dir);
    if (findings.length === 0) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    // Vitest reports a teardown error but exits 0 for it, so the exit code is set here.
    // The directory stays, so the offending lines can be read in full.
    process.exitCode = 1;
    throw new Error(`personal data or secrets in ${findings.length} of ${lines} log lines of this run (${dir}):\n${findings.slice(0, SHOWN).join('\n')}`);
  };
}
