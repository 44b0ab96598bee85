// Alarms go upstream as soon as their transaction commits, before its WAL fsync
// (gateway/outbox/seq-reservation.ts; issue 8), while the detector's PUBACK and every
// other event wait for that fsync (ARCHITECTURE.md invariant 2). A real gateway whose
// fsyncs the test holds, a real Mosquitto upstream, a real mqtt.js detector.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Received, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, T } from '../helpers/gateway.ts';
import { SmokeFeature } from '../../gateway/smoke/smoke-feature.ts';
import { WalSync, type WalDurability } from '../../gateway/store/wal-sync.ts';
import type { Db } from '../../gateway/store/db.ts';

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

/** The real WAL sync, whose fsyncs start only once released while held. */
function holdableWalSync() {
  let held = false;
  const waiting: Array<() => void> = [];
  const open = (db: Db): WalDurability => {
    const real = new WalSync(db);
    return {
      sync: () => (held ? new Promise<void>((resolve, reject) => waiting.push(() => real.sync().then(resolve, reject))) : real.sync()),
      syncNow: () => real.syncNow(),
      close: () => real.close(),
    };
  };
  const release = () => {
    held = false;
    for (const start of waiting.splice(0)) start();
  };
  return { open, hold: () => (held = true), release };
}

const smokeOf = (type: string) => (m: readonly Received[]) => m.some((r) => r.topic.endsWith(`/${type}`) && (r.json as { deviceId?: string }).deviceId === 'smoke-1');

it('an alarm reaches the platform while its fsync is held; its PUBACK and an ordinary event wait for the fsync', async () => {
  const wal = holdableWalSync();
  const gw = await startTestGateway({ gatewayId: 'gw-early', upstream: { url: upstream.url } }, { features: [new SmokeFeature({ occupants: () => 1 })], openWalSync: wal.open });
  try {
    await platform.waitFor((m) => m.some((r) => r.topic === 'menwei/up/gw-early/gateway/started'));
    const { secret } = gw.provision('smoke', 'smoke-1', 'U-1');
    const detector = await gw.connectDevice('smoke-1', secret);
    const acked: string[] = [];
    const publish = (seq: number, type: string) =>
      detector.publishAsync('menwei/smoke/smoke-1/event', JSON.stringify({ v: 1, seq, ts: T(), type }), { qos: 1 }).then(() => acked.push(type));

    wal.hold();
    const sent = [publish(1, 'test'), publish(2, 'alarm')];
    await platform.waitFor(smokeOf('alarm/smoke'));
    expect(acked).toEqual([]);
    expect(smokeOf('device/test')(platform.messages)).toBe(false);

    wal.release();
    await Promise.all(sent);
    expect(acked).toEqual(['test', 'alarm']);
    await platform.waitFor(smokeOf('device/test'));
    await detector.endAsync();
  } finally {
    wal.release();
    await gw.stop();
  }
});
