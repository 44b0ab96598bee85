// Power cuts (issue 9; ARCHITECTURE.md invariants 1–4): the gateway runs as a child
// process and is SIGKILLed at random moments while smoke detectors publish, check-ins
// run through the full path (reader, face, POST) and the forwarder drains to a real
// Mosquitto. Nothing a device or the check-in API was told is safe may be lost, the file
// must stay sound after every kill, and no `seq` may ever name two events.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { awaitDelivery, faultScene, type FaultScene } from '../helpers/fault-scene.ts';
import { CheckinLoop, DESK_UNITS } from '../helpers/front-desk.ts';
import { bySize, sizedTimeout } from '../helpers/soak.ts';
import { until } from '../helpers/wait.ts';
import { open } from '../../gateway/crypto.ts';
import { LoadGenerator } from '../../firmware-sim/load.ts';

const KILLS = bySize(8, 50);

let scene: FaultScene | undefined;
let stopTraffic: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stopTraffic?.();
  await scene?.destroy();
  scene = stopTraffic = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dbFile = (s: FaultScene) => join(s.gw.dataDir, 'menwei.db');

/** Read-only, between the kill and the restart: the file exactly as the crash left it. */
function integrityAfterCrash(file: string): unknown {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true });
  } finally {
    db.close();
  }
}

/**
 * CHECKIN.md "On acceptance" is one transaction: whatever the crashes cut, every code has
 * its stay, every stay exactly one code, one registration and one code_issued audit, and
 * each lock's list version counts its codes. Returns the stays on disk.
 */
function expectCheckinsWhole(file: string, dataKey: Buffer): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const stays = db.prepare('SELECT stay_id, id_hash FROM stays').all() as Array<{ stay_id: string; id_hash: string }>;
    const stayIds = stays.map((s) => s.stay_id).sort();
    expect(db.prepare('SELECT code_id FROM codes WHERE stay_id IS NOT NULL AND stay_id NOT IN (SELECT stay_id FROM stays)').all()).toEqual([]);
    const codesPerStay = db.prepare('SELECT stay_id, count(*) AS n FROM codes WHERE stay_id IS NOT NULL GROUP BY stay_id ORDER BY stay_id').all() as Array<{ stay_id: string; n: number }>;
    expect(codesPerStay).toEqual(stayIds.map((stay_id) => ({ stay_id, n: 1 })));
    for (const { lock } of DESK_UNITS) {
      const codeCount = (db.prepare('SELECT count(*) AS n FROM codes WHERE lock_id = ?').get(lock) as { n: number }).n;
      const version = (db.prepare('SELECT version FROM lock_versions WHERE lock_id = ?').get(lock) as { version: number } | undefined)?.version ?? 0;
      expect(version).toBe(codeCount);
    }
    expect(new Set(stays.map((s) => s.id_hash)).size).toBe(stays.length);
    const stayIdsOf = (type: string, sealed: boolean) =>
      (db.prepare('SELECT payload FROM outbox WHERE topic LIKE ?').all(`%/${type}`) as Array<{ payload: Buffer }>)
        .map((r) => (JSON.parse((sealed ? open(dataKey, r.payload) : r.payload).toString('utf8')) as { data: { stayId: string } }).data.stayId)
        .sort();
    expect(stayIdsOf('registration/checkin', true)).toEqual(stayIds);
    expect(stayIdsOf('audit/code_issued', false)).toEqual(stayIds);
    return stayIds;
  } finally {
    db.close();
  }
}

describe('power cut: SIGKILL of the gateway', () => {
  it('delivers all 10,000 events after an upstream outage and a SIGKILL, in seq order per class', async () => {
    const s = (scene = await faultScene({ devices: 10 }));
    await s.upstream.stop();
    const load = new LoadGenerator({ brokerUrl: s.gw.brokerUrl, devices: s.fleet, total: 10_000, window: 32 });
    load.start();
    await load.finished(60_000);
    await load.stop();
    await s.gw.kill();
    await s.gw.start();
    await s.upstream.restart();

    const d = await awaitDelivery(s.platform, { events: load.acked, stays: [] }, 60_000);
    expect(load.acked.size).toBe(10_000);
    expect(d.lostEvents).toEqual([]);
    expect(d.orderViolations).toEqual([]);
    expect(d.seqReuses).toEqual([]);
  }, 180_000);

  it(`loses no acknowledged event or registration over ${KILLS} SIGKILLs during load, check-ins and drains`, async () => {
    const s = (scene = await faultScene({ devices: 5 }));
    const load = new LoadGenerator({ brokerUrl: s.gw.brokerUrl, devices: s.fleet, ratePerSec: 1000, window: 16 });
    const checkins = new CheckinLoop(s.gw, s.desk);
    load.start();
    checkins.start();
    stopTraffic = () => Promise.all([load.stop(), checkins.stop()]);
    const integrity: unknown[] = [];
    const lateAfterRestart: number[] = [];

    for (let kill = 0; kill < KILLS; kill++) {
      const acceptedBefore = checkins.accepted().length;
      if (kill % 4 === 1) {
        // A backlog to drain: the upstream away for a while, the kill during the drain after.
        await s.upstream.stop();
        await sleep(500 + Math.random() * 1000);
        await s.upstream.restart();
        await sleep(Math.random() * 1500);
      } else if (kill % 4 === 3) {
        // Right after a check-in POST left the client, before its reply.
        await Promise.race([checkins.nextPost(), sleep(20_000)]);
        await sleep(Math.random() * 4);
      } else {
        // At any moment of a round that saw at least one check-in through.
        await until(() => checkins.accepted().length > acceptedBefore, 20_000).catch(() => undefined);
        await sleep(Math.random() * 800);
      }
      const promisedAtKill = { events: [...load.acked], stays: checkins.accepted().map((o) => o.stayId!) };
      await s.gw.kill();
      integrity.push(integrityAfterCrash(dbFile(s)));
      await s.gw.start();
      if (kill % 2 === 0) {
        // Everything promised before the kill arrives after the restart, before the next kill.
        const d = await awaitDelivery(s.platform, promisedAtKill, 30_000);
        lateAfterRestart.push(d.lostEvents.length + d.lostRegistrations.length);
      }
    }
    await sleep(500);
    await stopTraffic();
    stopTraffic = undefined;
    const stays = expectCheckinsWhole(dbFile(s), Buffer.from(s.gw.env.MENWEI_DATA_KEY!, 'hex'));
    const accepted = checkins.accepted().map((o) => o.stayId!);
    // Every stay on disk, a 201 or one whose reply the crash cut, is registered upstream.
    const d = await awaitDelivery(s.platform, { events: load.acked, stays }, 60_000);
    const lost = checkins.outcomes.filter((o) => o.status === 'lost').length;
    console.info(`power cut: ${KILLS} SIGKILLs, ${load.acked.size} events acknowledged, ${accepted.length} check-ins accepted (${lost} replies cut, ${stays.length} stays on disk), ${d.lostEvents.length + d.lostRegistrations.length} lost, ${d.duplicates} duplicates upstream`);

    expect(integrity).toEqual(Array.from({ length: KILLS }, () => 'ok'));
    expect(lateAfterRestart).toEqual(lateAfterRestart.map(() => 0));
    expect(load.acked.size).toBeGreaterThan(KILLS * 100);
    expect(accepted.length).toBeGreaterThanOrEqual(KILLS / 2);
    expect(accepted.filter((id) => !stays.includes(id))).toEqual([]);
    expect(checkins.outcomes.filter((o) => o.status !== 201 && o.status !== 'lost')).toEqual([]);
    expect(stays.length).toBeLessThanOrEqual(accepted.length + lost);
    expect(d.lostEvents).toEqual([]);
    expect(d.lostRegistrations).toEqual([]);
    expect(d.orderViolations).toEqual([]);
    expect(d.seqReuses).toEqual([]);
    expect(await s.gw.stop()).toBe(0);
  }, sizedTimeout(240_000));
});
