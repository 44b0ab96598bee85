// A fleet of idle devices for the connections benchmark (issue 8 §5): each one is a real
// mqtt.js session that does what lock-sim does on connect (PROTOCOL.md §1, §1.3): clean
// session, a retained offline will, and a QoS 1 subscription to its own codes topic.
// Then it stays silent. The same fleet connects to every system under test.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../../protocol/topics.ts';

export type FleetDevice = { id: string; secret: string };

/** Connections opened at once: enough to be quick, few enough not to overrun the listen backlog. */
const BATCH = 200;
/** lock-sim's heartbeat interval (PROTOCOL.md §1.1), used as the MQTT keepalive of every client. */
const KEEPALIVE_S = 60;

export class IdleFleet {
  private readonly clients: MqttClient[] = [];

  constructor(private readonly brokerUrl: string) {}

  get size(): number {
    return this.clients.length;
  }

  /** Connects the devices `BATCH` at a time; each is connected and subscribed when this resolves. */
  async connect(devices: readonly FleetDevice[]): Promise<void> {
    for (let at = 0; at < devices.length; at += BATCH) {
      const batch = devices.slice(at, at + BATCH);
      this.clients.push(...(await Promise.all(batch.map((d) => this.connectOne(d)))));
    }
  }

  async close(): Promise<void> {
    const all = this.clients.splice(0);
    for (let at = 0; at < all.length; at += BATCH) {
      await Promise.all(all.slice(at, at + BATCH).map((c) => c.endAsync(true)));
    }
  }

  private async connectOne(device: FleetDevice): Promise<MqttClient> {
    const client = await mqtt.connectAsync(this.brokerUrl, {
      clientId: device.id, username: device.id, password: device.secret, protocolVersion: 4,
      clean: true, keepalive: KEEPALIVE_S, reconnectPeriod: 0, connectTimeout: 60_000,
      will: { topic: deviceTopic('lock', device.id, 'status'), payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    const [granted] = await client.subscribeAsync(deviceTopic('lock', device.id, 'codes'), { qos: 1 });
    // A broker that refuses the subscription (128) would make the fleet cheaper than a real one.
    if (granted?.qos !== 1) throw new Error(`${device.id}: codes subscription refused (${granted?.qos})`);
    return client;
  }
}

/** Lock ids and secrets of the shape `device add` makes, for a broker that checks none. */
export function anonymousFleet(count: number): FleetDevice[] {
  return Array.from({ length: count }, (_, i) => ({ id: fleetId(i), secret: randomBytes(32).toString('base64url') }));
}

export const fleetId = (i: number) => `lock-${i}`;

/** Resident memory of a process (VmRSS of /proc/<pid>/status), in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
