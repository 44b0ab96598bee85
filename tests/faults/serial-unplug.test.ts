// Issue 9 "Serial faults", at gateway level: a SAM reader configured in `readers` on a
// real socat pty, the gateway as a child process (`menwei start`). The driver-level
// unplug test is tests/integration/sam-reader-pty.test.ts; this one holds the whole
// gateway to it: unplugging the reader does not stop the gateway, the reader is reported
// offline (device/offline upstream, /metrics), and after replug on the same path the
// gateway reopens it by itself and the next card read reaches the desk (PROTOCOL.md §3
// "The gateway keeps trying to reopen the port").
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber } from '../helpers/subscriber.ts';
import { gatewayProcess } from '../helpers/gateway-process.ts';
import { eventually, health, metric } from '../helpers/process-probes.ts';
import { cardFor, idNumber, PHOTO } from '../helpers/checkin-setup.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { openPtyPair } from '../../firmware-sim/pty.ts';
import { SamReaderSim } from '../../firmware-sim/sam-reader-sim.ts';
import { SerialTransport } from '../../gateway/drivers/transport.ts';

const READER = 'reader-desk1';
const DESK = 'desk-1';
const UNPLUGS = bySize(2, 20);

type Envelope = { eventId: string; class: string; type: string; deviceId?: string };
type Reads = { reads: Array<{ readId: string; card: { idNumber?: string } }> };

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(14)}`;

describe('a serial ID reader unplugged and plugged back (gateway as a process)', () => {
  it(`goes offline and comes back without a restart, ${UNPLUGS} times, and each read after replug reaches the desk`, async () => {
    const upstream = await startMosquitto();
    cleanups.push(() => upstream.destroy());
    const platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/device/#', { clientId: 'platform-serial' });
    cleanups.push(() => platform.close());
    const pty = await openPtyPair();
    cleanups.push(() => pty.close());
    let sim = new SamReaderSim({ transport: new SerialTransport({ path: pty.b }) });
    await sim.start();
    cleanups.push(() => sim.stop());

    const gw = await gatewayProcess({ upstream: { url: upstream.url }, readers: [{ id: READER, transport: 'serial', path: pty.a, desk: DESK }] });
    cleanups.push(() => gw.destroy());
    await gw.start();
    const [staff] = (await gw.cli(['staff', 'add', '--id', 'clerk-1', '--name', '王'])) as Array<{ token: string }>;
    const readsAtDesk = async () => ((await (await fetch(`${gw.httpUrl}/api/reads?desk=${DESK}`, { headers: { authorization: `Bearer ${staff!.token}` } })).json()) as Reads).reads;
    const readerOnline = () => metric(gw.httpUrl, 'menwei_devices_online', { kind: 'reader' });
    const pid = gw.pid();

    let guest = 0;
    const readCard = async () => {
      const id = idNumber('1985-05-05', ++guest, '310101');
      sim.insertCard(cardFor(id, { name: `客人${guest}` }), PHOTO);
      await eventually(`read ${guest} at the desk`, async () => (await readsAtDesk()).some((r) => r.card.idNumber === masked(id)), 15_000);
    };

    await eventually('the reader online', async () => (await readerOnline()) === 1, 15_000);
    await readCard();
    for (let unplug = 0; unplug < UNPLUGS; unplug++) {
      await sim.stop();
      await pty.unplug();
      // §3: offline after three timeouts in a row, or at once when the port is lost.
      await eventually('the reader offline', async () => (await readerOnline()) === 0, 15_000);
      expect((await health(gw.httpUrl)).ok).toBe(true);
      await pty.replug();
      sim = new SamReaderSim({ transport: new SerialTransport({ path: pty.b }) });
      await sim.start();
      await eventually('the reader back online', async () => (await readerOnline()) === 1, 20_000);
      await readCard();
    }
    expect(gw.pid()).toBe(pid);

    const transitions = () => platform.messages
      .map((m) => m.json as Envelope)
      .filter((e, i, all) => e.deviceId === READER && all.findIndex((x) => x.eventId === e.eventId) === i)
      .map((e) => e.type);
    const expected = ['online', ...Array.from({ length: UNPLUGS }, () => ['offline', 'online']).flat()];
    await platform.waitFor(() => transitions().length >= expected.length, 15_000).catch(() => undefined);
    expect(transitions()).toEqual(expected);
    expect(await readsAtDesk()).toHaveLength(UNPLUGS + 1);
  }, sizedTimeout(120_000));
});
