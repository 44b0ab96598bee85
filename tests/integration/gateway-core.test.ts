// The gateway core against real parts: aedes on port 0, mqtt.js devices, a SQLite file,
// and a real Mosquitto upstream read by a separate subscriber (issue 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber, type Received } from '../helpers/subscriber.ts';
import { connectDevice, startTestGateway, T, type TestGateway } from '../helpers/gateway.ts';
import { validateUpstreamEvent } from '../../protocol/validate.ts';

let upstream: Mosquitto;
let platform: Subscriber;
let gw: TestGateway;

const ofType = (messages: readonly Received[], topic: string) => messages.filter((m) => m.topic === topic);
const envelope = (m: Received) => m.json as { seq: number; data: Record<string, unknown>; deviceId?: string; unit?: string };

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#');
  gw = await startTestGateway({ upstream: { url: upstream.url } });
});

afterAll(async () => {
  await gw?.stop();
  await platform?.close();
  await upstream?.destroy();
});

describe('device authentication and ACL (PROTOCOL.md §1)', () => {
  it('refuses a device with a wrong secret with CONNACK 4', async () => {
    gw.provision('lock', 'lock-auth');
    const error = await connectDevice(gw.brokerUrl, 'lock-auth', 'wrong').catch((err: { code?: number }) => err);
    expect(error).toMatchObject({ code: 4 });
    await platform.waitFor((m) => ofType(m, 'menwei/up/gw-test/security/auth_failed').length > 0);
  });

  it('refuses a clientId that differs from the username with CONNACK 2', async () => {
    const { secret } = gw.provision('lock', 'lock-cid');
    const error = await connectDevice(gw.brokerUrl, 'lock-cid', secret, { clientId: 'someone-else' }).catch((err: { code?: number }) => err);
    expect(error).toMatchObject({ code: 2 });
  });

  it('closes a device that publishes to another device\'s topic and reports it', async () => {
    const { secret } = gw.provision('lock', 'lock-a');
    gw.provision('lock', 'lock-b');
    const device = await connectDevice(gw.brokerUrl, 'lock-a', secret);
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
    device.publish('menwei/lock/lock-b/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type: 'tamper' }), { qos: 1 });
    await closed;
    await platform.waitFor((m) => ofType(m, 'menwei/up/gw-test/security/acl_denied').some((e) => envelope(e).data.deviceId === 'lock-a'));
    device.end(true);
  });

  it('refuses a subscription to menwei/# with SUBACK 0x80 and keeps the connection', async () => {
    const { secret } = gw.provision('lock', 'lock-sub');
    const device = await connectDevice(gw.brokerUrl, 'lock-sub', secret);
    const refused = await device.subscribeAsync('menwei/#', { qos: 1 }).catch((err: { packet?: { granted?: number[] } }) => err);
    expect(refused).toMatchObject({ packet: { granted: [128] } });
    const own = await device.subscribeAsync('menwei/lock/lock-sub/codes', { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    expect(device.connected).toBe(true);
    await device.endAsync();
  });
});

describe('alarms and events upstream (PROTOCOL.md §1.4, §2.1)', () => {
  it('delivers a smoke alarm to the Mosquitto upstream as alarm/smoke with a valid envelope', async () => {
    const { secret } = gw.provision('smoke', 'smoke-0301', 'HL-MY-0301');
    const detector = await connectDevice(gw.brokerUrl, 'smoke-0301', secret);
    await detector.publishAsync('menwei/smoke/smoke-0301/event', JSON.stringify({ v: 1, seq: 41, ts: T(), type: 'alarm', value: 640 }), { qos: 1 });
    const topic = 'menwei/up/gw-test/alarm/smoke';
    await platform.waitFor((m) => ofType(m, topic).length > 0);
    const [alarm] = ofType(platform.messages, topic);
    expect(validateUpstreamEvent(topic, alarm!.payload)).toMatchObject({ ok: true });
    expect(alarm!.json).toMatchObject({ class: 'alarm', type: 'smoke', unit: 'HL-MY-0301', deviceId: 'smoke-0301', data: { value: 640, deviceSeq: 41 } });
    await detector.endAsync();
  });

  it('acknowledges an invalid payload, keeps the connection and reports device/bad_message', async () => {
    const { secret } = gw.provision('smoke', 'smoke-bad');
    const detector = await connectDevice(gw.brokerUrl, 'smoke-bad', secret);
    await detector.publishAsync('menwei/smoke/smoke-bad/event', '{"v":1,"seq":"x"}', { qos: 1 });
    expect(detector.connected).toBe(true);
    await platform.waitFor((m) => ofType(m, 'menwei/up/gw-test/device/bad_message').some((e) => envelope(e).deviceId === 'smoke-bad'));
    const report = ofType(platform.messages, 'menwei/up/gw-test/device/bad_message').find((e) => envelope(e).deviceId === 'smoke-bad')!;
    expect(envelope(report).data).toMatchObject({ reason: 'INVALID', topic: 'menwei/smoke/smoke-bad/event', deviceId: 'smoke-bad' });
    await detector.endAsync();
  });

  it('drops an exact duplicate (same device, same seq, same bytes)', async () => {
    const { secret } = gw.provision('smoke', 'smoke-dup');
    const detector = await connectDevice(gw.brokerUrl, 'smoke-dup', secret);
    const payload = JSON.stringify({ v: 1, seq: 7, ts: T(), type: 'test' });
    await detector.publishAsync('menwei/smoke/smoke-dup/event', payload, { qos: 1 });
    await detector.publishAsync('menwei/smoke/smoke-dup/event', payload, { qos: 1 });
    await detector.publishAsync('menwei/smoke/smoke-dup/event', JSON.stringify({ v: 1, seq: 8, ts: T(), type: 'test' }), { qos: 1 });
    const tests = () => ofType(platform.messages, 'menwei/up/gw-test/device/test').filter((e) => envelope(e).deviceId === 'smoke-dup');
    await platform.waitFor(() => tests().length >= 2);
    expect(tests().map((e) => envelope(e).data.deviceSeq)).toEqual([7, 8]);
    expect(gw.gateway.ingest.counters.duplicates).toBeGreaterThanOrEqual(1);
    await detector.endAsync();
  });

  it('closes a connection whose packet announces more than 64 KiB + 1 KiB', async () => {
    const { secret } = gw.provision('smoke', 'smoke-big');
    const detector = await connectDevice(gw.brokerUrl, 'smoke-big', secret);
    const closed = new Promise<void>((resolve) => detector.once('close', () => resolve()));
    detector.publish('menwei/smoke/smoke-big/status', Buffer.alloc(70 * 1024, 0x20), { qos: 0 });
    await closed;
    expect(detector.connected).toBe(false);
    detector.end(true);
  });
});

describe('platform commands (PROTOCOL.md §2.2)', () => {
  it('applies a repeated commandId once and answers the repeat with the same reply', async () => {
    gw.gateway.units.add({ code: 'HL-MY-0302', address: 'test', licensed: true }, Date.now());
    const admin = await mqtt.connectAsync(upstream.url, { clientId: 'platform-cmd', protocolVersion: 4 });
    const command = JSON.stringify({ v: 1, commandId: 'cmd-suspend-1', expiresAt: new Date(Date.now() + 60_000).toISOString(), unit: 'HL-MY-0302', reason: '消防整改' });
    const applied = gw.gateway.commands.applied;
    await admin.publishAsync('menwei/down/gw-test/unit.suspend', command, { qos: 1 });
    await admin.publishAsync('menwei/down/gw-test/unit.suspend', command, { qos: 1 });
    const replies = () => ofType(platform.messages, 'menwei/up/gw-test/reply/unit.suspend');
    await platform.waitFor(() => replies().length >= 2);
    expect(gw.gateway.commands.applied - applied).toBe(1);
    expect(replies().map((r) => envelope(r).data)).toEqual([
      { commandId: 'cmd-suspend-1', status: 'ok' },
      { commandId: 'cmd-suspend-1', status: 'ok' },
    ]);
    expect(gw.gateway.units.find('HL-MY-0302')).toMatchObject({ suspended: true, suspendReason: '消防整改' });
    await admin.endAsync();
  });
});
