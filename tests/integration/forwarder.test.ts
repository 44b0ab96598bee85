// The upstream forwarder against a real Mosquitto and a real QoS 1 subscriber, and
// against an aedes upstream that withholds PUBACKs (PROTOCOL.md §2, invariants 3–4).
import { createServer, type Server } from 'node:net';
import { Aedes, type PublishPacket } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, systemClock } from '../../gateway/clock.ts';
import { Forwarder, type ForwarderOptions } from '../../gateway/forwarder/forwarder.ts';
import type { NewEvent } from '../../gateway/outbox/outbox.ts';
import { commandTopic } from '../../protocol/topics.ts';
import { MemoryOutbox } from '../helpers/memory-outbox.ts';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Received, type Subscriber } from '../helpers/subscriber.ts';

const GW = 'gw-test-0001';
const UP = `menwei/up/${GW}/#`;
const logger = pino({ level: process.env.MENWEI_TEST_LOG ?? 'silent' });

const device = (n: number): NewEvent => ({ class: 'device', type: 'online', deviceId: `lock-${n}`, data: { n } });
const occupancy = (n: number): NewEvent => ({ class: 'occupancy', type: 'entry', data: { method: 'code', n } });
const alarm = (n: number): NewEvent => ({ class: 'alarm', type: 'smoke', deviceId: 'smoke-0301', data: { occupants: 1, deviceSeq: n } });
const repeat = (count: number, make: (n: number) => NewEvent): NewEvent[] => Array.from({ length: count }, (_, n) => make(n));

type Envelope = { eventId: string; seq: number; class: string };
const envelope = (m: Received): Envelope => m.json as Envelope;
const uniqueIds = (messages: readonly Received[]): Set<string> => new Set(messages.map((m) => envelope(m).eventId));

async function waitUntil(condition: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type PacketLog = Array<{ dir: 'in' | 'out'; cmd: string }>;

/** A forwarder whose MQTT.js clients and packets the test can inspect; stopped after the test. */
function forwarder(url: string, outbox: MemoryOutbox, opts: Partial<ForwarderOptions> = {}) {
  const clients: MqttClient[] = [];
  const packets: PacketLog = [];
  const fwd = new Forwarder({
    outbox,
    url,
    clientId: GW,
    clock: systemClock,
    logger,
    backoff: { baseMs: 50, maxMs: 400 },
    ...opts,
    connect: (u, o) => {
      const client = mqtt.connect(u, o);
      client.on('packetsend', (p) => packets.push({ dir: 'out', cmd: p.cmd }));
      client.on('packetreceive', (p) => packets.push({ dir: 'in', cmd: p.cmd }));
      clients.push(client);
      return client;
    },
  });
  cleanups.push(() => fwd.stop());
  fwd.start();
  return { fwd, clients, packets };
}

async function mosquitto(): Promise<Mosquitto> {
  const broker = await startMosquitto();
  cleanups.push(() => broker.destroy());
  return broker;
}

async function subscriber(url: string, clientId = 'platform-1'): Promise<Subscriber> {
  const sub = await startSubscriber(url, UP, { clientId });
  cleanups.push(() => sub.close());
  return sub;
}

/** An aedes upstream whose publish hook gets every packet and decides when (if ever) to PUBACK. */
async function aedesUpstream(onPublish: (packet: PublishPacket, ack: () => void) => void): Promise<string> {
  const broker = new Aedes({ authorizePublish: (_client, packet, done) => onPublish(packet, () => done(null)) });
  await broker.listen();
  const server: Server = createServer((socket) => broker.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.close();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  return `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('Forwarder', () => {
  it('publishes nothing while the upstream is down, and delivers the backlog once it is up', async () => {
    // The platform subscribes first (persistent session), then the upstream goes away.
    const broker = await mosquitto();
    const sub = await subscriber(broker.url);
    await broker.stop();

    const outbox = new MemoryOutbox(GW);
    const take = vi.spyOn(outbox, 'take');
    const { fwd, clients } = forwarder(broker.url, outbox);
    outbox.append(repeat(10, device));
    fwd.wake();
    await sleep(300);
    expect(fwd.state()).toBe('down');
    expect(take).not.toHaveBeenCalled();
    expect(outbox.pendingCount()).toBe(10);
    expect(clients.length).toBeGreaterThan(1); // it kept retrying

    await broker.restart();
    await sub.waitFor((m) => uniqueIds(m).size === 10);
    await waitUntil(() => outbox.pendingCount() === 0, 2_000, 'all marked delivered');

    // Down again mid-run: committed events wait in the outbox, not in an MQTT.js queue.
    await broker.stop();
    outbox.append(repeat(5, device));
    fwd.wake();
    await sleep(200);
    expect(fwd.state()).toBe('down');
    expect(outbox.pendingCount()).toBe(5);
    for (const client of clients) expect(client.queue).toHaveLength(0);

    await broker.restart();
    await sub.waitFor((m) => uniqueIds(m).size === 15);
    await waitUntil(() => outbox.pendingCount() === 0, 2_000, 'all marked delivered');
    expect(fwd.metrics().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('marks an event delivered only when its own PUBACK arrives', async () => {
    const held = new Map<number, () => void>();
    const url = await aedesUpstream((packet, ack) => held.set(JSON.parse(packet.payload.toString()).seq, ack));
    const outbox = new MemoryOutbox(GW);
    const marked: number[] = [];
    const markDelivered = outbox.markDelivered.bind(outbox);
    vi.spyOn(outbox, 'markDelivered').mockImplementation((seqs) => {
      marked.push(...seqs);
      markDelivered(seqs);
    });
    const { fwd } = forwarder(url, outbox);
    outbox.append(repeat(5, device));
    fwd.wake();

    await waitUntil(() => held.size === 5, 2_000, 'five publishes at the upstream');
    await sleep(100);
    expect(marked).toEqual([]);

    held.get(2)!();
    held.get(4)!();
    await waitUntil(() => marked.length === 2, 2_000, 'two marked');
    await sleep(50);
    expect(marked.sort((a, b) => a - b)).toEqual([2, 4]);
    expect(outbox.status().classes.device.pending).toBe(3);

    for (const seq of [1, 3, 5]) held.get(seq)!();
    await waitUntil(() => outbox.pendingCount() === 0, 2_000, 'all marked');
    expect(fwd.metrics().delivered).toBe(5);
  });

  it('never has more than window + urgentReserve in flight, and reports stalled without PUBACKs', async () => {
    const seen: Array<{ seq: number; class: string }> = [];
    const url = await aedesUpstream((packet) => seen.push(JSON.parse(packet.payload.toString())));
    const clock = new FakeClock();
    const outbox = new MemoryOutbox(GW, clock);
    const { fwd, packets } = forwarder(url, outbox, { clock, window: 16, urgentReserve: 4, stallMs: 30_000, drainMs: 100 });
    const published = (): number => packets.filter((p) => p.dir === 'out' && p.cmd === 'publish').length;

    outbox.append(repeat(100, device));
    fwd.wake();
    await waitUntil(() => fwd.metrics().inFlight === 16, 2_000, 'a full window');
    // Backlog cannot use the reserve; alarms can, past a full window.
    outbox.append(repeat(10, alarm));
    fwd.wake();
    await waitUntil(() => published() === 20, 2_000, 'the reserve in use');
    fwd.wake();
    await sleep(200);
    expect(fwd.metrics().inFlight).toBe(20);
    expect(published()).toBe(20);
    // aedes reads no further while a read's packets wait in authorizePublish.
    expect(seen.length).toBeLessThanOrEqual(20);
    expect(outbox.take(100, 1)).toHaveLength(6); // the other alarms were never taken: no slot

    expect(fwd.state()).toBe('connected');
    clock.advance(29_999);
    expect(fwd.state()).toBe('connected');
    clock.advance(1);
    expect(fwd.state()).toBe('stalled');
    expect(fwd.metrics().lastAckMono).toBeNull();
  });

  it('delivers an alarm appended behind a 5,000-event backlog before the backlog finishes', async () => {
    const broker = await mosquitto();
    const sub = await subscriber(broker.url);
    const outbox = new MemoryOutbox(GW);
    outbox.append(repeat(5_000, device));
    const { fwd } = forwarder(broker.url, outbox);

    await sub.waitFor((m) => m.length >= 200, 5_000);
    const [raised] = outbox.append([alarm(1)]);
    fwd.wake();
    const receivedAtRaise = sub.messages.length;

    await sub.waitFor((m) => m.length >= 5_001 && uniqueIds(m).size === 5_001, 9_000);
    const alarmAt = sub.messages.findIndex((m) => envelope(m).eventId === raised!.eventId);
    const lastDeviceAt = sub.messages.findLastIndex((m) => envelope(m).class === 'device');
    expect(receivedAtRaise).toBeLessThan(4_000);
    expect(alarmAt).toBeLessThan(lastDeviceAt);
    // Only the window already in flight, and what the broker has already passed on, get
    // ahead of it: not the other ~4,700 of the backlog.
    expect(alarmAt - receivedAtRaise).toBeLessThan(200);
  });

  it('loses nothing and keeps per-class order when Mosquitto goes down mid-stream and comes back', async () => {
    const broker = await mosquitto();
    const sub = await subscriber(broker.url);
    const outbox = new MemoryOutbox(GW);
    for (let n = 0; n < 1_500; n++) outbox.append(n % 30 === 0 ? [alarm(n), occupancy(n), device(n)] : [device(n)]);
    const total = outbox.pendingCount();
    const { fwd, packets } = forwarder(broker.url, outbox);

    await sub.waitFor((m) => m.length >= 300, 5_000);
    // Stopped, not SIGKILLed: a SIGKILL loses what Mosquitto acknowledged since its last
    // save, which is Mosquitto's loss, not the forwarder's (tests/faults/uplink-flaps.test.ts
    // counts those apart with a PUBACK relay).
    await broker.stop();
    expect(outbox.pendingCount()).toBeGreaterThan(0); // killed mid-stream
    await sleep(150);
    expect(fwd.state()).toBe('down');
    await broker.restart();

    await sub.waitFor((m) => m.length >= total && uniqueIds(m).size === total, 9_000);
    await waitUntil(() => outbox.pendingCount() === 0, 2_000, 'all marked delivered');
    const firstSeen = new Map<string, Envelope>();
    for (const m of sub.messages) if (!firstSeen.has(envelope(m).eventId)) firstSeen.set(envelope(m).eventId, envelope(m));
    for (const eventClass of ['alarm', 'occupancy', 'device']) {
      const seqs = [...firstSeen.values()].filter((e) => e.class === eventClass).map((e) => e.seq);
      expect(seqs, `${eventClass} in seq order`).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(fwd.metrics().reconnects).toBeGreaterThanOrEqual(1);
    // What was in flight at the crash went out again after the rewind.
    expect(packets.filter((p) => p.dir === 'out' && p.cmd === 'publish').length).toBeGreaterThan(total);
  });

  it('acknowledges a command only after onCommand resolves, and not at all when it fails', async () => {
    const broker = await mosquitto();
    const platform = await mqtt.connectAsync(broker.url, { clientId: 'platform-cmd', protocolVersion: 4 });
    cleanups.push(() => platform.endAsync());
    const calls: Array<{ topic: string; payload: string; settle: (err?: Error) => void }> = [];
    const onCommand = (topic: string, payload: Buffer): Promise<void> =>
      new Promise((resolve, reject) => calls.push({ topic, payload: payload.toString(), settle: (err) => (err ? reject(err) : resolve()) }));
    const { fwd, clients, packets } = forwarder(broker.url, new MemoryOutbox(GW), { onCommand });
    const pubacks = (): number => packets.filter((p) => p.dir === 'out' && p.cmd === 'puback').length;
    await waitUntil(() => packets.some((p) => p.cmd === 'suback'), 2_000, 'the command subscription');

    const topic = commandTopic(GW, 'unit.suspend');
    await platform.publishAsync(topic, JSON.stringify({ v: 1, commandId: 'cmd-1' }), { qos: 1 });
    await waitUntil(() => calls.length === 1, 2_000, 'onCommand');
    expect(calls[0]!.topic).toBe(topic);
    expect(JSON.parse(calls[0]!.payload)).toMatchObject({ commandId: 'cmd-1' });
    await sleep(150);
    expect(pubacks()).toBe(0);

    // A failed commit: no PUBACK, the session is dropped, and Mosquitto redelivers.
    calls[0]!.settle(new Error('disk full'));
    await waitUntil(() => calls.length === 2, 3_000, 'the redelivery');
    expect(clients.length).toBeGreaterThan(1);
    expect(calls[1]!.payload).toBe(calls[0]!.payload);
    await sleep(100);
    expect(pubacks()).toBe(0);

    calls[1]!.settle();
    await waitUntil(() => pubacks() === 1, 2_000, 'the PUBACK');
    expect(fwd.state()).toBe('connected');
  });
});
