// An upstream broker that takes the gateway's connection and never acknowledges a
// publish (issue 9 "Upstream that never acks"; ARCHITECTURE.md "An upstream that never
// acks is simulated with a broker whose publish hook never answers"). It speaks raw
// MQTT through mqtt-packet rather than aedes: aedes stops reading a socket while a
// publish waits in its hook, which would bound what it sees whatever the gateway sent.
// Here every PUBLISH on the wire is counted, so the test holds the gateway's own window.
import { createServer, type Server, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type SilentUpstream = {
  url: string;
  port: number;
  /** PUBLISH packets received since start, over every connection. */
  publishes(): number;
  /** The most PUBLISHes seen on one connection: none of them is ever acknowledged. */
  maxOnOneConnection(): number;
  /** CONNECTs from this clientId (the platform's own test subscriber may knock too). */
  connections(clientId: string): number;
  /** Hangs up every connection and stops listening, so the port is free again. */
  close(): Promise<void>;
};

export async function startSilentUpstream(port = 0): Promise<SilentUpstream> {
  const sockets = new Set<Socket>();
  let publishes = 0;
  let maxOnOne = 0;
  const connections = new Map<string, number>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.setNoDelay(true);
    let onThis = 0;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const send = (packet: Packet) => socket.write(mqttPacket.generate(packet));
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connect') {
        connections.set(packet.clientId, (connections.get(packet.clientId) ?? 0) + 1);
        send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      } else if (packet.cmd === 'subscribe') {
        send({ cmd: 'suback', messageId: packet.messageId!, granted: packet.subscriptions.map(() => 1) });
      } else if (packet.cmd === 'pingreq') {
        send({ cmd: 'pingresp' });
      } else if (packet.cmd === 'publish') {
        publishes++;
        maxOnOne = Math.max(maxOnOne, ++onThis);
      }
    });
    parser.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    publishes: () => publishes,
    maxOnOneConnection: () => maxOnOne,
    connections: (clientId) => connections.get(clientId) ?? 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
