// Baseline (b) of the benchmarks: bare aedes, no auth, no persistence, with an mqtt.js
// bridge that relays device events upstream at QoS 1 — what one would run instead of
// Menwei. Run as a child process: `tsx tests/bench/aedes-bridge.ts <upstreamUrl>`;
// prints {"port": N} on stdout when ready.
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';

const upstreamUrl = process.argv[2]!;
const broker = await Aedes.createBroker({ maxClientsIdLength: 64 });
const server = createServer((socket) => {
  socket.setNoDelay(true);
  broker.handle(socket);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;

const upstream = await mqtt.connectAsync(upstreamUrl, { clientId: 'bench-bridge', clean: false, protocolVersion: 4 });
const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'bench-bridge-in', clean: true, protocolVersion: 4 });
local.on('message', (topic, payload) => {
  upstream.publish(`bridge/${topic}`, payload, { qos: 1 });
});
await local.subscribeAsync('menwei/#', { qos: 1 });
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => process.exit(0));
