// Nothing acknowledged is lost (ARCHITECTURE.md invariants 2–4; issue 3): the gateway
// runs as a child process and is SIGKILLed like a power cut, with a real Mosquitto
// upstream and real mqtt.js devices.
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { gatewayProcess, type GatewayProcess } from '../helpers/gateway-process.ts';
import { analyse, deliveredDeviceEvents } from '../helpers/upstream-checks.ts';
import { LoadGenerator, type LoadDevice } from '../../firmware-sim/load.ts';

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function setup(devices: number): Promise<{ upstream: Mosquitto; platform: Subscriber; gw: GatewayProcess; fleet: LoadDevice[] }> {
  const upstream = await startMosquitto();
  cleanups.push(() => upstream.destroy());
  const platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#', { clientId: 'platform-durability' });
  cleanups.push(() => platform.close());
  const gw = await gatewayProcess({ upstream: { url: upstream.url } });
  cleanups.push(() => gw.destroy());
  await gw.start();
  const fleet = await Promise.all(Array.from({ length: devices }, async (_, i) => {
    const [device] = (await gw.cli(['device', 'add', '--kind', 'smoke', '--id', `smoke-${i}`])) as LoadDevice[];
    return device!;
  }));
  return { upstream, platform, gw, fleet };
}

describe('durability across outages and crashes', () => {
  it('delivers all 10,000 events after an upstream outage and a SIGKILL, in seq order per class', async () => {
    const { upstream, platform, gw, fleet } = await setup(10);
    await upstream.stop();
    const load = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: fleet, total: 10_000, window: 32 });
    load.start();
    await load.finished(60_000);
    await load.stop();
    await gw.kill();
    await gw.start();
    await upstream.restart();

    await platform.waitFor(() => deliveredDeviceEvents(analyse(platform.messages)).size >= 10_000, 60_000);
    const report = analyse(platform.messages);
    const delivered = deliveredDeviceEvents(report);
    expect([...load.acked].filter((k) => !delivered.has(k))).toEqual([]);
    expect(report.orderViolations).toEqual([]);
  }, 120_000);

  it('loses no acknowledged event over 20 SIGKILLs under load, and counts the duplicates', async () => {
    const { platform, gw, fleet } = await setup(5);
    const load = new LoadGenerator({ brokerUrl: gw.brokerUrl, devices: fleet, ratePerSec: 1500, window: 16 });
    load.start();
    for (let kill = 0; kill < 20; kill++) {
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 500));
      await gw.kill();
      await gw.start();
    }
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    const acked = [...load.acked];
    await platform.waitFor(() => {
      const delivered = deliveredDeviceEvents(analyse(platform.messages));
      return acked.every((k) => delivered.has(k));
    }, 60_000).catch(() => undefined);
    const report = analyse(platform.messages);
    const delivered = deliveredDeviceEvents(report);
    const lost = acked.filter((k) => !delivered.has(k));
    console.info(`crash test: 20 SIGKILLs, ${acked.length} acknowledged, ${lost.length} lost, ${report.duplicates} duplicates upstream`);
    expect(acked.length).toBeGreaterThan(1000);
    expect(lost).toEqual([]);
    expect(report.orderViolations).toEqual([]);
  }, 180_000);
});
