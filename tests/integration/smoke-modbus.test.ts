// Wired smoke detectors (PROTOCOL.md §5) through the whole gateway: simulated slaves on
// one end of a real socat pty pair, the gateway's Modbus master on the other, and a real
// Mosquitto upstream. Bit edges must come out as the §1.4 upstream events.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { SmokeFeature } from '../../gateway/smoke/smoke-feature.ts';
import { ModbusSmokeSlaves } from '../../firmware-sim/modbus-smoke-sim.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { validateUpstreamEvent } from '../../protocol/validate.ts';

type Envelope = { unit?: string; deviceId?: string; deviceTs?: string; data: Record<string, unknown> };

let upstream: Mosquitto;
let platform: Subscriber;
let pty: PtyPair;
let sim: ModbusSmokeSlaves;
let gw: TestGateway;
let smoke: SmokeFeature;

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-modbus/#');
  pty = await openPtyPair();
  sim = new ModbusSmokeSlaves({ path: pty.b, addresses: [1, 2] });
  await sim.start();
  smoke = new SmokeFeature({ occupants: (unit) => (unit === 'U-1' ? 2 : 0) });
  const modbus = [{
    path: pty.a,
    baudRate: 9600,
    pollMs: 200,
    timeoutMs: 100,
    detectors: [{ address: 1, deviceId: 'smoke-m1', unit: 'U-1' }, { address: 2, deviceId: 'smoke-m2', unit: 'U-2' }],
  }];
  gw = await startTestGateway({ gatewayId: 'gw-modbus', upstream: { url: upstream.url }, modbus }, { features: [smoke] });
});

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
  await pty?.close();
  await platform?.close();
  await upstream?.destroy();
});

const events = (deviceId: string, path: string) =>
  platform.messages.filter((m) => m.topic.endsWith(`/${path}`) && (m.json as Envelope).deviceId === deviceId).map((m) => m.json as Envelope);
const arrived = (deviceId: string, path: string, count = 1) => platform.waitFor(() => events(deviceId, path).length >= count);

async function crcErrors(): Promise<number> {
  const { values } = await gw.gateway.metrics.serialErrors.get();
  return values.find((v) => v.labels.source === 'modbus' && v.labels.code === 'MW_MODBUS_CRC')?.value ?? 0;
}

describe('Modbus smoke detectors through the gateway (PROTOCOL.md §5)', () => {
  it('lists the configured detectors without `device add`, and brings them online at their first good reply', async () => {
    await arrived('smoke-m1', 'device/online');
    await arrived('smoke-m2', 'device/online');
    expect(smoke.devices().filter((d) => d.id.startsWith('smoke-m')).map((d) => [d.id, d.unit, d.online])).toEqual([
      ['smoke-m1', 'U-1', true],
      ['smoke-m2', 'U-2', true],
    ]);
  });

  it('sends alarm/smoke when the alarm bit rises and alarm/smoke_clear when it falls', async () => {
    const transact = vi.spyOn(gw.gateway, 'transact');
    sim.setState(1, { alarm: true, density: 420 });
    await arrived('smoke-m1', 'alarm/smoke');
    // The edge commits in the urgent lane, like an MQTT detector's alarm (invariant 4).
    expect(transact.mock.calls.some(([, options]) => options?.urgent === true && options.source === 'smoke-m1')).toBe(true);
    transact.mockRestore();
    const [alarm] = events('smoke-m1', 'alarm/smoke');
    expect(alarm).toMatchObject({ unit: 'U-1', deviceId: 'smoke-m1', deviceTs: expect.any(String), data: { value: 420, occupants: 2, deviceSeq: 1 } });
    expect(smoke.alarms()[0]).toMatchObject({ deviceId: 'smoke-m1', unit: 'U-1', value: 420, occupants: 2, clearedAt: null });
    sim.setState(1, { alarm: false, density: 0 });
    await arrived('smoke-m1', 'alarm/smoke_clear');
    expect(events('smoke-m1', 'alarm/smoke_clear')[0]?.data).toEqual({ repeats: 0, deviceSeq: 2 });
    for (const m of platform.messages) expect(validateUpstreamEvent(m.topic, m.payload)).toMatchObject({ ok: true });
  });

  it('makes the unit unsafe on a fault or tamper bit, and safe again when the bit falls (restored)', async () => {
    sim.setState(1, { fault: true });
    sim.setState(2, { tamper: true });
    await arrived('smoke-m1', 'device/fault');
    await arrived('smoke-m2', 'security/tamper');
    expect(events('smoke-m1', 'device/fault')[0]?.data).toMatchObject({ what: 'sensor' });
    expect(smoke.unsafeUnits().get('U-1')).toEqual([{ deviceId: 'smoke-m1', reason: 'fault' }]);
    expect(smoke.unsafeUnits().get('U-2')).toEqual([{ deviceId: 'smoke-m2', reason: 'tamper' }]);
    sim.setState(1, { fault: false });
    sim.setState(2, { tamper: false });
    await arrived('smoke-m1', 'device/restored');
    await arrived('smoke-m2', 'device/restored');
    expect(events('smoke-m1', 'device/restored')[0]?.data).toMatchObject({ what: 'fault' });
    expect(events('smoke-m2', 'device/restored')[0]?.data).toMatchObject({ what: 'tamper' });
    expect(smoke.unsafeUnits().has('U-1')).toBe(false);
    expect(smoke.unsafeUnits().has('U-2')).toBe(false);
  });

  it('counts a corrupted CRC in the metrics while the other detector keeps reporting', async () => {
    sim.corruptNextCrc(1);
    sim.setState(2, { test: true });
    await arrived('smoke-m2', 'device/test');
    await expect.poll(crcErrors, { timeout: 4_000, interval: 50 }).toBe(1);
    sim.setState(1, { test: true });
    await arrived('smoke-m1', 'device/test');
    expect(events('smoke-m1', 'device/offline')).toEqual([]);
  });

  it('takes a detector that stops answering offline after three polls, without holding up the other', async () => {
    sim.silence(2, true);
    await arrived('smoke-m2', 'device/offline');
    expect(events('smoke-m2', 'device/offline')[0]?.data).toEqual({ reason: 'timeout' });
    sim.setState(1, { alarm: true, density: 800 });
    await arrived('smoke-m1', 'alarm/smoke', 2);
    sim.silence(2, false);
    await arrived('smoke-m2', 'device/online', 2);
    expect(events('smoke-m1', 'device/offline')).toEqual([]);
  });
});
