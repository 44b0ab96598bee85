// `menwei sim load` against a running gateway, as a technician would load-test a
// building: devices provisioned with the CLI, their printed lines fed back in.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';

const BIN = new URL('../../bin/menwei.mjs', import.meta.url).pathname;

let gw: GatewayProcess | undefined;
afterEach(async () => {
  await gw?.destroy();
  gw = undefined;
});

describe('menwei sim load', () => {
  it('runs locks and detectors against a gateway and reports what was acknowledged', async () => {
    gw = await gatewayProcess();
    await gw.start();
    const devices = [
      ...(await gw.cli(['device', 'add', '--kind', 'smoke', '--id', 'smoke-load-1'])),
      ...(await gw.cli(['device', 'add', '--kind', 'lock', '--id', 'lock-load-1'])),
    ];
    const file = join(gw.dataDir, 'devices.jsonl');
    writeFileSync(file, devices.map((d) => JSON.stringify(d)).join('\n'));
    const result = spawnSync(process.execPath, [BIN, 'sim', 'load', '--broker', gw.brokerUrl, '--devices', file, '--rate', '200', '--seconds', '2'], { encoding: 'utf8', timeout: 30_000 });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout.trim()) as { devices: number; sent: number; acknowledged: number };
    expect(report.devices).toBe(2);
    expect(report.acknowledged).toBeGreaterThan(100);
    const [status] = (await gw.cli(['outbox', 'status'])) as Array<{ classes: Record<string, { pending: number }> }>;
    expect(status!.classes.device!.pending).toBeGreaterThan(50);
  }, 60_000);
});
