// The demo scenario: ten steps through a building's day, each a small function that does
// one thing over the real interfaces (platform commands, card reads, the HTTP API, lock
// keypads, detectors, the uplink) and returns ok or fail with its feed line. `menwei
// demo --scenario-only` exits 0 only when every step had its expected outcome.
import { performance } from 'node:perf_hooks';
import { maskIdNumber, maskName } from '../protocol/id-number.ts';
import { CHECKIN_REASONS } from '../protocol/checkin-reasons.ts';
import type { Feed, Line } from './feed.ts';
import {
  GUEST, SECOND_GUEST, VISITOR, buildingTime, health, readAndVerify, spaced, until,
  type IssuedCode, type ScenarioContext, type StepResult,
} from './scenario-kit.ts';

export type { ScenarioContext } from './scenario-kit.ts';

const UNIT = 'HL-0301';
const OTHER_UNIT = 'HL-0302';
const HOUR_MS = 3_600_000;

/** What later steps need from earlier ones. */
type State = { bookingId?: string; readId?: string; stayId?: string; code?: IssuedCode };

type Step = { n: number; title: Line; run(ctx: ScenarioContext, s: State): Promise<StepResult> };

const ok = (zh: string, en: string): StepResult => ({ ok: true, line: { zh, en } });
const bad = (why: string): StepResult => ({ ok: false, why });

async function booking(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const bookingId = `bk-demo-${Date.now().toString(36)}`;
  const from = new Date(Date.now() - HOUR_MS).toISOString();
  const to = new Date(Date.now() + 2 * 24 * HOUR_MS).toISOString();
  const reply = await ctx.platform.sendCommand('booking.upsert', { bookingId, unit: UNIT, from, to, guests: [{ name: GUEST.name, idNumber: GUEST.idNumber }] });
  if (reply.status !== 'ok') return bad(`booking.upsert replied ${reply.error?.code ?? reply.status}`);
  s.bookingId = bookingId;
  const name = maskName(GUEST.name);
  const window = `${buildingTime(from, ctx.timezone)} → ${buildingTime(to, ctx.timezone)}`;
  return ok(`平台下发预订 ${bookingId}：${name}，${UNIT}，${window}；网关回执 ok`,
    `Booking ${bookingId} arrived from the platform: ${name}, ${UNIT}, ${window}; the gateway replied ok`);
}

async function cardAndFace(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const { readId, score } = await readAndVerify(ctx, GUEST);
  s.readId = readId;
  const [name, id] = [maskName(GUEST.name), maskIdNumber(GUEST.idNumber)];
  const via = ctx.building.serial ? { zh: '串口读卡器', en: 'the serial SAM reader' } : { zh: '网络读卡器', en: 'the network reader' };
  return ok(`${via.zh}读卡：${name}（${id}）；人脸比对 ${score.toFixed(2)}，与证件照一致`,
    `Card read on ${via.en}: ${name} (${id}); the face matches (score ${score.toFixed(2)})`);
}

async function checkin(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const response = await ctx.api.post<{ stayId: string; codes: IssuedCode[]; reason?: string }>('/api/checkins', { readId: s.readId, unit: UNIT, bookingId: s.bookingId });
  const code = response.body.codes?.[0];
  if (response.status !== 201 || !code) return bad(`HTTP ${response.status} ${response.body.reason ?? ''}`.trim());
  s.stayId = response.body.stayId;
  s.code = code;
  const until = buildingTime(code.validTo, ctx.timezone);
  return ok(`入住成功，开锁码已发放：${spaced(code.code)}（${UNIT}，有效至 ${until}）`,
    `Check-in accepted, code issued: ${spaced(code.code)} (${UNIT}, until ${until})`);
}

async function enter(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const lock = ctx.building.lock(UNIT);
  const code = s.code!;
  // The gateway hints the lock after the commit and the lock pulls on its own; a pull
  // here only covers a lost hint, as the lock's 5-minute pull would (PROTOCOL.md §1.3).
  const listed = () => lock.codes.some((c) => c.codeId === code.codeId);
  const hinted = await until('the lock to pull the code', () => (listed() ? true : undefined), 3_000).catch(() => false);
  if (!hinted) await lock.pull();
  if (!listed()) return bad('the code is not in the lock’s list');
  const entry = await lock.enter(code.code);
  if (!entry.ok) return bad(`the lock said ${entry.reason}`);
  await ctx.platform.waitFor((e) => e.class === 'occupancy' && e.type === 'entry' && e.data.codeId === code.codeId, 10_000, 'occupancy/entry');
  return ok(`门锁已拉取密码（列表版本 v${lock.version}），客人输入密码开门；平台收到进门记录`,
    `The lock pulled the code (list v${lock.version}) and the guest entered; the platform got occupancy/entry`);
}

async function faceMismatch(ctx: ScenarioContext): Promise<StepResult> {
  const desk = ctx.building.desk;
  desk.score = 0.4;
  let read: { readId: string; score: number };
  try {
    read = await readAndVerify(ctx, SECOND_GUEST);
  } finally {
    desk.score = 0.93;
  }
  const expectedCheckout = new Date(Date.now() + 24 * HOUR_MS).toISOString();
  const response = await ctx.api.post<{ reason?: string; message?: Line }>('/api/checkins', { readId: read.readId, unit: OTHER_UNIT, expectedCheckout });
  const { reason, message } = response.body;
  if (response.status !== 422 || reason !== 'FACE_MISMATCH') return bad(`expected 422 FACE_MISMATCH, got ${response.status} ${reason ?? ''}`.trim());
  if (message?.zh !== CHECKIN_REASONS.FACE_MISMATCH.zh || message.en !== CHECKIN_REASONS.FACE_MISMATCH.en) return bad('the refusal has no zh/en message');
  await ctx.platform.waitFor((e) => e.type === 'checkin_refused' && e.data.reason === reason, 10_000, 'security/checkin_refused');
  const who = maskName(SECOND_GUEST.name);
  return ok(`第二位客人 ${who} 人脸比对 ${read.score.toFixed(2)}，拒绝入住：${reason}「${message.zh}」`,
    `Second guest ${who}: face score ${read.score.toFixed(2)}, check-in refused: ${reason} "${message.en}"`);
}

async function visitor(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const { readId } = await readAndVerify(ctx, VISITOR);
  const response = await ctx.api.post<{ visitId: string; codes: IssuedCode[]; reason?: string }>('/api/visitors', { readId, stayId: s.stayId });
  const code = response.body.codes?.[0];
  if (response.status !== 201 || !code) return bad(`HTTP ${response.status} ${response.body.reason ?? ''}`.trim());
  if (code.uses !== 1) return bad(`expected a once code, got uses ${String(code.uses)}`);
  const until = buildingTime(code.validTo, ctx.timezone);
  const who = maskName(VISITOR.name);
  return ok(`访客 ${who} 读卡核验通过，获得一次性密码：${spaced(code.code)}（${UNIT}，限用 1 次，有效至 ${until}）`,
    `Visitor ${who} read and verified, once code issued: ${spaced(code.code)} (${UNIT}, 1 use, until ${until})`);
}

async function lockout(ctx: ScenarioContext): Promise<StepResult> {
  const lock = ctx.building.lock(OTHER_UNIT);
  const wrong = ['13572468', '24681357', '97531864', '86420975', '31415926'];
  const answers: string[] = [];
  for (const code of wrong) {
    const entry = await lock.enter(code);
    answers.push(entry.ok ? 'opened' : entry.reason);
  }
  // PROTOCOL.md §1.2 leaves the lockout to the lock: LockSim locks after 5 wrong codes in 5 minutes.
  if (answers.at(-1) !== 'locked_out' || answers.includes('opened')) return bad(`the keypad answered ${answers.join(', ')}`);
  const event = await ctx.platform.waitFor((e) => e.type === 'lockout' && e.deviceId === lock.options.id, 10_000, 'security/lockout');
  const until = buildingTime(String(event.data.until), ctx.timezone);
  return ok(`${OTHER_UNIT} 连续输错 5 次密码，键盘锁定至 ${until}；平台收到 security/lockout`,
    `5 wrong codes at ${OTHER_UNIT}: the keypad is locked out until ${until}; the platform got security/lockout`);
}

async function smokeAlarm(ctx: ScenarioContext): Promise<StepResult> {
  const detector = ctx.building.smoke(UNIT);
  if (!detector) return bad(`no MQTT detector in ${UNIT}`);
  const publishedAt = await detector.alarm(480);
  const alarm = await ctx.platform.waitFor((e) => e.class === 'alarm' && e.type === 'smoke' && e.deviceId === detector.options.id, 10_000, 'alarm/smoke');
  const ms = Math.round(alarm.receivedMono - publishedAt);
  await detector.clear();
  await ctx.platform.waitFor((e) => e.type === 'smoke_clear' && e.deviceId === detector.options.id, 10_000, 'alarm/smoke_clear');
  const wired = await wiredAlarm(ctx);
  const occupants = String(alarm.data.occupants);
  return ok(`${UNIT} 烟雾报警送达平台，用时 ${ms} ms（登记在住 ${occupants} 人）${wired?.zh ?? ''}`,
    `Smoke alarm from ${UNIT} reached the platform in ${ms} ms (${occupants} registered occupant(s))${wired?.en ?? ''}`);
}

/** The same over the Modbus bus: the time includes waiting for the next poll (PROTOCOL.md §5). */
async function wiredAlarm(ctx: ScenarioContext): Promise<Line | undefined> {
  const bus = ctx.building.wiredBus;
  const unit = ctx.building.wiredUnits()[0];
  if (!bus || unit?.wired === undefined) return undefined;
  const at = performance.now();
  bus.setState(unit.wired, { alarm: true, density: 520 });
  const alarm = await ctx.platform.waitFor((e) => e.class === 'alarm' && e.type === 'smoke' && e.deviceId === unit.smoke, 10_000, 'the wired alarm/smoke');
  const ms = Math.round(alarm.receivedMono - at);
  bus.setState(unit.wired, { alarm: false, density: 0 });
  await ctx.platform.waitFor((e) => e.type === 'smoke_clear' && e.deviceId === unit.smoke, 10_000, 'the wired alarm/smoke_clear');
  return {
    zh: `；有线探测器 ${unit.code}（Modbus 总线，地址 ${unit.wired}）报警用时 ${ms} ms（含轮询等待）`,
    en: `; the wired detector in ${unit.code} (Modbus address ${unit.wired}) in ${ms} ms, polling included`,
  };
}

/** Long enough for the gateway's reconnect backoff to take a few steps (gateway/forwarder/backoff.ts). */
const OUTAGE_MS = 1_500;
const BACKLOG_UNITS = ['HL-0101', 'HL-0102', 'HL-0103', 'HL-0104', 'HL-0201'];

async function uplinkOutage(ctx: ScenarioContext): Promise<StepResult> {
  const cutAt = performance.now();
  await ctx.uplink.cut();
  await until('the gateway to see the uplink down', async () => ((await health(ctx)).upstream === 'down' ? true : undefined));
  const expected = await makeBacklog(ctx);
  const backlog = await until('the backlog in the outbox', async () => {
    const { outboxPending } = await health(ctx);
    return outboxPending >= expected.length ? outboxPending : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (performance.now() - cutAt))));
  const before = ctx.platform.events.length;
  await ctx.uplink.restore();
  const restoredAt = performance.now();
  const outageS = ((restoredAt - cutAt) / 1000).toFixed(1);
  await until('the backlog to drain', async () => ((await health(ctx)).outboxPending === 0 ? true : undefined), 20_000);
  for (const key of expected) await ctx.platform.waitFor((e) => e.receivedMono > cutAt && `${e.deviceId}/${e.class}/${e.type}` === key, 10_000, key);
  const drained = ctx.platform.events.slice(before);
  const drainMs = Math.round(Math.max(...drained.map((e) => e.receivedMono)) - restoredAt);
  return ok(`上行链路中断 ${outageS} 秒后恢复：积压 ${backlog} 条事件，恢复后 ${drainMs} ms 内补发完毕（平台新收到 ${drained.length} 条）`,
    `Uplink cut for ${outageS} s and restored: a backlog of ${backlog} events drained within ${drainMs} ms (${drained.length} new at the platform)`);
}

/** While the uplink is down: self-tests of five detectors and five doors opened from inside. */
async function makeBacklog(ctx: ScenarioContext): Promise<string[]> {
  const expected: string[] = [];
  for (const unit of BACKLOG_UNITS) {
    const smoke = ctx.building.smoke(unit);
    const lock = ctx.building.lock(unit);
    if (smoke) {
      await smoke.test();
      expected.push(`${smoke.options.id}/device/test`);
    }
    await lock.unlock('inside');
    expected.push(`${lock.options.id}/occupancy/entry`);
  }
  return expected;
}

async function checkout(ctx: ScenarioContext, s: State): Promise<StepResult> {
  const response = await ctx.api.post<{ revokedCodes: number }>(`/api/stays/${s.stayId}/checkout`, {});
  if (response.status !== 200) return bad(`HTTP ${response.status}`);
  await ctx.platform.waitFor((e) => e.class === 'registration' && e.type === 'checkout' && e.data.stayId === s.stayId, 10_000, 'registration/checkout');
  const lock = ctx.building.lock(UNIT);
  await lock.pull();
  const entry = await lock.enter(s.code!.code);
  if (entry.ok) return bad('the old code still opens the door');
  const n = response.body.revokedCodes;
  return ok(`退房完成：撤销 ${n} 个密码，平台收到退房登记；旧密码已无法开门`,
    `Checked out: ${n} code(s) revoked and registration/checkout reached the platform; the old code no longer opens the door`);
}

const STEPS: Step[] = [
  { n: 1, title: { zh: '预订到达', en: 'A booking arrives' }, run: booking },
  { n: 2, title: { zh: '读卡与人脸核验', en: 'Card read and face match' }, run: cardAndFace },
  { n: 3, title: { zh: '办理入住', en: 'Check-in' }, run: checkin },
  { n: 4, title: { zh: '门锁取码，客人进门', en: 'The lock pulls the code, the guest enters' }, run: enter },
  { n: 5, title: { zh: '人脸不符，拒绝入住', en: 'A face mismatch is refused' }, run: faceMismatch },
  { n: 6, title: { zh: '访客一次性密码', en: 'A visitor’s once code' }, run: visitor },
  { n: 7, title: { zh: '输错密码锁定键盘', en: 'Wrong codes end in a lockout' }, run: lockout },
  { n: 8, title: { zh: '烟雾报警到达平台', en: 'A smoke alarm reaches the platform' }, run: smokeAlarm },
  { n: 9, title: { zh: '上行链路中断与恢复', en: 'The uplink is cut and restored' }, run: uplinkOutage },
  { n: 10, title: { zh: '退房', en: 'Check-out' }, run: checkout },
];

export const STEP_COUNT = STEPS.length;

const SETTLE_MS = 150;

export type ScenarioOutcome = { ok: true } | { ok: false; step: number; title: Line; why: string };

/** Runs the steps in order; the first failure ends the run, and the rest are shown as skipped. */
export async function runScenario(ctx: ScenarioContext, feed: Feed, stepTimeoutMs = 30_000): Promise<ScenarioOutcome> {
  const state: State = {};
  for (const step of STEPS) {
    feed.hold();
    const result = await runStep(step, ctx, state, stepTimeoutMs);
    const line = result.ok ? result.line : { zh: `${step.title.zh}：失败（${result.why}）`, en: `${step.title.en}: FAILED (${result.why})` };
    feed.step(step.n, line, result.ok ? 'ok' : 'failed');
    // What the platform receives a moment after a step (a registration after the HTTP
    // answer) prints under that step rather than under the next one.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if (result.ok) continue;
    for (const later of STEPS.slice(step.n)) feed.step(later.n, { zh: `${later.title.zh}：跳过`, en: `${later.title.en}: skipped` }, 'skipped');
    return { ok: false, step: step.n, title: step.title, why: result.why };
  }
  return { ok: true };
}

/** A step that throws or hangs is a failed step, not a failed demo. */
async function runStep(step: Step, ctx: ScenarioContext, state: State, timeoutMs: number): Promise<StepResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no outcome within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([step.run(ctx, state), timeout]);
  } catch (err) {
    return bad(err instanceof Error ? err.message : String(err));
  } finally {
    clearTimeout(timer);
  }
}
