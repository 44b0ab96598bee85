// Benchmark: check-in latency (issue 8 §4), the whole chain a clerk waits on. It starts
// at the last byte of the SAM read response on the serial line and goes through the
// gateway's parse, the card pushed to the face terminal and its verify (CHECKIN.md rule
// 10), the console seeing that verify on its event stream, and the POST /api/checkins,
// to (i) the 201 with the code and (ii) the lock's pull holding the new code's HMAC.
import { createHmac } from 'node:crypto';
import { checkCharacter } from '../../protocol/id-number.ts';
import { encodeReadResponse, type CardFields } from '../../protocol/sam/index.ts';
import { photoFor } from '../../firmware-sim/sam-reader-sim.ts';
import { startFrontDesk, UNIT, type FrontDesk } from './front-desk-scene.ts';
import { latencySummary, median, round } from './stats.ts';
import type { Benchmark, BenchRow } from './report.ts';

type Sample = { toCode: number; toLock: number; toRead: number; toVerify: number; postAlone: number; codeToLock: number };
type Summary = ReturnType<typeof latencySummary>;
export type CheckinResult = Record<keyof Sample, Summary>;

const DAY = 86_400_000;
/** How often the lock's applied list is looked at: the resolution of (ii). */
const LOCK_POLL_MS = 1;

/** Guest `i`: a well-formed, distinct resident number (PROTOCOL.md §6), so no two stays collide. */
function guest(i: number): CardFields {
  const seq = (i % 999) + 1;
  const body = `110105${1970 + Math.floor(i / 999)}0101${String(seq).padStart(3, '0')}`;
  const birth = `${1970 + Math.floor(i / 999)}-01-01`;
  return {
    name: '张三', gender: seq % 2 === 1 ? 'male' : 'female', nation: '01', birth, address: '北京市朝阳区朝阳路1号',
    idNumber: body + checkCharacter(body), authority: '北京市公安局朝阳分局', validFrom: '2015-01-01', validTo: '2035-01-01', docType: 'resident',
  };
}

/** One measured check-in, then an unmeasured check-out so the lock's list stays at one code. */
async function checkIn(desk: FrontDesk, card: CardFields): Promise<Sample> {
  const lastByte = desk.line.writeOf(encodeReadResponse(card, photoFor(card.idNumber)));
  const read = desk.events.next('read');
  const verified = desk.events.next('verify');
  desk.reader.insertCard(card);
  const start = await lastByte;
  const { data, at: verifyAt } = await verified;
  const postAt = performance.now();
  const reply = await desk.api('/api/checkins', { readId: data.readId, unit: UNIT, expectedCheckout: new Date(Date.now() + DAY).toISOString() });
  const codeAt = performance.now();
  if (reply.status !== 201) throw new Error(`check-in refused: ${reply.status} ${JSON.stringify(reply.body)}`);
  const { stayId, codes: [issued] } = reply.body as { stayId: string; codes: Array<{ code: string }> };
  const hmac = createHmac('sha256', Buffer.from(desk.codeKey, 'hex')).update(issued!.code, 'ascii').digest('hex');
  await lockHolds(desk, hmac, true);
  const lockAt = performance.now();

  const out = await desk.api(`/api/stays/${stayId}/checkout`, {});
  if (out.status !== 200) throw new Error(`check-out failed: ${out.status} ${JSON.stringify(out.body)}`);
  await lockHolds(desk, hmac, false);
  desk.reader.removeCard();
  return { toCode: codeAt - start, toLock: lockAt - start, toRead: (await read).at - start, toVerify: verifyAt - start, postAlone: codeAt - postAt, codeToLock: lockAt - codeAt };
}

async function lockHolds(desk: FrontDesk, hmac: string, present: boolean, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (desk.lock.codes.some((c) => c.hmac === hmac) !== present) {
    if (performance.now() > until) throw new Error(`the lock's list ${present ? 'never got' : 'kept'} the code`);
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

/** `checkins` measured check-ins on a fresh front desk, after `warmUp` unmeasured ones. */
export async function measureCheckins(checkins: number, warmUp: number): Promise<CheckinResult> {
  const desk = await startFrontDesk();
  try {
    const samples: Sample[] = [];
    for (let i = 0; i < warmUp + checkins; i++) {
      const sample = await checkIn(desk, guest(i));
      if (i >= warmUp) samples.push(sample);
    }
    const of = (key: keyof Sample) => latencySummary(samples.map((s) => s[key]));
    return { toCode: of('toCode'), toLock: of('toLock'), toRead: of('toRead'), toVerify: of('toVerify'), postAlone: of('postAlone'), codeToLock: of('codeToLock') };
  } finally {
    await desk.stop();
  }
}

/** Issue 8 §4. No other system does check-in, so the references are parts of the same chain. */
export const checkinLatencyBench: Benchmark = {
  name: 'checkin-latency',
  async run({ quick, runs }) {
    const checkins = quick ? 10 : 200;
    const results: CheckinResult[] = [];
    for (let i = 0; i < runs; i++) results.push(await measureCheckins(checkins, quick ? 2 : 20));
    const med = (key: keyof Sample): Summary => {
      const all = results.map((r) => r[key]);
      return { p50: median(all.map((s) => s.p50)), p99: median(all.map((s) => s.p99)), max: median(all.map((s) => s.max)), n: checkins * runs };
    };
    const chain = `gateway child process parses it, pushes the card to the face terminal (sim, answers at once), the console sees the verify on GET /api/events and POSTs /api/checkins`;
    const rows: BenchRow[] = [
      {
        benchmark: `check-in: last byte of the SAM read response on the serial pty → 201 with the code (${chain}; ms p50 / p99 / max, ${checkins} check-ins, median of ${runs})`,
        menwei: fmt(med('toCode')),
        baselines: `parts of it: last byte → the read on the console's stream ${fmt(med('toRead'))}; → the face result on it ${fmt(med('toVerify'))}; the POST alone (read and face result already in) ${fmt(med('postAlone'))}`,
        ratios: `POST share of p50 ${round(med('postAlone').p50 / med('toCode').p50, 2)}`,
        goal: '— (issue 8 sets none)',
      },
      {
        benchmark: `check-in: same last byte → lock-sim's list holds the new code's HMAC (after the 201: version hint, the lock's pull, the list; polled every ${LOCK_POLL_MS} ms; ms p50 / p99 / max)`,
        menwei: fmt(med('toLock')),
        baselines: `201 → lock holds it: ${fmt(med('codeToLock'))}`,
        ratios: '—',
        goal: '— (issue 8 sets none)',
      },
    ];
    return rows;
  },
};

const fmt = (s: Summary) => `${round(s.p50)} / ${round(s.p99)} / ${round(s.max)}`;
