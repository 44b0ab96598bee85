// A simulated MQTT smoke detector, device side of PROTOCOL.md §1.4, on a real mqtt.js
// session: a retained status with a last will, and QoS 1 events with its own seq. Each
// event resolves with the monotonic time just before it was published, so a caller can
// measure how long an alarm takes to reach the platform.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { deviceTopic } from '../protocol/topics.ts';
import { isoTime } from '../protocol/time.ts';

export type SmokeEventType = 'alarm' | 'clear' | 'silenced' | 'test' | 'tamper' | 'battery_low' | 'battery_defect' | 'fault' | 'restored' | 'eol';

export type SmokeSimOptions = {
  brokerUrl: string;
  id: string;
  secret: string;
  /** Default 300 s, the smoke heartbeat of PROTOCOL.md §1.1. */
  heartbeatS?: number;
  batteryPct?: number;
};

const UINT32 = 2 ** 32;

export class SmokeSim {
  private client: MqttClient | null = null;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly options: SmokeSimOptions) {}

  async start(): Promise<void> {
    const { brokerUrl, id, secret } = this.options;
    const status = deviceTopic('smoke', id, 'status');
    this.client = await mqtt.connectAsync(brokerUrl, {
      clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 1_000,
      will: { topic: status, payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    this.client.on('error', () => undefined);
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat().catch(() => undefined), (this.options.heartbeatS ?? 300) * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.endAsync();
    this.client = null;
  }

  /** A §1.4 event; resolves, once the broker acknowledged it, with performance.now() at publish. */
  async event(type: SmokeEventType, fields: Record<string, unknown> = {}): Promise<number> {
    if (!this.client) throw new Error(`smoke detector ${this.options.id} is not started`);
    this.seq = (this.seq % (UINT32 - 1)) + 1;
    const payload = JSON.stringify({ v: 1, seq: this.seq, ts: isoTime(Date.now()), type, ...fields });
    const publishedAt = performance.now();
    await this.client.publishAsync(deviceTopic('smoke', this.options.id, 'event'), payload, { qos: 1 });
    return publishedAt;
  }

  alarm(value = 450): Promise<number> {
    return this.event('alarm', { value });
  }

  clear(): Promise<number> {
    return this.event('clear', { value: 0 });
  }

  test(): Promise<number> {
    return this.event('test');
  }

  private async heartbeat(): Promise<void> {
    const status = { v: 1, online: true, ts: isoTime(Date.now()), fw: 'sim-1.0.0', batteryPct: this.options.batteryPct ?? 100 };
    await this.client?.publishAsync(deviceTopic('smoke', this.options.id, 'status'), JSON.stringify(status), { qos: 1, retain: true });
  }
}
