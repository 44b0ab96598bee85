// The upstream connection over TLS (PROTOCOL.md §2: "TLS with an optional client
// certificate"; issue 9), against a real Mosquitto with three TLS listeners: server
// authentication only, a required client certificate, and a certificate from the right
// CA for the wrong host. A connection that fails verification delivers nothing, /healthz
// says the upstream is down, and the outbox keeps every event for later.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, T, type TestGateway } from '../helpers/gateway.ts';
import { testPki, type TestPki } from '../helpers/test-pki.ts';

/** Enough for several connection attempts with the forwarder's backoff (~0.3 s, ~0.7 s, ~1.5 s). */
const REFUSED_FOR_MS = 3_000;

let pki: TestPki;
let upstream: Mosquitto;
let platform: Subscriber;
const port = { serverAuth: 0, clientCert: 0, wrongName: 0 };
let gw: TestGateway | undefined;

beforeAll(async () => {
  pki = await testPki();
  [port.serverAuth, port.clientCert, port.wrongName] = [await freePort(), await freePort(), await freePort()];
  const listener = (p: number, cert: { cert: string; key: string }, extra: string[] = []) =>
    [`listener ${p} 127.0.0.1`, `cafile ${pki.ca}`, `certfile ${cert.cert}`, `keyfile ${cert.key}`, ...extra];
  upstream = await startMosquitto({
    extraConfig: [
      ...listener(port.serverAuth, pki.server),
      ...listener(port.clientCert, pki.server, ['require_certificate true']),
      ...listener(port.wrongName, pki.wrongNameServer),
    ],
  });
  // The platform reads on the plain listener, so what arrives does not depend on TLS.
  platform = await startSubscriber(upstream.url, 'menwei/up/#');
}, 60_000);

afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

afterAll(async () => {
  await platform?.close();
  await upstream?.destroy();
});

async function gatewayWith(gatewayId: string, tls: { port: number; ca: string; cert?: string; key?: string }): Promise<TestGateway> {
  const { port: p, ...files } = tls;
  gw = await startTestGateway({ gatewayId, upstream: { url: `mqtts://127.0.0.1:${p}`, ...files } });
  return gw;
}

/** A smoke alarm from a real detector session, acknowledged after commit. */
async function alarm(g: TestGateway): Promise<void> {
  const { secret } = g.provision('smoke', 'smoke-tls', 'U-TLS');
  const detector = await g.connectDevice('smoke-tls', secret);
  await detector.publishAsync('menwei/smoke/smoke-tls/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type: 'alarm', value: 700 }), { qos: 1 });
  await detector.endAsync();
}

const health = async (g: TestGateway) => (await (await fetch(`http://127.0.0.1:${g.ports.http}/healthz`)).json()) as { upstream: string; outboxPending: number };
const arrived = (gatewayId: string, classType: string) => platform.messages.filter((m) => m.topic === `menwei/up/${gatewayId}/${classType}`);

async function expectDelivered(g: TestGateway, gatewayId: string): Promise<void> {
  await alarm(g);
  await platform.waitFor(() => arrived(gatewayId, 'alarm/smoke').length > 0);
  expect(arrived(gatewayId, 'gateway/started')).toHaveLength(1);
  expect((await health(g)).upstream).toBe('connected');
}

/** Nothing arrives, health says down, and the alarm waits in the outbox. */
async function expectRefused(g: TestGateway, gatewayId: string): Promise<void> {
  await alarm(g);
  await new Promise((resolve) => setTimeout(resolve, REFUSED_FOR_MS));
  expect(platform.messages.filter((m) => m.topic.startsWith(`menwei/up/${gatewayId}/`))).toEqual([]);
  const h = await health(g);
  expect(h.upstream).toBe('down');
  expect(g.gateway.outbox.status().classes.alarm.pending).toBe(1);
  expect(h.outboxPending).toBeGreaterThanOrEqual(2); // the alarm and gateway/started, at least
}

describe('upstream over TLS (PROTOCOL.md §2)', () => {
  it('delivers to a broker whose certificate the configured CA signed', async () => {
    await expectDelivered(await gatewayWith('gw-tls-server', { port: port.serverAuth, ca: pki.ca }), 'gw-tls-server');
  });

  it('delivers with its client certificate where the broker requires one', async () => {
    await expectDelivered(await gatewayWith('gw-tls-client', { port: port.clientCert, ca: pki.ca, ...pki.client }), 'gw-tls-client');
  });

  it('is refused without a client certificate where the broker requires one, and keeps the events', async () => {
    await expectRefused(await gatewayWith('gw-tls-nocert', { port: port.clientCert, ca: pki.ca }), 'gw-tls-nocert');
  });

  it('refuses a broker whose certificate another CA signed, and keeps the events', async () => {
    await expectRefused(await gatewayWith('gw-tls-wrongca', { port: port.serverAuth, ca: pki.otherCa }), 'gw-tls-wrongca');
  });

  it('refuses a certificate from the right CA made out to another host', async () => {
    await expectRefused(await gatewayWith('gw-tls-wrongname', { port: port.wrongName, ca: pki.ca }), 'gw-tls-wrongname');
  });
});
