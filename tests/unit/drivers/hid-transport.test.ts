// The SAM reader driver over HidTransport (PROTOCOL.md §3 "HID transport") and a fake
// HID pair, with the simulated reader on the device end.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../gateway/clock.ts';
import { SamReader, type CardRead } from '../../../gateway/drivers/sam-reader.ts';
import { HidTransport } from '../../../gateway/drivers/transport.ts';
import { createLogger } from '../../../gateway/logger.ts';
import { SamReaderSim } from '../../../firmware-sim/sam-reader-sim.ts';
import { HID_REPORT_BYTES } from '../../../protocol/hid/report.ts';
import { SAM_HEADER_BYTES, decodeCard, encodeCommand, type CardFields } from '../../../protocol/sam/index.ts';
import { createFakeHidPair, type FakeHidDevice } from '../../helpers/fake-hid.ts';
import { readHexFixture } from '../../helpers/fixtures.ts';

function fixtureFields(name: string): CardFields {
  const decoded = decodeCard(readHexFixture(name).subarray(SAM_HEADER_BYTES + 3, -1));
  if (!decoded.ok) throw new Error(`fixture ${name} does not decode`);
  const { photoSha256: _, ...fields } = decoded.card;
  return fields;
}

const fakeDateClock: Clock = { now: () => Date.now(), monotonic: () => Date.now() };
const advance = (ms: number): Promise<void> => vi.advanceTimersByTimeAsync(ms).then(() => undefined);

describe('SAM reader over HID', () => {
  const reads: CardRead[] = [];
  const states: boolean[] = [];
  const badReports: string[] = [];
  const hosts: FakeHidDevice[] = [];
  let pair: ReturnType<typeof createFakeHidPair>;
  let sim: SamReaderSim;
  let reader: SamReader;

  beforeEach(async () => {
    vi.useFakeTimers();
    reads.length = 0;
    states.length = 0;
    badReports.length = 0;
    hosts.length = 0;
    pair = createFakeHidPair();
    sim = new SamReaderSim({ transport: new HidTransport({ openDevice: async () => pair.device }) });
    const openDevice = async (): Promise<FakeHidDevice> => {
      const host = await pair.openHost();
      hosts.push(host);
      return host;
    };
    reader = new SamReader({
      id: 'reader-hid',
      transport: new HidTransport({ openDevice, onBadReport: (detail) => badReports.push(detail) }),
      clock: fakeDateClock,
      logger: createLogger({ level: 'silent' }),
      onCard: (read) => reads.push(read),
      onState: (online) => states.push(online),
    });
    await sim.start();
    reader.start();
  });

  afterEach(async () => {
    await reader.stop();
    vi.useRealTimers();
  });

  it('reads a card whose 1295-byte reply comes as 21 reports of 63 payload bytes or fewer', async () => {
    const fields = fixtureFields('read-resident');
    sim.insertCard(fields);
    await advance(1_000);
    expect(reads).toHaveLength(1);
    expect(reads[0]?.card).toMatchObject(fields);
    expect(reads[0]?.readerId).toBe('reader-hid');
  });

  it('sends each command as one 64-byte report: the length byte, then the §3 frame', async () => {
    await advance(600);
    const [first] = pair.device.received;
    const status = encodeCommand('status');
    expect(first).toHaveLength(HID_REPORT_BYTES);
    expect(first?.[0]).toBe(status.length);
    expect(first?.subarray(1, 1 + status.length)).toEqual(status);
  });

  it('drops a report with an impossible length byte and keeps reading', async () => {
    await advance(600);
    const bad = Buffer.alloc(HID_REPORT_BYTES);
    bad[0] = 64;
    pair.device.write([...bad]);
    sim.insertCard(fixtureFields('read-longterm'));
    await advance(1_000);
    expect(badReports).toHaveLength(1);
    expect(reads).toHaveLength(1);
  });

  it('reopens the device after it is unplugged and reads again', async () => {
    await advance(600);
    hosts.at(-1)?.unplug();
    await advance(300);
    expect(states).toEqual([true, false]);
    sim.insertCard(fixtureFields('read-expired'));
    await advance(2_000);
    expect(hosts).toHaveLength(2);
    expect(states).toEqual([true, false, true]);
    expect(reads).toHaveLength(1);
  });
});
