import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  INITIAL_DETECTOR_STATE,
  SMOKE_POLL_DEFAULTS,
  SMOKE_REGISTERS,
  decodeSmokeRegisters,
  encodeSmokeRegisters,
  smokeEdges,
  type DetectorState,
  type SmokeEdge,
} from '../../../protocol/modbus-smoke.ts';

const state = (patch: Partial<DetectorState> = {}): DetectorState => ({ ...INITIAL_DETECTOR_STATE, batteryPct: 90, density: 12, ...patch });

function decoded(regs: number[]): DetectorState {
  const result = decodeSmokeRegisters(regs);
  if (!result.ok) throw new Error(`expected a state, got ${JSON.stringify(result.error)}`);
  return result.state;
}

describe('smoke register map (PROTOCOL.md §5)', () => {
  it('polls input registers 0..2 with function 0x04, at the spec defaults', () => {
    expect(SMOKE_REGISTERS).toEqual({ functionCode: 0x04, start: 0, count: 3 });
    expect(SMOKE_POLL_DEFAULTS).toEqual({ baudRate: 9600, pollMs: 1000, timeoutMs: 200, minSlaveId: 1, maxSlaveId: 247 });
  });

  it('the state before the first good reply is all zero', () => {
    expect(INITIAL_DETECTOR_STATE).toEqual({
      alarm: false, tamper: false, batteryLow: false, fault: false, test: false, batteryDefect: false, batteryPct: 0, density: 0,
    });
    expect(Object.isFrozen(INITIAL_DETECTOR_STATE)).toBe(true);
  });

  it.each([
    [0, 'alarm'],
    [2, 'tamper'],
    [3, 'batteryLow'],
    [6, 'fault'],
    [8, 'test'],
    [9, 'batteryDefect'],
  ] as const)('status bit %i is %s, and only that flag', (bit, flag) => {
    expect(decoded([1 << bit, 87, 350])).toEqual({ ...INITIAL_DETECTOR_STATE, [flag]: true, batteryPct: 87, density: 350 });
  });

  it('reserved status bits are ignored', () => {
    const reserved = [1, 4, 5, 7, 10, 11, 12, 13, 14, 15].reduce((bits, bit) => bits | (1 << bit), 0);
    expect(decoded([reserved, 50, 0])).toEqual({ ...INITIAL_DETECTOR_STATE, batteryPct: 50 });
  });

  it('clamps battery above 100 and density above 1000 and keeps the alarm bit', () => {
    expect(decoded([1, 101, 1001])).toMatchObject({ alarm: true, batteryPct: 100, density: 1000 });
    expect(decoded([1, 0xffff, 0xffff])).toMatchObject({ alarm: true, batteryPct: 100, density: 1000 });
  });

  it('ignores registers past the third', () => {
    expect(decoded([1, 40, 300, 0xffff])).toEqual(state({ alarm: true, batteryPct: 40, density: 300 }));
  });

  it.each([[[]], [[1]], [[1, 2]]])('refuses %j: fewer than 3 registers', (regs) => {
    expect(decodeSmokeRegisters(regs)).toEqual({ ok: false, error: { code: 'MW_MODBUS_BAD_REPLY', detail: expect.stringContaining(`${regs.length} registers`) } });
  });

  it.each([[[-1, 0, 0]], [[0, 65536, 0]], [[0, 0, 1.5]], [[Number.NaN, 0, 0]]])('refuses %j: a register that is not a uint16', (regs) => {
    expect(decodeSmokeRegisters(regs)).toMatchObject({ ok: false, error: { code: 'MW_MODBUS_BAD_REPLY' } });
  });
});

describe('smokeEdges (PROTOCOL.md §5 edge table, events of §1.4)', () => {
  it.each<[Partial<DetectorState>, SmokeEdge[], SmokeEdge[]]>([
    [{ alarm: true }, [{ type: 'alarm', value: 640 }], [{ type: 'clear' }]],
    [{ tamper: true }, [{ type: 'tamper' }], [{ type: 'restored', what: 'tamper' }]],
    [{ batteryLow: true }, [{ type: 'battery_low', batteryPct: 15 }], [{ type: 'restored', what: 'battery', batteryPct: 15 }]],
    [{ fault: true }, [{ type: 'fault' }], [{ type: 'restored', what: 'fault' }]],
    [{ test: true }, [{ type: 'test' }], []],
    [{ batteryDefect: true }, [{ type: 'battery_defect', batteryPct: 15 }], [{ type: 'restored', what: 'battery', batteryPct: 15 }]],
  ])('%j: rising gives %j, falling gives %j', (flag, rising, falling) => {
    const off = state({ batteryPct: 15, density: 640 });
    const on = state({ ...flag, batteryPct: 15, density: 640 });
    expect(smokeEdges(off, on)).toEqual(rising);
    expect(smokeEdges(on, off)).toEqual(falling);
  });

  it('an alarm already present at start is reported, with its density', () => {
    expect(smokeEdges(INITIAL_DETECTOR_STATE, decoded([1, 90, 400]))).toEqual([{ type: 'alarm', value: 400 }]);
  });

  it('an unchanged state, or a change of battery or density alone, gives no event', () => {
    const alarmed = state({ alarm: true });
    expect(smokeEdges(alarmed, alarmed)).toEqual([]);
    expect(smokeEdges(alarmed, { ...alarmed, density: 900, batteryPct: 3 })).toEqual([]);
  });

  it('every rising edge at once: alarm first, then the rest in bit order', () => {
    const all = state({ alarm: true, tamper: true, batteryLow: true, fault: true, test: true, batteryDefect: true });
    expect(smokeEdges(state(), all).map((e) => e.type)).toEqual(['alarm', 'tamper', 'battery_low', 'fault', 'test', 'battery_defect']);
    expect(smokeEdges(all, state())).toEqual([
      { type: 'clear' },
      { type: 'restored', what: 'tamper' },
      { type: 'restored', what: 'fault' },
      { type: 'restored', what: 'battery', batteryPct: 90 },
    ]);
  });

  it('battery is restored only when neither battery low nor battery defect is left', () => {
    const both = state({ batteryLow: true, batteryDefect: true });
    expect(smokeEdges(both, state({ batteryDefect: true }))).toEqual([]);
    expect(smokeEdges(both, state({ batteryLow: true }))).toEqual([]);
    expect(smokeEdges(state({ batteryLow: true }), state({ batteryDefect: true }))).toEqual([{ type: 'battery_defect', batteryPct: 90 }]);
  });
});

const anyRegisters = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }));

const anyState: fc.Arbitrary<DetectorState> = fc.record({
  alarm: fc.boolean(),
  tamper: fc.boolean(),
  batteryLow: fc.boolean(),
  fault: fc.boolean(),
  test: fc.boolean(),
  batteryDefect: fc.boolean(),
  batteryPct: fc.integer({ min: 0, max: 100 }),
  density: fc.integer({ min: 0, max: 1000 }),
});

/** Raised-minus-cleared counts per condition, so each must equal its current flag. */
function balance(edges: SmokeEdge[]) {
  const count = (pred: (e: SmokeEdge) => boolean) => edges.filter(pred).length;
  return {
    alarm: count((e) => e.type === 'alarm') - count((e) => e.type === 'clear'),
    tamper: count((e) => e.type === 'tamper') - count((e) => e.what === 'tamper'),
    fault: count((e) => e.type === 'fault') - count((e) => e.what === 'fault'),
  };
}

describe('smoke properties', () => {
  it('over any sequence of replies from the start, alarms minus clears is the current alarm bit (and so for tamper, fault)', () => {
    fc.assert(
      fc.property(fc.array(anyRegisters, { maxLength: 50 }), (replies) => {
        let prev = INITIAL_DETECTOR_STATE;
        const edges: SmokeEdge[] = [];
        for (const regs of replies) {
          const next = decoded(regs);
          edges.push(...smokeEdges(prev, next));
          expect(balance(edges)).toEqual({ alarm: Number(next.alarm), tamper: Number(next.tamper), fault: Number(next.fault) });
          prev = next;
        }
      }),
    );
  });

  it('a restored battery is never sent while a battery condition remains, and always when the last one ends', () => {
    fc.assert(
      fc.property(anyState, anyState, (prev, next) => {
        const restored = smokeEdges(prev, next).some((e) => e.type === 'restored' && e.what === 'battery');
        const wasBad = prev.batteryLow || prev.batteryDefect;
        const isBad = next.batteryLow || next.batteryDefect;
        expect(restored).toBe(wasBad && !isBad);
      }),
    );
  });

  it('encode then decode gives the same state back', () => {
    fc.assert(
      fc.property(anyState, (s) => {
        const regs = encodeSmokeRegisters(s);
        expect(regs).toHaveLength(SMOKE_REGISTERS.count);
        expect(decoded(regs)).toEqual(s);
      }),
    );
  });

  it('encodes the status bits at their spec positions', () => {
    expect(encodeSmokeRegisters(state({ alarm: true, test: true, batteryDefect: true, batteryPct: 7, density: 999 }))).toEqual([0x301, 7, 999]);
  });

  it.each([{ batteryPct: 101 }, { batteryPct: -1 }, { density: 1001 }, { density: 2.5 }])('encode refuses %j', (patch) => {
    expect(() => encodeSmokeRegisters(state(patch))).toThrow(RangeError);
  });
});
