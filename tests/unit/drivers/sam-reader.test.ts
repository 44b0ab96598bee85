// The SAM reader driver's polling rules (PROTOCOL.md §3 "Polling") against the simulated
// reader, over an in-memory cable with vitest's fake timers, and once over serialport's
// MockBinding so the SerialTransport is exercised too.
import { SerialPortMock } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../gateway/clock.ts';
import { SamReader, type CardRead, type UnsupportedRead } from '../../../gateway/drivers/sam-reader.ts';
import { SerialTransport, type ByteTransport } from '../../../gateway/drivers/transport.ts';
import { createLogger } from '../../../gateway/logger.ts';
import { createBytePipe, type BytePipe } from '../../../firmware-sim/byte-pipe.ts';
import { SamReaderSim, photoFor } from '../../../firmware-sim/sam-reader-sim.ts';
import type { ErrorCode } from '../../../protocol/errors.ts';
import { SAM_HEADER_BYTES, decodeCard, encodeReadResponse, type CardFields } from '../../../protocol/sam/index.ts';
import { readHexFixture } from '../../helpers/fixtures.ts';

function fixtureFields(name: string): CardFields {
  const decoded = decodeCard(readHexFixture(name).subarray(SAM_HEADER_BYTES + 3, -1));
  if (!decoded.ok) throw new Error(`fixture ${name} does not decode`);
  const { photoSha256: _, ...fields } = decoded.card;
  return fields;
}

const ZHANG = fixtureFields('read-resident');
const LI = fixtureFields('read-longterm');

/** Both clocks follow vitest's fake Date, so timers and the driver's clock move together. */
const fakeDateClock: Clock = { now: () => Date.now(), monotonic: () => Date.now() };

type Rig = {
  pipe: BytePipe;
  sim: SamReaderSim;
  reader: SamReader;
  reads: CardRead[];
  states: boolean[];
  errors: ErrorCode[];
  unsupported: UnsupportedRead[];
};

async function rig(transport?: { host: ByteTransport; device: ByteTransport }): Promise<Rig> {
  const pipe = createBytePipe();
  const ends = transport ?? pipe;
  const sim = new SamReaderSim({ transport: ends.device });
  const r: Omit<Rig, 'reader'> = { pipe, sim, reads: [], states: [], errors: [], unsupported: [] };
  const reader = new SamReader({
    id: 'reader-lobby',
    transport: ends.host,
    clock: fakeDateClock,
    logger: createLogger({ level: 'silent' }),
    onCard: (read) => r.reads.push(read),
    onState: (online) => r.states.push(online),
    onError: (code) => r.errors.push(code),
    onUnsupported: (read) => r.unsupported.push(read),
  });
  await sim.start();
  reader.start();
  return { ...r, reader };
}

const advance = (ms: number): Promise<void> => vi.advanceTimersByTimeAsync(ms).then(() => undefined);

describe('SAM reader polling (fake time, in-memory cable)', () => {
  let r: Rig;

  beforeEach(async () => {
    vi.useFakeTimers();
    r = await rig();
  });

  afterEach(async () => {
    await r.reader.stop();
    vi.useRealTimers();
  });

  it('reads a card left on the reader once, however often it is read again', async () => {
    r.sim.insertCard(ZHANG);
    await advance(10_000);
    expect(r.sim.counts.read).toBeGreaterThan(10);
    expect(r.reads).toHaveLength(1);
    expect(r.reads[0]?.card).toMatchObject(ZHANG);
    expect(r.reads[0]?.readerId).toBe('reader-lobby');
  });

  it('the same card again within 5 s with no failed find in between is the same read', async () => {
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    r.sim.faults.failRead = true;
    await advance(4_000);
    r.sim.faults.failRead = false;
    await advance(1_000);
    expect(r.reads).toHaveLength(1);
    expect(r.errors).toContain('MW_SAM_STATUS');
  });

  it('the same card read again after more than 5 s counts as a new read', async () => {
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    r.sim.faults.failRead = true;
    await advance(6_000);
    r.sim.faults.failRead = false;
    await advance(1_000);
    expect(r.reads).toHaveLength(2);
  });

  it('a card taken away (find 80) and put back is a new read', async () => {
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    r.sim.removeCard();
    await advance(1_000);
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    expect(r.reads.map((read) => read.card.idNumber)).toEqual([ZHANG.idNumber, ZHANG.idNumber]);
  });

  it('goes offline after three timeouts in a row and online at the next good reply', async () => {
    await advance(1_000);
    expect(r.states).toEqual([true]);
    r.sim.faults.silent = true;
    await advance(1_000);
    expect(r.states).toEqual([true]);
    await advance(3_000);
    expect(r.states).toEqual([true, false]);
    expect(r.errors.filter((code) => code === 'MW_SAM_TIMEOUT').length).toBeGreaterThanOrEqual(3);
    r.sim.faults.silent = false;
    await advance(1_500);
    expect(r.states).toEqual([true, false, true]);
  });

  it('discards a reply that comes after its timeout instead of pairing it with the next request', async () => {
    r.sim.insertCard(ZHANG);
    r.sim.faults.delayMs = { find: 700 };
    await advance(3_000);
    // Every find timed out and its late 9F was dropped, so no select was ever sent on one.
    expect(r.sim.counts.select).toBe(0);
    expect(r.reader.discarded).toBeGreaterThanOrEqual(2);
    expect(r.reads).toHaveLength(0);
    r.sim.faults.delayMs = {};
    await advance(2_000);
    expect(r.reads).toHaveLength(1);
    expect(r.reads[0]?.card).toMatchObject(ZHANG);
    expect(r.errors).not.toContain('MW_SAM_STATUS');
    expect(r.reader.counters.badFrames).toBe(0);
  });

  it('a read reply that comes while the next find is outstanding is not taken for it', async () => {
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    r.sim.insertCard(LI);
    // Read times out at 3 s, the quiet 500 ms passes, the next find goes out: then the reply.
    r.sim.faults.delayMs = { read: 3_700 };
    await advance(4_500);
    expect(r.reads).toHaveLength(1);
    expect(r.reader.discarded).toBeGreaterThan(0);
    r.sim.faults.delayMs = {};
    await advance(8_000);
    expect(r.reads.map((read) => read.card.idNumber)).toEqual([ZHANG.idNumber, LI.idNumber]);
    expect(r.errors).not.toContain('MW_SAM_STATUS');
    expect(r.reader.counters.badFrames).toBe(0);
  });

  it('half a reply, cut off by a reader reset, does not swallow the replies after it', async () => {
    await advance(1_000);
    r.sim.faults.silent = true;
    await r.pipe.device.write(encodeReadResponse(ZHANG, photoFor(ZHANG.idNumber)).subarray(0, 600));
    await advance(1_000);
    r.sim.faults.silent = false;
    r.sim.insertCard(ZHANG);
    await advance(2_000);
    expect(r.reads).toHaveLength(1);
    expect(r.states).toEqual([true]);
  });

  it('a bad checksum is counted and polling goes on to read the card', async () => {
    r.sim.insertCard(ZHANG);
    r.sim.faults.badChecksum = true;
    await advance(3_000);
    expect(r.reader.counters.badFrames).toBe(1);
    expect(r.errors).toContain('MW_SAM_BAD_CHECKSUM');
    expect(r.reads).toHaveLength(1);
  });

  it('reads a card through garbage before each reply and replies split into 5-byte chunks', async () => {
    r.sim.faults.garbageBefore = 7;
    r.sim.faults.splitEvery = 5;
    r.sim.insertCard(ZHANG);
    await advance(3_000);
    expect(r.reads).toHaveLength(1);
    expect(r.reads[0]?.card).toMatchObject(ZHANG);
    expect(r.reader.counters.badFrames).toBe(0);
  });

  it('surfaces a foreign permanent resident card (type I) once as DOC_UNSUPPORTED, not as a card', async () => {
    r.sim.insertCard({ ...ZHANG, cardType: 'I' });
    await advance(5_000);
    expect(r.reads).toHaveLength(0);
    expect(r.unsupported).toEqual([{ docType: 'foreign-permanent', readerId: 'reader-lobby' }]);
    expect(r.errors.filter((code) => code === 'MW_SAM_DOC_UNSUPPORTED')).toHaveLength(1);
  });

  it('reports an error status (SW3 41 read failed) and keeps polling', async () => {
    r.sim.faults.failRead = true;
    r.sim.insertCard(ZHANG);
    await advance(1_000);
    expect(r.errors).toContain('MW_SAM_STATUS');
    expect(r.reads).toHaveLength(0);
    r.sim.faults.failRead = false;
    await advance(1_000);
    expect(r.reads).toHaveLength(1);
  });

  it('sends SAM status at start and then every 60 s', async () => {
    await advance(1_000);
    expect(r.sim.counts.status).toBe(1);
    await advance(59_500);
    expect(r.sim.counts.status).toBe(2);
    await advance(60_000);
    expect(r.sim.counts.status).toBe(3);
    expect(r.sim.counts.find).toBeGreaterThan(200);
  });

  it('goes offline when the port fails, reopens it with backoff and reads again without a restart', async () => {
    const open = vi.spyOn(r.pipe.host, 'open');
    await advance(1_000);
    r.pipe.unplug();
    await advance(8_000);
    expect(r.states).toEqual([true, false]);
    // 250 ms doubling: attempts at about 0, 0.25, 0.75, 1.75, 3.75 and 7.75 s, not one per poll.
    expect(open.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(open.mock.calls.length).toBeLessThanOrEqual(6);
    r.pipe.replug();
    r.sim.insertCard(LI);
    await advance(6_000);
    expect(r.states).toEqual([true, false, true]);
    expect(r.reads.map((read) => read.card.idNumber)).toEqual([LI.idNumber]);
  });

  it('keeps polling when a callback throws', async () => {
    const pipe = createBytePipe();
    const sim = new SamReaderSim({ transport: pipe.device });
    const calls: string[] = [];
    const reader = new SamReader({
      id: 'reader-2',
      transport: pipe.host,
      clock: fakeDateClock,
      logger: createLogger({ level: 'silent' }),
      onCard: (read) => {
        calls.push(read.card.idNumber);
        throw new Error('consumer bug');
      },
    });
    await sim.start();
    reader.start();
    sim.insertCard(ZHANG);
    await advance(1_000);
    sim.removeCard();
    await advance(1_000);
    sim.insertCard(LI);
    await advance(1_000);
    await reader.stop();
    expect(calls).toEqual([ZHANG.idNumber, LI.idNumber]);
  });
});

/**
 * @serialport/binding-mock's MockBinding, taken from serialport so the test shares the
 * very module instance (and its port registry) that serialport loads.
 */
const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

/** A MockBinding whose device side is a ByteTransport, so the simulator can answer the host. */
function mockBindingDevice(path: string): { binding: typeof MockBinding; device: ByteTransport } {
  MockBinding.createPort(path, { echo: false, record: true });
  let port: MockPort | null = null;
  let toDevice: (chunk: Buffer) => void = () => undefined;
  const binding: typeof MockBinding = {
    ...MockBinding,
    open: async (options) => {
      const opened = await MockBinding.open(options);
      const write = opened.write.bind(opened);
      opened.write = async (bytes) => {
        await write(bytes);
        toDevice(Buffer.from(bytes));
      };
      port = opened;
      return opened;
    },
  };
  const device: ByteTransport = {
    open: async () => undefined,
    write: async (bytes) => port?.emitData(bytes),
    onData: (cb) => {
      toDevice = cb;
    },
    onClose: () => undefined,
    close: async () => undefined,
  };
  return { binding, device };
}

describe('SAM reader over SerialTransport and MockBinding', () => {
  afterEach(() => MockBinding.reset());

  it('sends the exact §3 frames and reads a card', async () => {
    const { binding, device } = mockBindingDevice('/dev/ROBOT');
    const transport = new SerialTransport({ path: '/dev/ROBOT', binding });
    const r = await rig({ host: transport, device });
    r.sim.insertCard(ZHANG);
    await vi.waitFor(() => expect(r.reads).toHaveLength(1), { timeout: 3_000, interval: 10 });
    await r.reader.stop();
    expect(r.reads[0]?.card).toMatchObject(ZHANG);
    expect(r.sim.counts.status).toBe(1);
    expect(r.sim.counts.find).toBeGreaterThanOrEqual(1);
  });
});
