// A platform-side test subscriber: QoS 1 with a persistent session, subscribed before the
// gateway drains (ARCHITECTURE.md "Mosquitto as the test upstream"), so nothing the
// broker accepted can slip past it, even across a broker restart.
import mqtt, { type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';

export type Received = { topic: string; payload: Buffer; json: unknown };

export type Subscriber = {
  client: MqttClient;
  /** Every message in arrival order, duplicates included. */
  messages: Received[];
  /** Resolves once `predicate(messages)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: readonly Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

function parse(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startSubscriber(url: string, filter: string, opts: { clientId?: string; clean?: boolean } = {}): Promise<Subscriber> {
  const client = mqtt.connect(url, {
    clientId: opts.clientId ?? `test-sub-${randomUUID().slice(0, 8)}`,
    clean: opts.clean ?? false,
    protocolVersion: 4,
    reconnectPeriod: 100,
  });
  const messages: Received[] = [];
  client.on('message', (topic, payload) => {
    messages.push({ topic, payload, json: parse(payload) });
  });
  client.on('error', () => undefined); // reconnects on its own; a test fails by timing out
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(filter, { qos: 1 });
  // MQTT.js does not resubscribe a clean:false v3.1.1 session; a broker that lost the
  // session (sessionPresent false) needs the subscription again.
  client.on('connect', (connack) => {
    if (!connack.sessionPresent) client.subscribe(filter, { qos: 1 });
  });

  // Polled, not run per message: predicates that scan every message would make a
  // 10,000-message wait quadratic.
  const waitFor = (predicate: (m: readonly Received[]) => boolean, timeoutMs = 5_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      let checkedAt = -1;
      const poll = setInterval(() => {
        if (messages.length !== checkedAt) {
          checkedAt = messages.length;
          if (predicate(messages)) {
            clearInterval(poll);
            return resolve();
          }
        }
        if (Date.now() - started > timeoutMs) {
          clearInterval(poll);
          reject(new Error(`subscriber: condition not met within ${timeoutMs} ms (${messages.length} messages)`));
        }
      }, 20);
    });

  return { client, messages, waitFor, close: () => client.endAsync() };
}
