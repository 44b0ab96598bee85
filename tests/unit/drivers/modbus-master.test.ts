// ModbusSmokeBus (PROTOCOL.md §5) against an in-memory ModbusLink, on vitest's fake
// timers: the clock reads the faked Date, so poll times are exact.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ModbusLinkError,
  ModbusSmokeBus,
  type ModbusErrorCode,
  type ModbusLink,
  type ModbusLinkErrorKind,
  type ModbusSmokeBusOptions,
} from '../../../gateway/drivers/modbus-master.ts';
import type { Clock } from '../../../gateway/clock.ts';
import { createLogger } from '../../../gateway/logger.ts';

const REPLY_MS = 5;
const ALARM = 1 << 0;
const TAMPER = 1 << 2;

const clock: Clock = { now: () => Date.now(), monotonic: () => Date.now() };
const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class FakeLink implements ModbusLink {
  readonly requests: Array<{ address: number; at: number }> = [];
  opens = 0;
  closes = 0;
  failOpens = 0;
  private readonly regs = new Map<number, number[]>();
  private readonly dead = new Set<number>();
  private readonly failures = new Map<number, ModbusLinkErrorKind[]>();

  setRegs(address: number, regs: number[]): void {
    this.regs.set(address, regs);
  }

  kill(address: number, dead = true): void {
    if (dead) this.dead.add(address);
    else this.dead.delete(address);
  }

  failNext(address: number, ...kinds: ModbusLinkErrorKind[]): void {
    this.failures.set(address, kinds);
  }

  async open(): Promise<void> {
    this.opens++;
    if (this.failOpens > 0) {
      this.failOpens--;
      throw new Error('ENOENT: no such file');
    }
  }

  async readInputRegisters(address: number, _start: number, _count: number, timeoutMs: number): Promise<number[]> {
    this.requests.push({ address, at: clock.monotonic() });
    const failure = this.failures.get(address)?.shift();
    if (failure === 'timeout' || (!failure && this.dead.has(address))) {
      await after(timeoutMs);
      throw new ModbusLinkError('timeout', 'Timed out');
    }
    await after(REPLY_MS);
    if (failure) throw new ModbusLinkError(failure, failure);
    return this.regs.get(address) ?? [0, 100, 0];
  }

  async close(): Promise<void> {
    this.closes++;
  }
}

type Log = Array<[string, ...unknown[]]>;

function makeBus(addresses: number[], opts: Partial<ModbusSmokeBusOptions> = {}) {
  const link = new FakeLink();
  const log: Log = [];
  const bus = new ModbusSmokeBus({
    path: '/dev/ttyFAKE',
    baudRate: 9600,
    pollMs: 1000,
    timeoutMs: 200,
    detectors: addresses.map((address) => ({ address, deviceId: `smk-${address}` })),
    clock,
    logger: createLogger({ level: 'silent' }),
    link,
    onEdge: (id, edge) => log.push(['edge', id, edge]),
    onState: (id, online) => log.push(['state', id, online]),
    onError: (id, code: ModbusErrorCode) => log.push(['error', id, code]),
    ...opts,
  });
  return { bus, link, log };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const only = (log: Log, kind: string) => log.filter((entry) => entry[0] === kind).map((entry) => entry.slice(1));

let running: ModbusSmokeBus | undefined;
function start(bus: ModbusSmokeBus): void {
  running = bus;
  bus.start();
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(async () => {
  const stopped = running?.stop();
  await vi.runOnlyPendingTimersAsync();
  await stopped;
  running = undefined;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('ModbusSmokeBus edges', () => {
  it('gives alarm when the alarm bit rises and clear when it falls', async () => {
    const { bus, link, log } = makeBus([1]);
    start(bus);
    await advance(REPLY_MS);
    expect(log).toEqual([['state', 'smk-1', true]]);
    link.setRegs(1, [ALARM, 100, 250]);
    await advance(1000);
    link.setRegs(1, [0, 100, 0]);
    await advance(1000);
    expect(only(log, 'edge')).toEqual([
      ['smk-1', { type: 'alarm', value: 250 }],
      ['smk-1', { type: 'clear' }],
    ]);
  });

  it('reports an alarm already present at start on the first poll, after online', async () => {
    const { bus, link, log } = makeBus([1]);
    link.setRegs(1, [ALARM | TAMPER, 90, 700]);
    start(bus);
    await advance(REPLY_MS);
    expect(log).toEqual([
      ['state', 'smk-1', true],
      ['edge', 'smk-1', { type: 'alarm', value: 700 }],
      ['edge', 'smk-1', { type: 'tamper' }],
    ]);
  });

  it('reports a malformed reply and takes no state from it', async () => {
    const { bus, link, log } = makeBus([1]);
    link.setRegs(1, [ALARM, 100]);
    start(bus);
    await advance(REPLY_MS);
    expect(log).toEqual([['error', 'smk-1', 'MW_MODBUS_BAD_REPLY']]);
    expect(bus.counters.badReplies).toBe(1);
  });

  it('keeps polling when a listener throws', async () => {
    const { bus, link } = makeBus([1], { onEdge: () => { throw new Error('listener bug'); } });
    link.setRegs(1, [ALARM, 100, 0]);
    start(bus);
    await advance(2000 + REPLY_MS);
    expect(link.requests.map((r) => r.at)).toEqual([0, 1000, 2000]);
  });
});

describe('ModbusSmokeBus online and offline', () => {
  it('goes offline after exactly three timeouts in a row, and online at the next good reply', async () => {
    const { bus, link, log } = makeBus([1]);
    start(bus);
    await advance(REPLY_MS);
    link.kill(1);
    await advance(3000 + 200 - REPLY_MS - 1);
    expect(only(log, 'state')).toEqual([['smk-1', true]]);
    await advance(1);
    expect(only(log, 'state')).toEqual([['smk-1', true], ['smk-1', false]]);
    expect(link.requests).toHaveLength(4);
    expect(only(log, 'error')).toEqual(Array(3).fill(['smk-1', 'MW_MODBUS_TIMEOUT']));
    link.kill(1, false);
    await advance(1000);
    expect(only(log, 'state')).toEqual([['smk-1', true], ['smk-1', false], ['smk-1', true]]);
    expect(bus.counters.timeouts).toBe(3);
  });

  it('counts a CRC error as an answer: polling goes on and it breaks a run of timeouts', async () => {
    const { bus, link, log } = makeBus([1]);
    start(bus);
    await advance(REPLY_MS);
    link.failNext(1, 'timeout', 'timeout', 'crc', 'timeout', 'timeout');
    await advance(5000);
    expect(bus.counters.crcErrors).toBe(1);
    expect(only(log, 'error')[2]).toEqual(['smk-1', 'MW_MODBUS_CRC']);
    link.setRegs(1, [ALARM, 100, 10]);
    await advance(1000);
    expect(only(log, 'state')).toEqual([['smk-1', true]]);
    expect(only(log, 'edge')).toEqual([['smk-1', { type: 'alarm', value: 10 }]]);
  });
});

describe('ModbusSmokeBus timing', () => {
  it('lets a dead detector delay the others by its own timeout and no more', async () => {
    const { bus, link } = makeBus([1, 2, 3]);
    link.kill(2);
    start(bus);
    await advance(1999);
    expect(link.requests).toEqual([
      { address: 1, at: 0 },
      { address: 2, at: REPLY_MS },
      { address: 3, at: REPLY_MS + 200 },
      { address: 1, at: 1000 },
      { address: 2, at: 1000 + REPLY_MS },
      { address: 3, at: 1000 + REPLY_MS + 200 },
    ]);
    expect(bus.counters.overruns).toBe(0);
  });

  it('counts an overrunning cycle and starts the next one at once', async () => {
    const { bus, link } = makeBus([1, 2], { pollMs: 300 });
    link.kill(1);
    link.kill(2);
    start(bus);
    await advance(400);
    expect(bus.counters.overruns).toBe(1);
    expect(link.requests.map((r) => r.at)).toEqual([0, 200, 400]);
  });
});

describe('ModbusSmokeBus port', () => {
  it('reopens a lost port with backoff and resumes polling', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { bus, link, log } = makeBus([1]);
    start(bus);
    await advance(REPLY_MS);
    link.failNext(1, 'closed');
    link.failOpens = 1;
    await advance(3000);
    // Lost at 1005; backoff 500 ms, so the 2000 cycle retries and fails; then 1000 ms, so 3000 reopens.
    expect(link.closes).toBe(1);
    expect(link.opens).toBe(3);
    expect(link.requests.map((r) => r.at)).toEqual([0, 1000, 3000]);
    expect(only(log, 'state')).toEqual([['smk-1', true]]);
  });

  it('takes every detector offline while the port stays down', async () => {
    const { bus, link, log } = makeBus([1, 2]);
    link.failOpens = Number.POSITIVE_INFINITY;
    start(bus);
    await advance(5000);
    expect(only(log, 'state')).toEqual([['smk-1', false], ['smk-2', false]]);
    expect(link.requests).toEqual([]);
  });

  it('stops after the request in flight and closes the port', async () => {
    const { bus, link } = makeBus([1, 2]);
    start(bus);
    await advance(2);
    const stopped = bus.stop();
    await advance(REPLY_MS);
    await stopped;
    await advance(5000);
    expect(link.requests).toHaveLength(1);
    expect(link.closes).toBe(1);
  });
});
