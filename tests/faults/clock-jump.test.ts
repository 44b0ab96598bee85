// Issue 9 "Clock jumps", through the injected clock (ARCHITECTURE.md invariant 6): a real
// in-process gateway with a FakeClock, a simulated lock over a real MQTT session, and a
// real Mosquitto upstream. The wall clock jumps a day forward (a bad RTC at boot) and
// then a day back (NTP corrects it). The code store's own rules are unit-tested in
// tests/unit/locks/code-store.test.ts; this holds the gateway to them end to end:
// - legal validity follows the wall clock: a code past validTo on the wall clock is
//   gone from the lock's pull;
// - internal timers follow monotonic time: the lock's heartbeat timeout neither fires on
//   the forward jump nor is put off by the backward one;
// - each jump is reported once upstream as `gateway/clock_jump` with its size;
// - after the back-jump no used, revoked or expired code is listed again, and a lock
//   that still reports one gets `security/unknown_code`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { startSubscriber, type Subscriber } from '../helpers/subscriber.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { FakeClock } from '../../gateway/clock.ts';
import { LocksFeature, type IssueRequest, type IssuedLockCode } from '../../gateway/locks/locks-feature.ts';
import { LockSim } from '../../firmware-sim/lock-sim.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HEARTBEAT_S = 60;
const UNIT = 'U-CLOCK';
const LOCK = 'lock-clock';

type Envelope = { eventId: string; type: string; class: string; deviceId?: string; data: Record<string, unknown> };

let upstream: Mosquitto;
let platform: Subscriber;
let gw: TestGateway;
let sim: LockSim;
const clock = new FakeClock();
const locks = new LocksFeature();

beforeAll(async () => {
  upstream = await startMosquitto();
  platform = await startSubscriber(upstream.url, 'menwei/up/gw-test/#');
  gw = await startTestGateway({ upstream: { url: upstream.url }, heartbeatS: { lock: HEARTBEAT_S } }, { clock, features: [locks] });
  gw.gateway.units.add({ code: UNIT, address: 'test', licensed: true }, clock.now());
  const { secret, codeKey } = gw.provision('lock', LOCK, UNIT);
  sim = new LockSim({ brokerUrl: gw.brokerUrl, id: LOCK, secret, codeKey: codeKey!, clock });
});

afterAll(async () => {
  await sim?.stop();
  await gw?.stop();
  await platform?.close();
  await upstream?.destroy();
});

async function issue(over: Partial<IssueRequest>): Promise<IssuedLockCode> {
  const request: IssueRequest = { unit: UNIT, lockIds: [LOCK], kind: 'stay', validFrom: clock.now(), validTo: clock.now() + 3 * DAY, uses: null, stayId: 's_CLOCK', ...over };
  const [code] = await gw.gateway.transact((tx) => locks.issueCodes(tx, request));
  return code!;
}

/** Unique upstream events of this type, in arrival order. */
function upstreamEvents(type: string, deviceId?: string): Envelope[] {
  const seen = new Set<string>();
  return platform.messages
    .map((m) => m.json as Envelope)
    .filter((e) => e.type === type && (deviceId === undefined || e.deviceId === deviceId))
    .filter((e) => !seen.has(e.eventId) && seen.add(e.eventId));
}

/** What the lock has after a fresh pull (§1.3), as codeIds. */
async function listed(): Promise<string[]> {
  await sim.pull();
  return sim.codes.map((c) => c.codeId).sort();
}

describe('wall-clock jumps (ARCHITECTURE.md invariant 6)', () => {
  it('a day forward then back: validity follows the wall clock, timers the monotonic one, jumps are reported, and no ended code returns', async () => {
    const short = await issue({ validTo: clock.now() + 2 * HOUR });
    const once = await issue({ kind: 'once', uses: 1, stayId: undefined, visitId: 'v_CLOCK' });
    const revoked = await issue({});
    const long = await issue({});
    await sim.start();
    expect(await sim.enter(once.code)).toEqual({ ok: true, codeId: once.codeId });
    await gw.gateway.transact((tx) => locks.revokeCodes(tx, { codeId: revoked.codeId }));
    expect(await listed()).toEqual([short.codeId, long.codeId].sort());

    // Forward a day: `short` is past its window on the wall clock, so it is gone.
    clock.jumpWall(DAY);
    await gw.gateway.upkeepTick();
    expect(await listed()).toEqual([long.codeId]);
    // The heartbeat timeout counts monotonic time: a day on the wall clock is no silence.
    expect(gw.gateway.presence.overdue()).toEqual([]);

    // Back a day: the wall clock is inside `short`'s window again, but it stays expired.
    clock.jumpWall(-DAY);
    await gw.gateway.upkeepTick();
    expect(await listed()).toEqual([long.codeId]);
    expect(await sim.enter(short.code)).toEqual({ ok: false, reason: 'wrong_code' });
    expect(await sim.enter(long.code)).toEqual({ ok: true, codeId: long.codeId });
    // A lock that missed the change and still opens with an ended code is refused upstream.
    for (const gone of [short, once, revoked]) await sim.event({ type: 'unlock', method: 'code', codeId: gone.codeId });

    // The back-jump did not put the heartbeat timeout off either: 2 intervals of
    // monotonic silence make the lock offline.
    clock.advance(2 * HEARTBEAT_S * 1000);
    expect(gw.gateway.presence.overdue()).toEqual([]);
    clock.advance(1);
    expect(gw.gateway.presence.overdue()).toEqual([LOCK]);
    await gw.gateway.upkeepTick();

    await platform.waitFor(() => upstreamEvents('unknown_code', LOCK).length === 3 && upstreamEvents('clock_jump').length >= 2 && upstreamEvents('offline', LOCK).length === 1, 15_000);
    expect(upstreamEvents('clock_jump').map((e) => e.data.deltaMs)).toEqual([DAY, -DAY]);
    expect(upstreamEvents('unknown_code', LOCK).map((e) => e.data.codeId)).toEqual([short.codeId, once.codeId, revoked.codeId]);
    // The door did open each time (occupancy/entry), but only `long` counts for the stay.
    const entries = upstreamEvents('entry', LOCK);
    expect(entries.map((e) => e.data.codeId)).toEqual([once.codeId, long.codeId, short.codeId, once.codeId, revoked.codeId]);
    expect(entries.filter((e) => e.data.stayId !== undefined).map((e) => e.data.codeId)).toEqual([long.codeId]);
    expect(upstreamEvents('offline', LOCK)).toHaveLength(1);
  }, 60_000);
});
