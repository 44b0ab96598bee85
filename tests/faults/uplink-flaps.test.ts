// Uplink flaps (issue 9; PROTOCOL.md §2, ARCHITECTURE.md invariants 3–4): the real
// Mosquitto upstream dies and comes back every few seconds, and once stays away for long,
// while detectors publish, a detector raises and clears alarms and check-ins run. The
// gateway keeps everything in its outbox until the broker PUBACKs it, and sends it in
// seq order within each class.
//
// Whose loss is it? Mosquitto killed with SIGKILL forgets what it PUBACKed but had neither
// written to the platform's socket nor saved (autosave runs every second): the gateway
// had already deleted those rows, as invariant 3 says it must. So a tap between the two
// (tests/helpers/puback-tap.ts) records every PUBACK, and the test holds the gateway to
// "everything promised was PUBACKed or arrived" and reports Mosquitto's own losses
// beside it. The long outage ends with SIGTERM (Mosquitto saves on the way out), so
// there nothing at all may be missing upstream.
import { afterEach, describe, expect, it } from 'vitest';
import { awaitDelivery, blame, delivery, faultScene, type FaultScene, type Promised } from '../helpers/fault-scene.ts';
import { CheckinLoop } from '../helpers/front-desk.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';
import { SmokeSim } from '../../firmware-sim/smoke-sim.ts';

const FLAPPING_MS = bySize(15_000, 60_000);
const OUTAGE_MS = bySize(5_000, 10 * 60_000);
const DETECTORS = 5;

let scene: FaultScene | undefined;
let stopTraffic: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopTraffic?.();
  await scene?.destroy();
  scene = stopTraffic = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A detector going into alarm and out again, every `everyMs`; `acked` as LoadGenerator's. */
class AlarmLoop {
  readonly acked: string[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly sim: SmokeSim, everyMs: number) {
    this.done = this.run(everyMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.sim.stop();
  }

  private async run(everyMs: number): Promise<void> {
    for (let seq = 1; this.running; seq++) {
      await (seq % 2 === 1 ? this.sim.alarm() : this.sim.clear());
      this.acked.push(`${this.sim.options.id}:${seq}`);
      await sleep(everyMs);
    }
  }
}

/** Detectors, an alarming detector and a front desk, all at once, until `stop`. */
async function traffic(s: FaultScene, ratePerSec: number) {
  const load = new LoadGenerator({ brokerUrl: s.gw.brokerUrl, devices: s.fleet.slice(0, DETECTORS), ratePerSec, window: 16 });
  const alarming = s.fleet[DETECTORS]!;
  const sim = new SmokeSim({ brokerUrl: s.gw.brokerUrl, id: alarming.id, secret: alarming.secret });
  await sim.start();
  const alarms = new AlarmLoop(sim, 100);
  const checkins = new CheckinLoop(s.gw, s.desk, bySize(0, 1_000));
  load.start();
  checkins.start();
  const stop = async () => {
    stopTraffic = undefined;
    await Promise.all([load.stop(), alarms.stop(), checkins.stop()]);
  };
  stopTraffic = stop;
  return {
    stop,
    promised: (): Promised => ({ events: [...load.acked, ...alarms.acked], stays: checkins.accepted().map((o) => o.stayId!) }),
    counts: () => `${load.acked.size} events, ${alarms.acked.length} alarms, ${checkins.accepted().length} check-ins acknowledged`,
  };
}

/**
 * Waits until the broker PUBACKed everything promised (the gateway's part), then until it
 * all arrived or 10 s passed (Mosquitto's part: what it acknowledged reaches the platform
 * within moments, unless a SIGKILL lost it). Polled slowly: each look scans every PUBACK.
 */
async function settle(s: FaultScene, promised: Promised, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end && blame(promised, [], s.tap!).gateway.length > 0;) await sleep(250);
  await awaitDelivery(s.platform, promised, 10_000);
}

describe('uplink flaps: the upstream broker dies and comes back', () => {
  it(`loses nothing while Mosquitto is killed and restarted every ~2 s for ${FLAPPING_MS / 1000} s`, async () => {
    const s = (scene = await faultScene({ devices: DETECTORS + 1, tap: true }));
    const t = await traffic(s, 300);
    const flaps = { SIGKILL: 0, SIGTERM: 0 };
    for (const end = Date.now() + FLAPPING_MS; Date.now() < end;) {
      await sleep(1_000 + Math.random() * 1_500);
      const signal = Math.random() < 2 / 3 ? 'SIGKILL' : 'SIGTERM';
      await (signal === 'SIGKILL' ? s.upstream.kill() : s.upstream.stop());
      flaps[signal]++;
      await sleep(200 + Math.random() * 800);
      await s.upstream.restart();
    }
    await t.stop();
    const promised = t.promised();
    await settle(s, promised, 60_000);
    const d = delivery(s.platform.messages, promised);
    const who = blame(promised, s.platform.messages, s.tap!);
    console.info(`uplink flaps: ${flaps.SIGKILL} SIGKILLs and ${flaps.SIGTERM} SIGTERMs of Mosquitto in ${FLAPPING_MS / 1000} s; ${t.counts()}; ` +
      `${s.tap!.acked.size} PUBACKs through the tap; lost by Menwei ${who.gateway.length}, PUBACKed then lost by Mosquitto ${who.broker}, missing upstream ${d.lostEvents.length + d.lostRegistrations.length}, ${d.duplicates} duplicates`);

    expect(flaps.SIGKILL + flaps.SIGTERM).toBeGreaterThanOrEqual(FLAPPING_MS / 2_500 - 1);
    expect(who.gateway).toEqual([]);
    // What did not arrive, Mosquitto had acknowledged and then lost.
    expect(d.lostEvents.length + d.lostRegistrations.length).toBeLessThanOrEqual(who.broker);
    expect(d.orderViolations).toEqual([]);
    expect(d.seqReuses).toEqual([]);
  }, sizedTimeout(120_000));

  it(`delivers everything, in order per class, after ${OUTAGE_MS / 1000} s with the upstream down`, async () => {
    const s = (scene = await faultScene({ devices: DETECTORS + 1, tap: true }));
    const t = await traffic(s, 200);
    await sleep(500);
    await s.upstream.stop();
    await sleep(OUTAGE_MS);
    await s.upstream.restart();
    await sleep(1_000);
    await t.stop();
    const promised = t.promised();
    const d = await awaitDelivery(s.platform, promised, sizedTimeout(120_000) / 2);
    console.info(`uplink outage: ${OUTAGE_MS / 1000} s down; ${t.counts()}; ` +
      `lost ${d.lostEvents.length + d.lostRegistrations.length}, ${d.duplicates} duplicates`);

    expect([...promised.stays].length).toBeGreaterThan(0);
    expect(d.lostEvents).toEqual([]);
    expect(d.lostRegistrations).toEqual([]);
    expect(d.orderViolations).toEqual([]);
    expect(d.seqReuses).toEqual([]);
  }, sizedTimeout(120_000));
});
