// Builds a real gateway in this process: aedes on port 0, a temp SQLite file, and an
// upstream when given (STYLE.md §4: no singletons, so tests build as many as they like).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../gateway/config/load.ts';
import { Gateway, type GatewayDeps, type GatewayPorts } from '../../gateway/main.ts';
import { createLogger } from '../../gateway/logger.ts';
import type { DeviceKind } from '../../protocol/topics.ts';
import { recordSecrets, testLogLevel } from './log-scan.ts';

export type TestGateway = {
  gateway: Gateway;
  ports: GatewayPorts;
  dataDir: string;
  brokerUrl: string;
  provision(kind: DeviceKind, id: string, unit?: string): { id: string; secret: string; codeKey?: string };
  connectDevice(id: string, secret: string, opts?: mqtt.IClientOptions): Promise<MqttClient>;
  stop(): Promise<void>;
};

export async function startTestGateway(overrides: Record<string, unknown> = {}, deps: Omit<GatewayDeps, 'dataKey' | 'logger'> = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'menwei-gw-'));
  const config = parseConfig({ gatewayId: 'gw-test', dataDir, broker: { port: 0 }, console: { port: 0 }, ...overrides });
  const dataKey = randomBytes(32);
  const logger = createLogger({ level: process.env.MENWEI_TEST_LOG ?? testLogLevel('silent') });
  const gateway = new Gateway(config, { dataKey, logger, ...deps });
  const ports = await gateway.start();
  const brokerUrl = `mqtt://127.0.0.1:${ports.broker}`;
  return {
    gateway,
    ports,
    dataDir,
    brokerUrl,
    provision: (kind, id, unit) => recordSecrets(gateway.registry.add({ id, kind, unit }, dataKey, Date.now())),
    connectDevice: (id, secret, opts = {}) => connectDevice(brokerUrl, id, secret, opts),
    stop: async () => {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A device's MQTT session as PROTOCOL.md §1 asks: clientId = username = device id. */
export async function connectDevice(url: string, id: string, secret: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 0, ...opts });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export const T = () => new Date().toISOString();
