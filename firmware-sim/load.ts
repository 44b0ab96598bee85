// A load generator of simulated smoke detectors: each is a real mqtt.js device session
// publishing QoS 1 events at a given rate. It records which events the broker
// acknowledged, which is what the crash and outage tests hold the gateway to.
import mqtt, { type MqttClient } from 'mqtt';

/** A simulated device of the load: a smoke detector unless `kind` says lock. */
export type LoadDevice = { id: string; secret: string; kind?: 'smoke' | 'lock' };

export type LoadOptions = {
  brokerUrl: string;
  devices: readonly LoadDevice[];
  /** Events per second over all devices; 0 means as fast as the window allows. */
  ratePerSec?: number;
  /** Stop after this many events in all. */
  total?: number;
  /** Unacknowledged publishes per device. */
  window?: number;
  /** The smoke event type to send (PROTOCOL.md §1.4); `test` maps to device/test. */
  type?: 'test' | 'alarm' | 'tamper';
  reconnectMs?: number;
  /** Extra bytes in each payload (an ignored `pad` field), to size events like real ones. */
  padBytes?: number;
};

export class LoadGenerator {
  /** `deviceId:seq` of every event whose PUBACK arrived. */
  readonly acked = new Set<string>();
  sent = 0;
  private clients: MqttClient[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly seqs = new Map<string, number>();
  private readonly inflight = new Map<string, number>();

  private readonly byId: Map<string, LoadDevice>;

  constructor(private readonly opts: LoadOptions) {
    this.byId = new Map(opts.devices.map((d) => [d.id, d]));
  }

  start(): void {
    this.clients = this.opts.devices.map((d) => this.connect(d));
    const rate = this.opts.ratePerSec ?? 0;
    const tickMs = 10;
    const perTick = rate > 0 ? Math.max(1, Math.round((rate * tickMs) / 1000)) : Number.POSITIVE_INFINITY;
    this.timer = setInterval(() => this.tick(perTick), tickMs);
  }

  /** Resolves when `total` events were sent and acknowledged, or after `timeoutMs`. */
  async finished(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (this.opts.total !== undefined && this.acked.size >= this.opts.total) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`load: ${this.acked.size} of ${this.opts.total} acknowledged after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.clients.map((c) => c.endAsync(true)));
  }

  private connect(device: LoadDevice): MqttClient {
    const client = mqtt.connect(this.opts.brokerUrl, {
      clientId: device.id, username: device.id, password: device.secret, protocolVersion: 4,
      reconnectPeriod: this.opts.reconnectMs ?? 200, connectTimeout: 2_000, clean: true,
    });
    client.on('error', () => undefined);
    // A publish cut by a disconnect was never acknowledged; it is simply not counted.
    client.on('close', () => this.inflight.set(device.id, 0));
    return client;
  }

  private tick(budget: number): void {
    let left = budget;
    for (const [i, client] of this.clients.entries()) {
      const device = this.opts.devices[i]!;
      while (left > 0 && this.canSend(device.id, client)) {
        this.publish(device.id, client);
        left--;
      }
    }
  }

  private canSend(id: string, client: MqttClient): boolean {
    if (this.stopped || !client.connected) return false;
    if (this.opts.total !== undefined && this.sent >= this.opts.total) return false;
    return (this.inflight.get(id) ?? 0) < (this.opts.window ?? 16);
  }

  private publish(id: string, client: MqttClient): void {
    const seq = (this.seqs.get(id) ?? 0) + 1;
    this.seqs.set(id, seq);
    this.sent++;
    this.inflight.set(id, (this.inflight.get(id) ?? 0) + 1);
    const pad = this.opts.padBytes ? { pad: 'x'.repeat(this.opts.padBytes) } : {};
    const device = this.byId.get(id)!;
    // A lock's load is its door opening and closing (§1.2); a detector's, its event type.
    const body = device.kind === 'lock' ? { type: 'door', open: seq % 2 === 1 } : { type: this.opts.type ?? 'test' };
    const payload = JSON.stringify({ v: 1, seq, ts: new Date().toISOString(), ...body, ...pad });
    client.publish(`menwei/${device.kind ?? 'smoke'}/${id}/event`, payload, { qos: 1 }, (err) => {
      this.inflight.set(id, Math.max(0, (this.inflight.get(id) ?? 1) - 1));
      if (!err) this.acked.add(`${id}:${seq}`);
    });
  }
}
