import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../gateway/store/db.ts';
import { MIGRATIONS } from '../../../gateway/store/migrations.ts';

describe('schema migrations', () => {
  it('lets several processes open a fresh file at once, each waiting its turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'menwei-migrate-'));
    const file = join(dir, 'menwei.db');
    const script = join(dir, 'open.mjs');
    writeFileSync(script, `import { openDatabase } from ${JSON.stringify(new URL('../../../gateway/store/db.ts', import.meta.url).pathname)};\nopenDatabase(process.argv[2]).close();\n`);
    const codes = await Promise.all(Array.from({ length: 6 }, () => new Promise<number | null>((resolve) => {
      fork(script, [file], { execArgv: ['--import', 'tsx'], stdio: 'ignore' }).once('exit', resolve);
    })));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });
});
