// A small tmpfs as a gateway's data dir, and ballast that fills it: the real "disk
// full" of issue 9. Mounting needs root, which the test machine and CI runners have.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Tmpfs = {
  dir: string;
  /** Writes a ballast file until the filesystem refuses (ENOSPC); returns its bytes. */
  fill(): number;
  /** Deletes the ballast: space is back. */
  free(): void;
  unmount(): void;
};

export function mountTmpfs(sizeMb: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'menwei-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  const ballast = join(dir, 'ballast');
  return {
    dir,
    fill: () => {
      const fd = openSync(ballast, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x55);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free: () => rmSync(ballast, { force: true }),
    unmount: () => {
      execFileSync('umount', ['-l', dir]);
      rmdirSync(dir);
    },
  };
}
