// The CLI as integrators script it (INTERFACES.md): JSON lines on stdout, exit 0/1/2.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;
const fixture = (name: string) => new URL(`../fixtures/sam/${name}.hex`, import.meta.url).pathname;

async function menwei(args: string[], input?: Buffer): Promise<{ code: number; lines: Record<string, unknown>[]; stderr: string }> {
  const child = exec(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  if (input) child.child.stdin!.end(input);
  try {
    const { stdout, stderr } = await child;
    return { code: 0, lines: stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, lines: e.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)), stderr: e.stderr };
  }
}

describe('menwei id check', () => {
  it('prints the parsed number and exits 0', async () => {
    const result = await menwei(['id', 'check', '11010519491231002x']);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([{ ok: true, id: '11010519491231002X', birth: '1949-12-31', gender: 'female', region: '110105', kind: 'resident' }]);
  });

  it('answers no with the reason and exits 1', async () => {
    const result = await menwei(['id', 'check', '360426199101010072']);
    expect(result).toMatchObject({ code: 1, lines: [{ ok: false, reason: 'CHECKSUM' }] });
  });

  it('exits 2 on a usage error', async () => {
    expect((await menwei(['id', 'check'])).code).toBe(2);
  });
});

describe('menwei sam decode', () => {
  it('decodes a hex capture file into the card JSON', async () => {
    const result = await menwei(['sam', 'decode', fixture('read-longterm')]);
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([{
      ok: true,
      dir: 'response',
      sw3: '90',
      card: expect.objectContaining({ name: '李建国', idNumber: '321202196005200316', gender: 'male', validTo: null, docType: 'resident' }),
    }]);
  });

  it('reads raw binary on stdin, reports a bad frame with its offset and goes on', async () => {
    const hex = ['resp-find-ok', 'read-bad-checksum', 'cmd-read'].map((f) => readFileSync(fixture(f), 'utf8')).join(' ');
    const result = await menwei(['sam', 'decode'], Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      { ok: true, dir: 'response', sw3: '9F' },
      { ok: false, error: 'MW_SAM_BAD_CHECKSUM', offset: 15 },
      { ok: true, dir: 'command', cmd: '30', para: '01' },
    ]);
    expect(result.stderr).toContain('MW_SAM_BAD_CHECKSUM');
  });

  it('reports a frame cut off at the end of the input', async () => {
    const bytes = Buffer.from(readFileSync(fixture('read-resident'), 'utf8').replace(/\s+/g, ''), 'hex');
    const result = await menwei(['sam', 'decode'], bytes.subarray(0, 600));
    expect(result).toMatchObject({ code: 1, lines: [{ ok: false, error: 'MW_SAM_TRUNCATED', offset: 0 }] });
  });

  it('never prints a plain ID number on stderr', async () => {
    const result = await menwei(['sam', 'decode', fixture('read-resident')]);
    expect(result.stderr).not.toContain('11010519491231002X');
    expect(result.stderr).toContain('110105********002X');
  });
});
