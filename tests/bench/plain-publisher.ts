// Baseline of the drain benchmark (issue 8 §3): a plain mqtt.js publisher sending
// `count` QoS 1 events of `bytes` bytes to the upstream with at most `window` in flight,
// as Menwei's forwarder does, but with nothing to read or mark. A child process, like
// Menwei, so it does not share an event loop with the counting subscriber:
// `tsx tests/bench/plain-publisher.ts <url> <topic> <count> <bytes> <window>`.
import mqtt from 'mqtt';

const [url, topic, count, bytes, window] = process.argv.slice(2) as [string, string, string, string, string];
const total = Number(count);
const payload = Buffer.alloc(Number(bytes), 'x');
const client = await mqtt.connectAsync(url, { clientId: `plain-publisher-${process.pid}`, clean: true, protocolVersion: 4 });
(client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);

let sent = 0;
let acked = 0;
const publishNext = () => {
  if (sent >= total) return;
  sent++;
  client.publish(topic, payload, { qos: 1 }, (err) => {
    if (err) throw err;
    if (++acked === total) void client.endAsync().then(() => process.exit(0));
    else publishNext();
  });
};
for (let i = 0; i < Number(window); i++) publishNext();
