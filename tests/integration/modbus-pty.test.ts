// The Modbus smoke bus (PROTOCOL.md §5) end to end over a real socat pty pair: the
// gateway's ModbusSmokeBus with modbus-serial's RTU master on one end, simulated
// detectors behind modbus-serial's ServerSerial on the other.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModbusSmokeBus, type ModbusErrorCode } from '../../gateway/drivers/modbus-master.ts';
import { systemClock } from '../../gateway/clock.ts';
import { createLogger } from '../../gateway/logger.ts';
import type { SmokeEdge } from '../../protocol/modbus-smoke.ts';
import { ModbusSmokeSlaves } from '../../firmware-sim/modbus-smoke-sim.ts';
import { openPtyPair, type PtyPair } from '../../firmware-sim/pty.ts';

// Wide enough that the test process being slow (the sim and the master share its event
// loop) does not turn prompt replies into timeouts.
const POLL_MS = 200;
const TIMEOUT_MS = 100;
const WAIT = { timeout: 4_000, interval: 20 };

type Seen = {
  edges: Array<{ deviceId: string; type: SmokeEdge['type']; value?: number }>;
  states: Array<{ deviceId: string; online: boolean }>;
  errors: Array<{ deviceId: string; code: ModbusErrorCode }>;
};

let pty: PtyPair;
let sim: ModbusSmokeSlaves;
let bus: ModbusSmokeBus;
let seen: Seen;

beforeEach(async () => {
  pty = await openPtyPair();
  sim = new ModbusSmokeSlaves({ path: pty.b, addresses: [1, 2] });
  await sim.start();
  seen = { edges: [], states: [], errors: [] };
  bus = new ModbusSmokeBus({
    path: pty.a,
    baudRate: 9600,
    pollMs: POLL_MS,
    timeoutMs: TIMEOUT_MS,
    detectors: [
      { address: 1, deviceId: 'smk-1' },
      { address: 2, deviceId: 'smk-2' },
    ],
    clock: systemClock,
    logger: createLogger({ level: process.env.MENWEI_TEST_LOG ?? 'silent' }),
    onEdge: (deviceId, edge) => seen.edges.push({ deviceId, type: edge.type, ...(edge.value !== undefined ? { value: edge.value } : {}) }),
    onState: (deviceId, online) => seen.states.push({ deviceId, online }),
    onError: (deviceId, code) => seen.errors.push({ deviceId, code }),
  });
});

afterEach(async () => {
  await bus.stop();
  await sim.stop();
  await pty.close();
});

const edgesOf = (deviceId: string) => seen.edges.filter((e) => e.deviceId === deviceId);
const statesOf = (deviceId: string) => seen.states.filter((s) => s.deviceId === deviceId).map((s) => s.online);

async function bothOnline(): Promise<void> {
  await vi.waitFor(() => {
    expect(statesOf('smk-1')).toEqual([true]);
    expect(statesOf('smk-2')).toEqual([true]);
  }, WAIT);
}

describe('Modbus smoke bus over a real pty', () => {
  it('gives an alarm edge when the alarm bit rises and clear when it falls', async () => {
    bus.start();
    await bothOnline();
    sim.setState(1, { alarm: true, density: 420 });
    await vi.waitFor(() => expect(edgesOf('smk-1')).toEqual([{ deviceId: 'smk-1', type: 'alarm', value: 420 }]), WAIT);
    sim.setState(1, { alarm: false, density: 0 });
    await vi.waitFor(() => expect(edgesOf('smk-1').map((e) => e.type)).toEqual(['alarm', 'clear']), WAIT);
    expect(edgesOf('smk-2')).toEqual([]);
  });

  it('takes a detector that stops answering offline after three timed-out polls, and back online', async () => {
    bus.start();
    await bothOnline();
    const before = seen.errors.length;
    sim.silence(2, true);
    await vi.waitFor(() => expect(statesOf('smk-2')).toEqual([true, false]), WAIT);
    const since = seen.errors.slice(before).filter((e) => e.deviceId === 'smk-2');
    expect(since).toEqual(Array(3).fill({ deviceId: 'smk-2', code: 'MW_MODBUS_TIMEOUT' }));
    sim.silence(2, false);
    await vi.waitFor(() => expect(statesOf('smk-2')).toEqual([true, false, true]), WAIT);
    expect(statesOf('smk-1')).toEqual([true]);
  });

  it('counts a corrupted CRC and keeps polling both detectors', async () => {
    bus.start();
    await bothOnline();
    sim.corruptNextCrc(1);
    await vi.waitFor(() => expect(bus.counters.crcErrors).toBe(1), WAIT);
    expect(seen.errors).toContainEqual({ deviceId: 'smk-1', code: 'MW_MODBUS_CRC' });
    sim.setState(2, { tamper: true });
    sim.setState(1, { fault: true });
    await vi.waitFor(() => {
      expect(edgesOf('smk-2').map((e) => e.type)).toEqual(['tamper']);
      expect(edgesOf('smk-1').map((e) => e.type)).toEqual(['fault']);
    }, WAIT);
    expect(statesOf('smk-1')).toEqual([true]);
  });

  it('never takes a reply that came after its timeout for the answer to a later poll', async () => {
    // Detector 1 answers in alarm, but too late: its frames land on the bus while the
    // master is polling detector 2 or sleeping. When it then answers in time, clear, the
    // stale alarm frames must not be read as that answer (PROTOCOL.md §5).
    sim.setState(1, { alarm: true, density: 900 });
    // Half a timeout late: after detector 2's reply, well before the next poll of detector 1.
    sim.delayReplies(1, TIMEOUT_MS * 1.5);
    bus.start();
    await vi.waitFor(() => expect(statesOf('smk-1')).toEqual([false]), WAIT);
    sim.setState(1, { alarm: false, density: 0 });
    sim.delayReplies(1, 0);
    await vi.waitFor(() => expect(statesOf('smk-1')).toEqual([false, true]), WAIT);
    const polls = bus.counters.polls;
    await vi.waitFor(() => expect(bus.counters.polls).toBeGreaterThan(polls + 6), WAIT);
    expect(edgesOf('smk-1')).toEqual([]);
    expect(statesOf('smk-2')).toEqual([true]);
    expect(seen.errors.filter((e) => e.deviceId === 'smk-2')).toEqual([]);
  });

  it('reopens the port after the pty closes under it, and polling resumes', async () => {
    bus.start();
    await bothOnline();
    await pty.replug();
    await sim.stop();
    sim = new ModbusSmokeSlaves({ path: pty.b, addresses: [1, 2] });
    await sim.start();
    sim.setState(2, { alarm: true, density: 300 });
    await vi.waitFor(() => expect(edgesOf('smk-2')).toEqual([{ deviceId: 'smk-2', type: 'alarm', value: 300 }]), WAIT);
  });
});
