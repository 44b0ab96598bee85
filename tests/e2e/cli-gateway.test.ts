// `menwei start`, provisioning and `outbox status` as a process, the way an installer
// runs them (INTERFACES.md).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;

function menwei(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.destroy();
  gw = undefined;
});

describe('menwei start', () => {
  it('reports every config problem with its path and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'menwei-cfg-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ broker: { port: 'x' }, policy: { faceThreshold: 0.3 }, readers: [{ id: 'r1', transport: 'carrier-pigeon' }] }));
    const result = menwei(['start', '--config', file], { MENWEI_DATA_KEY: 'a'.repeat(64) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('broker.port');
    expect(result.stderr).toContain('policy.faceThreshold');
    expect(result.stderr).toContain('readers.0.transport');
  });

  it('refuses to run without MENWEI_DATA_KEY (exit 2)', () => {
    const result = menwei(['start'], { MENWEI_DATA_KEY: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MENWEI_DATA_KEY');
  });

  it('stops cleanly on SIGTERM', async () => {
    gw = await gatewayProcess();
    await gw.start();
    expect(await gw.stop()).toBe(0);
    const [status] = (await gw.cli(['outbox', 'status'])) as Array<{ classes: Record<string, { pending: number }> }>;
    // gateway/started was committed before the stop and waits for an upstream.
    expect(status!.classes.gateway!.pending).toBe(1);
  });
});

describe('provisioning against a running gateway', () => {
  it('adds a lock with a code key and a unit that lists it, and prints outbox status', async () => {
    gw = await gatewayProcess();
    await gw.start();
    const [lock] = (await gw.cli(['device', 'add', '--kind', 'lock', '--id', 'lock-0301'])) as Array<Record<string, string>>;
    expect(lock).toMatchObject({ id: 'lock-0301', kind: 'lock', secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), codeKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const [unit] = await gw.cli(['unit', 'add', '--code', 'HL-MY-0301', '--address', '海淀区某路1号', '--lock', 'lock-0301']);
    expect(unit).toEqual({ code: 'HL-MY-0301', locks: ['lock-0301'], smoke: [] });
    const [status] = await gw.cli(['outbox', 'status']);
    expect(status).toMatchObject({ classes: { alarm: { pending: 0, oldestAgeS: 0 } }, delivered: 0, dropped: { budget: 0 } });
    const again = menwei(['device', 'add', '--kind', 'lock', '--id', 'lock-0301', '--config', gw.configPath], gw.env);
    expect(again.code).toBe(1);
  });
});
