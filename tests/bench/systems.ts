// The systems the benchmarks compare, each in its own process and fed the same load:
// (a) Menwei (`menwei start`), (b) bare aedes with an mqtt.js bridge.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { openDatabase } from '../../gateway/store/db.ts';
import { DeviceRegistry } from '../../gateway/store/devices.ts';
import type { LoadDevice } from '../../firmware-sim/load.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

export type SystemUnderTest = {
  name: string;
  brokerUrl: string;
  devices: LoadDevice[];
  /** The upstream topic filter its events arrive on. */
  upstreamFilter: string;
  /** The upstream topic a detector's smoke alarms arrive on. */
  alarmFilter(detectorId: string): string;
  pid: () => number | undefined;
  /** Menwei only: its event-loop delay p50 / p99 in ms since the last call (`/metrics`). */
  loopDelay?(): Promise<{ p50: number; p99: number }>;
  stop(): Promise<void>;
  /** SIGKILL, like a power cut, then start again on the same data dir and port. */
  crash?(): Promise<void>;
};

export async function startMenwei(upstreamUrl: string, deviceCount: number, nodeArgs: string[] = []): Promise<SystemUnderTest> {
  const gw = await gatewayProcess({ upstream: { url: upstreamUrl } }, { nodeArgs });
  const db = openDatabase(join(gw.dataDir, 'menwei.db'));
  const registry = new DeviceRegistry(db);
  const devices = Array.from({ length: deviceCount }, (_, i) => {
    const { id, secret } = registry.add({ id: `smoke-${i}`, kind: 'smoke', unit: `U-${i}` }, null, Date.now());
    return { id, secret };
  });
  db.close();
  await gw.start();
  return { name: 'menwei', brokerUrl: gw.brokerUrl, devices, upstreamFilter: 'menwei/up/#', alarmFilter: () => 'menwei/up/+/alarm/smoke', pid: () => gw.pid(), loopDelay: () => loopDelay(gw.httpUrl), stop: async () => {
    await gw.stop();
    await gw.destroy();
  }, crash: async () => {
    await gw.kill();
    await gw.start();
  } };
}

async function loopDelay(httpUrl: string): Promise<{ p50: number; p99: number }> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const ms = (q: string) => 1000 * Number(new RegExp(`^menwei_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  return { p50: ms('0.5'), p99: ms('0.99') };
}

export async function startBareAedes(upstreamUrl: string, deviceCount: number): Promise<SystemUnderTest> {
  const script = new URL('./aedes-bridge.ts', import.meta.url).pathname;
  // tsx as a loader in this very process (not its CLI, which forks a second node that
  // a kill would orphan).
  const child = spawn(process.execPath, ['--import', 'tsx', script, upstreamUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`aedes bridge exited ${code}`)));
  });
  const { port } = JSON.parse(line) as { port: number };
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ id: `smoke-${i}`, secret: 'none' }));
  return {
    name: 'bare aedes + bridge',
    brokerUrl: `mqtt://127.0.0.1:${port}`,
    devices,
    upstreamFilter: 'bridge/#',
    alarmFilter: (id: string) => `bridge/menwei/smoke/${id}/event`,
    pid: () => child.pid,
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/**
 * Baseline (c): Mosquitto with a bridge to the same upstream and `persistence true`, the
 * setup an integrator would trust without Menwei. Devices publish to it anonymously.
 * `bridgeConfig` lines are added to the bridge's `connection` section.
 */
export async function startMosquittoBridge(upstreamUrl: string, deviceCount: number, bridgeConfig: string[] = []): Promise<SystemUnderTest> {
  const upstreamPort = new URL(upstreamUrl).port;
  const broker = await startMosquitto({
    extraConfig: [
      'connection upstream',
      `address 127.0.0.1:${upstreamPort}`,
      'topic menwei/# out 1 "" bridge/',
      'cleansession false',
      'bridge_protocol_version mqttv311',
      ...bridgeConfig,
    ],
  });
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ id: `smoke-${i}`, secret: 'none' }));
  return {
    name: 'mosquitto + bridge',
    brokerUrl: broker.url,
    devices,
    upstreamFilter: 'bridge/#',
    alarmFilter: (id: string) => `bridge/menwei/smoke/${id}/event`,
    pid: () => undefined,
    stop: () => broker.destroy(),
    crash: async () => {
      await broker.kill();
      await broker.restart();
    },
  };
}
