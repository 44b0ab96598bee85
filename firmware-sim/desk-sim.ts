// A simulated face-verification terminal (PROTOCOL.md §1.5), device side, on real
// mqtt.js: it receives the card photo on menwei/desk/D/card and answers on
// menwei/desk/D/verify with a configured score and liveness, as a vendor terminal would.
import mqtt, { type MqttClient } from 'mqtt';
import { DeskCardPayload } from '../protocol/device-messages.ts';

export type DeskSimOptions = {
  brokerUrl: string;
  id: string;
  secret: string;
  /** The score and liveness of the next faces; change them between guests. */
  score?: number;
  liveness?: boolean;
  algo?: string;
  /** Milliseconds between receiving the card and answering. */
  delayMs?: number;
};

export class DeskSim {
  score: number;
  liveness: boolean;
  readonly cards: Array<{ readId: string; name: string }> = [];
  private client: MqttClient | null = null;

  constructor(private readonly opts: DeskSimOptions) {
    this.score = opts.score ?? 0.93;
    this.liveness = opts.liveness ?? true;
  }

  async start(): Promise<void> {
    const { brokerUrl, id, secret } = this.opts;
    const will = { topic: `menwei/desk/${id}/status`, payload: Buffer.from('{"v":1,"online":false}'), qos: 1 as const, retain: true };
    this.client = await mqtt.connectAsync(brokerUrl, { clientId: id, username: id, password: secret, protocolVersion: 4, will });
    this.client.on('message', (_topic, payload) => this.onCard(payload));
    await this.client.subscribeAsync(`menwei/desk/${id}/card`, { qos: 1 });
    await this.client.publishAsync(`menwei/desk/${id}/status`, JSON.stringify({ v: 1, online: true, ts: new Date().toISOString() }), { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }

  /** Sends a verify for any readId, as a misbehaving or replaying terminal could. */
  verify(readId: string, score = this.score, liveness = this.liveness): Promise<unknown> {
    const payload = { v: 1, readId, score, liveness, algo: this.opts.algo ?? 'sim/1.0', ts: new Date().toISOString() };
    return this.client!.publishAsync(`menwei/desk/${this.opts.id}/verify`, JSON.stringify(payload), { qos: 1 });
  }

  private onCard(payload: Buffer): void {
    const parsed = DeskCardPayload.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success) return;
    this.cards.push({ readId: parsed.data.readId, name: parsed.data.name });
    setTimeout(() => void this.verify(parsed.data.readId).catch(() => undefined), this.opts.delayMs ?? 0);
  }
}
