// A TCP relay between the gateway's forwarder and the upstream broker that reads the MQTT
// packets going through and records every event the broker PUBACKed. Invariant 3 ends
// the gateway's duty at that PUBACK (ARCHITECTURE.md): an event the broker acknowledged
// and then lost in a SIGKILL is the broker's loss. The tap tells the two apart, which the
// platform subscriber alone cannot. When either side closes, both do, as a dead broker
// looks to the gateway; while the broker is down, connections are accepted and dropped.
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export type Tapped = { topic: string; envelope: { eventId: string } & Record<string, unknown> };

export type PubackTap = {
  url: string;
  /** Every event the broker PUBACKed, by eventId. */
  acked: Map<string, Tapped>;
  close(): Promise<void>;
};

export async function startPubackTap(brokerPort: number): Promise<PubackTap> {
  const acked = new Map<string, Tapped>();
  const sockets = new Set<Socket>();
  const server = createServer((gateway) => {
    const broker = createConnection({ host: '127.0.0.1', port: brokerPort });
    sockets.add(gateway).add(broker);
    // Packet id → event, per connection: ids are reused once acknowledged.
    const published = new Map<number, Tapped>();
    const fromGateway = mqttPacket.parser({ protocolVersion: 4 });
    fromGateway.on('packet', (p) => {
      if (p.cmd === 'publish' && p.messageId !== undefined) {
        published.set(p.messageId, { topic: p.topic, envelope: JSON.parse(p.payload.toString()) as Tapped['envelope'] });
      }
    });
    const fromBroker = mqttPacket.parser({ protocolVersion: 4 });
    fromBroker.on('packet', (p) => {
      const event = p.cmd === 'puback' && p.messageId !== undefined ? published.get(p.messageId) : undefined;
      if (event) acked.set(event.envelope.eventId, event);
    });
    gateway.on('data', (d: Buffer) => {
      fromGateway.parse(d);
      broker.write(d);
    });
    broker.on('data', (d: Buffer) => {
      fromBroker.parse(d);
      gateway.write(d);
    });
    const end = () => {
      for (const s of [gateway, broker]) {
        s.destroy();
        sockets.delete(s);
      }
    };
    for (const s of [gateway, broker]) s.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    acked,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
