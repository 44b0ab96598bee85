// MQTT smoke detectors and device health (PROTOCOL.md §1.1, §1.4, §2.1) against real
// parts: an in-process gateway with the smoke feature, mqtt.js detectors, and a real
// Mosquitto upstream read by a separate subscriber.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber, type Received } from '../helpers/subscriber.ts';
import { startTestGateway, T, type TestGateway } from '../helpers/gateway.ts';
import { SmokeFeature } from '../../gateway/smoke/smoke-feature.ts';
import { FakeClock } from '../../gateway/clock.ts';
import type { BusEvents } from '../../gateway/event-bus.ts';
import { validateDeviceMessage, validateUpstreamEvent } from '../../protocol/validate.ts';

type Envelope = { class: string; type: string; unit?: string; deviceId?: string; deviceTs?: string; data: Record<string, unknown> };

const DAY_MS = 86_400_000;

let upstream: Mosquitto;
let platform: Subscriber;

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/#');
});

afterAll(async () => {
  await platform?.close();
  await upstream?.destroy();
});

const fromDevice = (messages: readonly Received[], deviceId: string) =>
  messages.filter((m) => (m.json as Envelope).deviceId === deviceId);
const ofDevice = (deviceId: string, path: string) =>
  fromDevice(platform.messages, deviceId).filter((m) => m.topic.endsWith(`/${path}`)).map((m) => m.json as Envelope);

/** A provisioned detector, connected, with a publish that numbers its events. */
async function detector(gw: TestGateway, id: string, unit: string) {
  const { secret } = gw.provision('smoke', id, unit);
  const client = await gw.connectDevice(id, secret);
  let seq = 0;
  const event = (type: string, extra: Record<string, unknown> = {}) =>
    client.publishAsync(`menwei/smoke/${id}/event`, JSON.stringify({ v: 1, seq: ++seq, ts: T(), type, ...extra }), { qos: 1 });
  return { client, event };
}

describe('MQTT smoke detectors (PROTOCOL.md §1.4)', () => {
  let gw: TestGateway;
  let smoke: SmokeFeature;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    smoke = new SmokeFeature({ occupants: (unit) => (unit === 'U-0301' ? 3 : 0) });
    gw = await startTestGateway({ gatewayId: 'gw-smoke', upstream: { url: upstream.url } }, { features: [smoke] });
  });

  afterAll(async () => {
    for (const client of clients) await client.endAsync();
    await gw?.stop();
  });

  it('gives every event type its upstream event, and counts a repeated alarm instead of re-sending it', async () => {
    const d = await detector(gw, 'smoke-0301', 'U-0301');
    clients.push(d.client);
    const sentAt = T();
    await d.event('alarm', { value: 640, ts: sentAt });
    await d.event('alarm', { value: 700 });
    await d.event('alarm', { value: 720 });
    for (const type of ['clear', 'silenced', 'test', 'tamper', 'battery_low', 'battery_defect', 'fault', 'eol']) await d.event(type);
    for (const what of ['tamper', 'battery', 'fault']) await d.event('restored', { what });
    await platform.waitFor((m) => fromDevice(m, 'smoke-0301').filter((x) => x.topic.includes('/device/restored')).length === 3);

    expect(ofDevice('smoke-0301', 'alarm/smoke')).toEqual([
      expect.objectContaining({ unit: 'U-0301', deviceId: 'smoke-0301', deviceTs: sentAt, data: { value: 640, occupants: 3, deviceSeq: 1 } }),
    ]);
    expect(smoke.repeatedAlarms()).toBe(2);
    expect(ofDevice('smoke-0301', 'alarm/smoke_clear').map((e) => e.data)).toEqual([{ repeats: 2, deviceSeq: 4 }]);
    const single = (path: string) => ofDevice('smoke-0301', path).map((e) => e.data);
    expect(single('alarm/silenced')).toEqual([{ deviceSeq: 5 }]);
    expect(single('device/test')).toEqual([{ deviceSeq: 6 }]);
    expect(single('security/tamper')).toEqual([{ deviceSeq: 7 }]);
    expect(single('device/battery_low')).toEqual([{ deviceSeq: 8 }]);
    expect(single('device/fault')).toEqual([{ what: 'battery', deviceSeq: 9 }, { what: 'sensor', deviceSeq: 10 }]);
    expect(single('device/end_of_life')).toEqual([{ deviceSeq: 11 }]);
    expect(single('device/restored').map((d) => d.what)).toEqual(['tamper', 'battery', 'fault']);
    expect(smoke.alarms().filter((a) => a.deviceId === 'smoke-0301')).toHaveLength(1);
    expect(smoke.deviceHealth('smoke-0301')).toEqual({
      fault: null, tamper: false, batteryLow: false, batteryDefect: false, endOfLife: true, offlineSince: null, unsafe: [],
    });
    for (const m of fromDevice(platform.messages, 'smoke-0301')) expect(validateUpstreamEvent(m.topic, m.payload)).toMatchObject({ ok: true });
  });

  it('marks alarm, clear, silenced and tamper urgent, so they commit ahead of ordinary traffic (invariant 4)', () => {
    const urgent = (type: string) => {
      const checked = validateDeviceMessage('menwei/smoke/smoke-u/event', JSON.stringify({ v: 1, seq: 1, ts: T(), type, ...(type === 'restored' ? { what: 'tamper' } : {}) }));
      if (!checked.ok) throw new Error(checked.error.reason);
      return gw.gateway.ingest.isUrgent(checked.value);
    };
    expect(['alarm', 'clear', 'silenced', 'tamper'].map(urgent)).toEqual([true, true, true, true]);
    expect(['test', 'battery_low', 'fault', 'restored'].map(urgent)).toEqual([false, false, false, false]);
  });

  it('pushes an alarm to the console stream by the time the detector has its PUBACK, and tracks it to acknowledged and cleared', async () => {
    const seen: Array<BusEvents['alarm']> = [];
    const off = gw.gateway.bus.on('alarm', (e) => seen.push(e));
    const d = await detector(gw, 'smoke-0302', 'U-0302');
    clients.push(d.client);
    await d.event('alarm', { value: 300 });
    expect(seen).toEqual([expect.objectContaining({ deviceId: 'smoke-0302', unit: 'U-0302', state: 'open', occupants: 0 })]);
    const alarmId = seen[0]!.alarmId;
    expect(smoke.alarms()[0]).toMatchObject({ alarmId, deviceId: 'smoke-0302', value: 300, state: 'open', clearedAt: null });

    expect(await smoke.acknowledge(alarmId, 'staff-7')).toBe(true);
    expect(await smoke.acknowledge('a_unknown', 'staff-7')).toBe(false);
    await d.event('clear');
    off();
    expect(seen.map((e) => e.state)).toEqual(['open', 'acknowledged', 'cleared']);
    expect(smoke.alarms().find((a) => a.alarmId === alarmId)).toMatchObject({ state: 'cleared', acknowledgedBy: 'staff-7', clearedAt: expect.any(String) });
    await platform.waitFor(() => ofDevice('smoke-0302', 'audit/alarm_acknowledged').length === 1);
    expect(ofDevice('smoke-0302', 'audit/alarm_acknowledged')[0]!.data).toEqual({ alarmId, staffId: 'staff-7' });
  });

  it('shows a unit unsafe while a detector has a fault or is off its base, until each is restored', async () => {
    const d = await detector(gw, 'smoke-0303', 'U-0303');
    clients.push(d.client);
    await d.event('fault', { batteryPct: 64 });
    expect(smoke.unsafeUnits().get('U-0303')).toEqual([{ deviceId: 'smoke-0303', reason: 'fault' }]);
    expect(smoke.deviceHealth('smoke-0303')).toMatchObject({ fault: 'sensor', unsafe: ['fault'] });
    await d.event('tamper');
    expect(smoke.unitUnsafe('U-0303')).toEqual(['fault:smoke-0303', 'tamper:smoke-0303']);
    await d.event('restored', { what: 'fault' });
    expect(smoke.unsafeUnits().get('U-0303')?.map((r) => r.reason)).toEqual(['tamper']);
    await d.event('restored', { what: 'tamper' });
    expect(smoke.unsafeUnits().has('U-0303')).toBe(false);
    expect(smoke.devices().find((x) => x.id === 'smoke-0303')).toMatchObject({
      kind: 'smoke', unit: 'U-0303', online: true, batteryPct: 64, lastSeenAt: expect.any(String),
      health: { fault: null, tamper: false, offlineSince: null, unsafe: [] },
    });
  });
});

describe('heartbeats and offline detectors (PROTOCOL.md §1.1, issue 4)', () => {
  let gw: TestGateway;
  let smoke: SmokeFeature;
  let d: Awaited<ReturnType<typeof detector>>;
  const clock = new FakeClock();

  beforeAll(async () => {
    smoke = new SmokeFeature();
    gw = await startTestGateway({ gatewayId: 'gw-heartbeat', upstream: { url: upstream.url } }, { clock, features: [smoke] });
    d = await detector(gw, 'smoke-0401', 'U-0401');
  });

  afterAll(async () => {
    await d?.client.endAsync();
    await gw?.stop();
  });

  const presence = () => ofDevice('smoke-0401', 'device/online').length + ofDevice('smoke-0401', 'device/offline').length;

  it('takes a silent detector offline after 2 missed 300 s intervals, and online at its next message', async () => {
    await d.client.publishAsync('menwei/smoke/smoke-0401/status', JSON.stringify({ v: 1, online: true, batteryPct: 90 }), { qos: 1, retain: true });
    clock.advance(600_000);
    await gw.gateway.upkeepTick();
    expect(gw.gateway.presence.list().find((x) => x.id === 'smoke-0401')?.online).toBe(true);
    clock.advance(1_000);
    await gw.gateway.upkeepTick();
    await platform.waitFor(() => presence() === 2);
    expect(ofDevice('smoke-0401', 'device/offline').map((e) => e.data)).toEqual([{ reason: 'heartbeat' }]);
    await d.event('test');
    await platform.waitFor(() => presence() === 3);
    expect(fromDevice(platform.messages, 'smoke-0401').map((m) => m.topic.split('/').slice(-2).join('/')))
      .toEqual(['device/online', 'device/offline', 'device/online', 'device/test']);
  });

  it('shows the unit unsafe once its detector has been offline for more than a day, on the monotonic clock', async () => {
    clock.advance(601_000);
    await gw.gateway.upkeepTick();
    expect(smoke.deviceHealth('smoke-0401')?.offlineSince).toEqual(new Date(clock.now()).toISOString());
    clock.jumpWall(2 * DAY_MS);
    expect(smoke.unsafeUnits().has('U-0401')).toBe(false);
    clock.advance(DAY_MS);
    expect(smoke.unsafeUnits().has('U-0401')).toBe(false);
    clock.advance(1);
    expect(smoke.unsafeUnits().get('U-0401')).toEqual([{ deviceId: 'smoke-0401', reason: 'offline' }]);
    await d.event('test');
    expect(smoke.unsafeUnits().has('U-0401')).toBe(false);
    expect(smoke.deviceHealth('smoke-0401')).toMatchObject({ offlineSince: null, unsafe: [] });
  });
});
