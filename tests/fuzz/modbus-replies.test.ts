// Hostile replies on the RS-485 smoke bus over a real socat pty (PROTOCOL.md §5; issue
// 9): the gateway's Modbus master polls a slave that answers with garbage, wrong CRCs,
// other addresses and functions, exceptions, short replies, silence and late replies,
// each carrying alarm bits. None may raise an alarm, each is counted, and afterwards the
// detector's real alarm still reaches the platform.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { HostileSlave, hostileReplies } from '../helpers/hostile-modbus.ts';

const TIMEOUT_MS = 100;
/** Three timeouts: a late reply lands well before the next poll of its slave (tests/helpers/hostile-modbus.ts). */
const POLL_MS = 3 * TIMEOUT_MS;
type Envelope = { deviceId?: string; data: Record<string, unknown> };

let upstream: Mosquitto;
let platform: Subscriber;
let pty: PtyPair;
let slave: HostileSlave;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-modbus-fuzz/#');
  pty = await openPtyPair();
  slave = new HostileSlave(new SerialTransport({ path: pty.b, baudRate: 9600 }), 1);
  await slave.start();
  const modbus = [{ path: pty.a, baudRate: 9600, pollMs: POLL_MS, timeoutMs: TIMEOUT_MS, detectors: [{ address: 1, deviceId: 'smoke-m1', unit: 'U-1' }] }];
  gw = await startTestGateway({ gatewayId: 'gw-modbus-fuzz', upstream: { url: upstream.url }, modbus });
  await platform.waitFor(() => events('device/online').length > 0, 20_000);
}, 40_000);

afterAll(async () => {
  await gw?.stop();
  await slave?.stop();
  await pty?.close();
  await platform?.close();
  await upstream?.destroy();
});

const events = (path: string) => platform.messages.filter((m) => m.topic.endsWith(`/${path}`) && (m.json as Envelope).deviceId === 'smoke-m1');

async function modbusErrors(): Promise<number> {
  const { values } = await gw.gateway.metrics.serialErrors.get();
  return values.filter((v) => v.labels.source === 'modbus').reduce((n, v) => n + v.value, 0);
}

describe('hostile replies on the Modbus smoke bus', () => {
  it('raise no alarm, are each counted, and the real alarm still arrives afterwards', async () => {
    const before = await modbusErrors();
    const runs = bySize(20, 600);
    await fc.assert(fc.asyncProperty(hostileReplies(1, TIMEOUT_MS), async (reply) => {
      await slave.serve(reply);
      return true;
    }), { numRuns: runs });
    expect(await modbusErrors() - before).toBeGreaterThanOrEqual(runs);
    // Every hostile reply carried the alarm, tamper and fault bits: none was taken for the detector's state.
    for (const path of ['alarm/smoke', 'security/tamper', 'device/fault', 'device/test']) expect(events(path), path).toEqual([]);

    slave.registers = [1, 100, 420];
    await platform.waitFor(() => events('alarm/smoke').length === 1, 20_000);
    expect((events('alarm/smoke')[0]!.json as Envelope).data).toMatchObject({ value: 420 });
  }, sizedTimeout(90_000));
});
