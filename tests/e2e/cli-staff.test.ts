// `menwei staff add|revoke` and `menwei unit qr` as processes, the way an installer runs
// them (INTERFACES.md CLI).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'menwei-staff-'));
const config = join(dir, 'menwei.json');
writeFileSync(config, JSON.stringify({ gatewayId: 'gw-test', dataDir: dir }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function menwei(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--config', config], { encoding: 'utf8', env: { ...process.env, MENWEI_DATA_KEY: '', ...env }, timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('menwei staff', () => {
  it('add prints id, token and password once; a second add of an active id exits 1', () => {
    const added = menwei(['staff', 'add', '--id', 'desk-zhang', '--name', '张伟']);
    expect(added.code).toBe(0);
    expect(added.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(added.stdout)).toEqual({
      id: 'desk-zhang',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      password: expect.stringMatching(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/),
    });
    const again = menwei(['staff', 'add', '--id', 'desk-zhang', '--name', '张伟']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
  });

  it('a badge needs MENWEI_DATA_KEY (exit 2)', () => {
    expect(menwei(['staff', 'add', '--id', 'desk-li', '--name', 'Li', '--badge', '0012345678']).code).toBe(2);
    const withKey = menwei(['staff', 'add', '--id', 'desk-li', '--name', 'Li', '--badge', '0012345678'], { MENWEI_DATA_KEY: 'a'.repeat(64) });
    expect(withKey.code).toBe(0);
  });

  it('revoke answers revoked:true, then add issues fresh credentials; an unknown id exits 1', () => {
    menwei(['staff', 'add', '--id', 'desk-wang', '--name', 'Wang']);
    const revoked = menwei(['staff', 'revoke', '--id', 'desk-wang']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ id: 'desk-wang', revoked: true });
    expect(menwei(['staff', 'add', '--id', 'desk-wang', '--name', 'Wang']).code).toBe(0);
    const unknown = menwei(['staff', 'revoke', '--id', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({ id: 'nobody', revoked: false });
  });
});

describe('menwei unit qr', () => {
  it('prints the door plate as SVG with the code readable under the QR; an unknown unit exits 1', () => {
    expect(menwei(['unit', 'add', '--code', 'HL-MY-0301', '--address', '海淀区某路1号']).code).toBe(0);
    const plate = menwei(['unit', 'qr', 'HL-MY-0301']);
    expect(plate.code).toBe(0);
    expect(plate.stdout.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(plate.stdout.trimEnd().endsWith('</svg>')).toBe(true);
    expect(plate.stdout).toMatch(/<text [^>]*>HL-MY-0301<\/text>/);
    expect(plate.stdout).toContain('<path');
    const unknown = menwei(['unit', 'qr', 'HL-NONE']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
  });
});
