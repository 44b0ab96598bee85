// The locks feature against real parts (PROTOCOL.md §1.2, §1.3, §2.3): an in-process
// gateway with aedes on port 0, simulated locks over real mqtt.js sessions, and a real
// Mosquitto upstream read by a platform-side subscriber.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { validateDeviceMessage, validateUpstreamEvent } from '../../protocol/validate.ts';
import { LocksFeature, type IssueRequest, type IssuedLockCode } from '../../gateway/locks/locks-feature.ts';
import type { Timers } from '../../gateway/locks/lock-events.ts';
import { fileSeqStore, LockSim } from '../../firmware-sim/lock-sim.ts';

const DAY = 86_400_000;
type Envelope = { eventId: string; unit?: string; deviceId?: string; data: Record<string, unknown> };

/** The door-ajar timer fired by hand: doorAjarMin is at least a minute (config schema). */
class ManualTimers implements Timers {
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  private next = 0;

  set(fn: () => void, ms: number): () => void {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return () => this.pending.delete(id);
  }

  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.fn();
  }
}

let upstream: Mosquitto;
let platform: Subscriber;
let gw: TestGateway;
const timers = new ManualTimers();
const locks = new LocksFeature({ timers });
const sims: LockSim[] = [];

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#');
  gw = await startTestGateway({ upstream: { url: upstream.url }, policy: { doorAjarMin: 1 } }, { features: [locks] });
});

afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.stop()));
  await gw?.stop();
  await platform?.close();
  await upstream?.destroy();
});

/** A unit with one provisioned lock and its simulator (not started). */
function newLock(id: string, unit: string): { sim: LockSim; codeKey: string } {
  gw.gateway.units.add({ code: unit, address: 'test', licensed: true }, Date.now());
  const { secret, codeKey } = gw.provision('lock', id, unit);
  const sim = new LockSim({ brokerUrl: gw.brokerUrl, id, secret, codeKey: codeKey! });
  sims.push(sim);
  return { sim, codeKey: codeKey! };
}

async function issue(unit: string, lockId: string, over: Partial<IssueRequest> = {}): Promise<IssuedLockCode> {
  const request: IssueRequest = {
    unit, lockIds: [lockId], kind: 'stay', validFrom: Date.now(), validTo: Date.now() + DAY, uses: null, stayId: 's_TEST', ...over,
  };
  const [code] = await gw.gateway.transact((tx) => locks.issueCodes(tx, request));
  return code!;
}

/** Unique (by eventId) upstream events of one type about one device, or one unit. */
function events(path: string, who: { deviceId?: string; unit?: string }): Envelope[] {
  const seen = new Set<string>();
  return platform.messages
    .filter((m) => m.topic === `menwei/up/gw-test/${path}`)
    .map((m) => m.json as Envelope)
    .filter((e) => !seen.has(e.eventId) && seen.add(e.eventId))
    .filter((e) => (who.deviceId === undefined || e.deviceId === who.deviceId) && (who.unit === undefined || e.unit === who.unit));
}

const waitEvents = (path: string, who: { deviceId?: string; unit?: string }, n = 1) => platform.waitFor(() => events(path, who).length >= n);

describe('code pull and hints (PROTOCOL.md §1.3)', () => {
  it('a lock pulls on start and gets the HMAC of an issued code; a pull at the current version is unchanged', async () => {
    const { sim, codeKey } = newLock('lock-pull', 'U-PULL');
    const code = await issue('U-PULL', 'lock-pull');
    await sim.start();
    const hmac = createHmac('sha256', Buffer.from(codeKey, 'hex')).update(code.code, 'ascii').digest('hex');
    expect(sim.version).toBe(1);
    expect(sim.codes).toEqual([{ codeId: code.codeId, hmac, validFrom: code.validFrom, validTo: code.validTo, uses: null }]);
    const again = await sim.pull();
    expect(again).toMatchObject({ v: 1, version: 1, unchanged: true });
    expect(again.codes).toBeUndefined();
    await waitEvents('audit/code_issued', { unit: 'U-PULL' });
    const audit = JSON.stringify(events('audit/code_issued', { unit: 'U-PULL' }));
    expect(audit).toContain(code.codeId);
    expect(audit).not.toContain(code.code);
    expect(audit).not.toContain(hmac);
  });

  it('a change sends a hint and the lock pulls the new list', async () => {
    const { sim } = newLock('lock-hint', 'U-HINT');
    await sim.start();
    expect(sim.version).toBe(0);
    const code = await issue('U-HINT', 'lock-hint');
    await vi.waitFor(() => expect(sim.codes.map((c) => c.codeId)).toEqual([code.codeId]));
    expect(sim.hints).toBeGreaterThanOrEqual(1);
    expect(sim.version).toBe(locks.version('lock-hint'));
  });

  it('an expired code leaves the list at the next sweep, and the lock is hinted', async () => {
    const { sim } = newLock('lock-exp', 'U-EXP');
    await sim.start();
    const code = await issue('U-EXP', 'lock-exp', { validTo: Date.now() + 500 });
    await vi.waitFor(() => expect(sim.codes).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, Date.parse(code.validTo) - Date.now() + 10));
    await locks.sweep();
    await vi.waitFor(() => expect(sim.codes).toEqual([]));
    expect(sim.version).toBe(2);
  });
});

describe('unlocks (PROTOCOL.md §1.2)', () => {
  it('an unlock with a code is occupancy/entry with its stay, upstream', async () => {
    const { sim } = newLock('lock-entry', 'U-ENTRY');
    const code = await issue('U-ENTRY', 'lock-entry', { stayId: 's_ENTRY' });
    await sim.start();
    expect(await sim.enter(code.code)).toEqual({ ok: true, codeId: code.codeId });
    await waitEvents('occupancy/entry', { deviceId: 'lock-entry' });
    const [entry] = events('occupancy/entry', { deviceId: 'lock-entry' });
    expect(entry).toMatchObject({ unit: 'U-ENTRY', data: { method: 'code', codeId: code.codeId, stayId: 's_ENTRY', deviceSeq: 1 } });
    const raw = platform.messages.find((m) => (m.json as Envelope).eventId === entry!.eventId)!;
    expect(validateUpstreamEvent(raw.topic, raw.payload)).toMatchObject({ ok: true });
    expect(locks.version('lock-entry')).toBe(1); // an unlimited code changes nothing
  });

  it('an unknown codeId gives security/unknown_code, and a key gives security/mechanical_key', async () => {
    const { sim } = newLock('lock-unknown', 'U-UNKNOWN');
    await sim.start();
    await sim.event({ type: 'unlock', method: 'code', codeId: 'c_01JDNOSUCHCODE0000000000000' });
    await sim.unlock('key');
    await waitEvents('security/unknown_code', { deviceId: 'lock-unknown' });
    await waitEvents('security/mechanical_key', { deviceId: 'lock-unknown' });
    await waitEvents('occupancy/entry', { deviceId: 'lock-unknown' }, 2);
    expect(events('security/unknown_code', { deviceId: 'lock-unknown' })[0]?.data).toEqual({ codeId: 'c_01JDNOSUCHCODE0000000000000', deviceSeq: 1 });
    expect(events('occupancy/entry', { deviceId: 'lock-unknown' }).map((e) => e.data.method)).toEqual(['code', 'key']);
  });

  it('commits a mechanical key and tamper in the urgent lane, an ordinary unlock in the batch (invariant 4)', () => {
    const urgent = (fields: Record<string, unknown>) => {
      const checked = validateDeviceMessage('menwei/lock/lock-u/event', JSON.stringify({ v: 1, seq: 1, ts: new Date().toISOString(), ...fields }));
      if (!checked.ok) throw new Error(checked.error.reason);
      return gw.gateway.ingest.isUrgent(checked.value);
    };
    expect([urgent({ type: 'unlock', method: 'key' }), urgent({ type: 'tamper' })]).toEqual([true, true]);
    expect([urgent({ type: 'unlock', method: 'card' }), urgent({ type: 'door', open: true })]).toEqual([false, false]);
  });

  it('the lock honours uses: a once code opens once, and leaves the list after the hint', async () => {
    const { sim } = newLock('lock-once', 'U-ONCE');
    const code = await issue('U-ONCE', 'lock-once', { kind: 'once', uses: 1, stayId: undefined, visitId: 'v_1' });
    await sim.start();
    expect(await sim.enter(code.code)).toEqual({ ok: true, codeId: code.codeId });
    expect(await sim.enter(code.code)).toEqual({ ok: false, reason: 'wrong_code' });
    await vi.waitFor(() => expect(sim.version).toBe(2));
    expect(sim.codes).toEqual([]);
  });
});

describe('keypad abuse (PROTOCOL.md §1.2, §2.3)', () => {
  it('5 wrong codes lock the keypad; wrong_code goes upstream once per minute per lock', async () => {
    const { sim } = newLock('lock-guess', 'U-GUESS');
    const code = await issue('U-GUESS', 'lock-guess');
    await sim.start();
    const guess = code.code === '13572468' ? '24681357' : '13572468';
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await sim.enter(guess));
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['wrong_code', 'wrong_code', 'wrong_code', 'wrong_code', 'locked_out']);
    expect(await sim.enter(code.code)).toEqual({ ok: false, reason: 'locked_out' });
    // One class is delivered in seq order: once the lockout is there, every wrong_code is.
    await waitEvents('security/lockout', { deviceId: 'lock-guess' });
    const wrong = events('security/wrong_code', { deviceId: 'lock-guess' });
    expect(wrong.map((e) => e.data)).toEqual([{ count: 3, deviceSeq: 3 }]);
  });
});

describe('door, battery, tamper and faults (PROTOCOL.md §1.2)', () => {
  it('a door open longer than doorAjarMin gives security/door_ajar; closing it in time cancels the timer', async () => {
    const { sim } = newLock('lock-door', 'U-DOOR');
    await sim.start();
    await sim.door(true);
    await vi.waitFor(() => expect([...timers.pending.values()].map((t) => t.ms)).toEqual([60_000]));
    await sim.door(false);
    await vi.waitFor(() => expect(timers.pending.size).toBe(0));
    await sim.door(true);
    await vi.waitFor(() => expect(timers.pending.size).toBe(1));
    timers.fireAll();
    await waitEvents('security/door_ajar', { deviceId: 'lock-door' });
    expect(events('security/door_ajar', { deviceId: 'lock-door' })[0]?.data).toEqual({ openSinceMin: 1, deviceSeq: 3 });
  });

  it('battery_low once per crossing below 20; tamper and jammed are reported', async () => {
    const { sim } = newLock('lock-batt', 'U-BATT');
    await sim.start();
    for (const pct of [50, 15, 10, 40, 12]) await sim.battery(pct);
    await sim.tamper();
    await sim.jammed();
    // device/fault follows every battery_low in the device class's seq order.
    await waitEvents('device/fault', { deviceId: 'lock-batt' });
    await waitEvents('security/tamper', { deviceId: 'lock-batt' });
    expect(events('device/battery_low', { deviceId: 'lock-batt' }).map((e) => e.data)).toEqual([{ pct: 15, deviceSeq: 2 }, { pct: 12, deviceSeq: 5 }]);
    expect(events('device/fault', { deviceId: 'lock-batt' })[0]?.data).toEqual({ what: 'jammed', deviceSeq: 7 });
  });
});

describe('the lock simulator', () => {
  it('keeps its event seq across restarts in its SeqStore file', async () => {
    const { sim } = newLock('lock-seq', 'U-SEQ');
    const file = join(gw.dataDir, 'lock-seq.json');
    const first = new LockSim({ ...sim.options, seqStore: fileSeqStore(file) });
    await first.start();
    await first.tamper();
    await first.stop();
    const second = new LockSim({ ...sim.options, seqStore: fileSeqStore(file) });
    sims.push(second);
    await second.start();
    await second.tamper();
    await waitEvents('security/tamper', { deviceId: 'lock-seq' }, 2);
    expect(events('security/tamper', { deviceId: 'lock-seq' }).map((e) => e.data.deviceSeq)).toEqual([1, 2]);
  });
});

describe('code.revoke (PROTOCOL.md §2.2)', () => {
  it('revokes a code by id or a unit\'s codes; unknown ones are refused', async () => {
    const { sim } = newLock('lock-rev', 'U-REV');
    const first = await issue('U-REV', 'lock-rev');
    await issue('U-REV', 'lock-rev');
    await sim.start();
    expect(sim.codes).toHaveLength(2);
    const admin = await mqtt.connectAsync(upstream.url, { clientId: 'platform-locks', protocolVersion: 4 });
    const send = (commandId: string, fields: object) => admin.publishAsync(`menwei/down/gw-test/code.revoke`,
      JSON.stringify({ v: 1, commandId, expiresAt: new Date(Date.now() + 60_000).toISOString(), ...fields }), { qos: 1 });
    await send('rev-1', { codeId: first.codeId });
    await vi.waitFor(() => expect(sim.codes).toHaveLength(1));
    await send('rev-2', { unit: 'U-REV' });
    await vi.waitFor(() => expect(sim.codes).toHaveLength(0));
    await send('rev-3', { codeId: first.codeId });
    await send('rev-4', { unit: 'U-NOWHERE' });
    await platform.waitFor(() => events('reply/code.revoke', {}).filter((e) => String(e.data.commandId).startsWith('rev-')).length >= 4);
    const outcome = (e: Envelope) => (e.data.error as { code?: string } | undefined)?.code ?? e.data.status;
    const replies = Object.fromEntries(events('reply/code.revoke', {}).map((e) => [e.data.commandId, outcome(e)]));
    expect(replies).toMatchObject({ 'rev-1': 'ok', 'rev-2': 'ok', 'rev-3': 'UNKNOWN_CODE', 'rev-4': 'UNKNOWN_UNIT' });
    expect(locks.liveCodes('U-REV')).toEqual([]);
    await admin.endAsync();
  });
});
