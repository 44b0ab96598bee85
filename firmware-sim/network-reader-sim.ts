// A simulated network ID card reader (PROTOCOL.md §1.6): it reads the card itself and
// publishes the whole SAM read response, base64, on menwei/reader/D/read. The demo uses
// it when socat is missing, in place of the serial reader on a pty.
import mqtt, { type MqttClient } from 'mqtt';
import { encodeReadResponse, type CardFields } from '../protocol/sam/index.ts';
import { deviceTopic } from '../protocol/topics.ts';
import { isoTime } from '../protocol/time.ts';
import { photoFor } from './sam-reader-sim.ts';

export type NetworkReaderSimOptions = { brokerUrl: string; id: string; secret: string };

export class NetworkReaderSim {
  private client: MqttClient | null = null;

  constructor(readonly options: NetworkReaderSimOptions) {}

  async start(): Promise<void> {
    const { brokerUrl, id, secret } = this.options;
    const status = deviceTopic('reader', id, 'status');
    this.client = await mqtt.connectAsync(brokerUrl, {
      clientId: id, username: id, password: secret, protocolVersion: 4, reconnectPeriod: 1_000,
      will: { topic: status, payload: Buffer.from('{"v":1,"online":false}'), qos: 1, retain: true },
    });
    this.client.on('error', () => undefined);
    await this.client.publishAsync(status, JSON.stringify({ v: 1, online: true, ts: isoTime(Date.now()) }), { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }

  /** A card put on the reader: one read, as the reader's own polling would report it. */
  async insertCard(fields: CardFields, photo: Buffer = photoFor(fields.idNumber)): Promise<void> {
    if (!this.client) throw new Error(`reader ${this.options.id} is not started`);
    const frame = encodeReadResponse(fields, photo).toString('base64');
    const payload = JSON.stringify({ v: 1, ts: isoTime(Date.now()), frame });
    await this.client.publishAsync(deviceTopic('reader', this.options.id, 'read'), payload, { qos: 1 });
  }
}
